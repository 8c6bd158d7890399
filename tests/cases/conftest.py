"""Case-work fixtures: a workspace on a fixed clock, accounts in the registry, and signals as
detection would record them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from abusedesk.cases.services import SignalDraft, do_record_signals
from abusedesk.clock import FixedClock
from abusedesk.detection.spec import CaseRouting, RuleSpec
from abusedesk.settings import Settings
from abusedesk.storage.models import Account, AccountEntity, Entity
from abusedesk.workspace import Workspace

# A Monday.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ws(settings: Settings, clock: FixedClock) -> Iterator[Workspace]:
    workspace = Workspace(settings, clock=clock)
    yield workspace
    workspace.close()


def rule(
    rule_id: str = "pump-otp",
    *,
    policy: str = "artificially-inflated-traffic",
    severity: str = "high",
    queue: str = "fraud",
    priority: str = "P2",
) -> RuleSpec:
    return RuleSpec(
        id=rule_id,
        description=f"{rule_id} fired",
        policy=policy,
        severity=severity,  # type: ignore[arg-type]
        when="otp_unverified_1h >= 30",
        verdict="review",
        case=CaseRouting(queue=queue, priority=priority),
    )


Fire = Callable[..., list[int]]


@pytest.fixture
def fire(ws: Workspace, clock: FixedClock) -> Fire:
    """Record a live rule's match on an account now; the ids of cases opened."""
    counter = iter(range(1_000_000))

    def _fire(account: str, spec: RuleSpec | None = None, **features: object) -> list[int]:
        spec = spec or rule()
        draft = SignalDraft(
            rule=spec,
            account_id=account,
            event_id=f"ev{next(counter)}-{account}-{clock.now().timestamp()}",
            event_type="message",
            event_ts=clock.now() - timedelta(minutes=1),
            features=dict(features) or {"otp_unverified_1h": 41},
        )
        return do_record_signals(ws.store, ws.clock, [draft], desk=ws.desk).cases_opened

    return _fire


@pytest.fixture
def account(ws: Workspace) -> Callable[..., str]:
    def _account(account_id: str, *entities: tuple[str, str], **fields: str) -> str:
        with ws.store.transaction() as session:
            session.add(
                Account(account_id=account_id, first_seen=T0, last_seen=T0, event_count=1, **fields)
            )
            for kind, value in entities:
                entity = session.execute(
                    select(Entity).where(Entity.kind == kind, Entity.value == value)
                ).scalar_one_or_none()
                if entity is None:
                    entity = Entity(kind=kind, value=value, first_seen=T0, last_seen=T0)
                    session.add(entity)
                    session.flush()
                session.add(
                    AccountEntity(
                        account_id=account_id,
                        entity_id=entity.id,
                        first_seen=T0,
                        last_seen=T0,
                        event_count=1,
                    )
                )
        return account_id

    return _account
