from __future__ import annotations

from datetime import UTC, datetime

import pytest

from abusedesk.clock import FixedClock
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import Enforcement, do_take_action
from abusedesk.storage.models import Account, Case, Signal
from abusedesk.workspace import Workspace

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# What a complaint-rate signal stores: the feature values that tripped the rule, plus fields a
# notice must never show (who complained, the spam trap that was hit).
FEATURES = {
    "complaint_rate_24h": 0.0062,
    "delivered_24h": 10192,
    "reporter": "abuse@isp.example",
    "spamtrap_hits_24h": 3,
    "trap_address": "trap@honeypot.example",
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def enf(workspace: Workspace, clock: FixedClock) -> Enforcement:
    return Enforcement(workspace.store, clock, workspace.catalogue, None)


@pytest.fixture
def paused(workspace: Workspace, enf: Enforcement) -> int:
    """A paused account with a case holding one signal; returns the action id."""
    with workspace.store.transaction() as s:
        s.add(
            Account(
                account_id="AC123",
                first_seen=T0,
                last_seen=T0,
                event_count=1,
                status="active",
                email="admin@customer.example",
                company="Customer Ltd",
            )
        )
        case = Case(
            account_id="AC123",
            policy="email-complaint-rate",
            queue="email",
            priority="P2",
            status="open",
            title="complaints",
            rules=["complaint-rate"],
            severity="high",
            signal_count=1,
            opened_at=T0,
            updated_at=T0,
            first_signal_at=T0,
            last_signal_at=T0,
        )
        s.add(case)
        s.flush()
        s.add(
            Signal(
                account_id="AC123",
                rule_id="complaint-rate",
                policy="email-complaint-rate",
                severity="high",
                verdict="review",
                mode="live",
                event_id="e1",
                event_type="complaint",
                event_ts=T0,
                features=FEATURES,
                hits=1,
                last_hit_at=T0,
                case_id=case.id,
                created_at=T0,
            )
        )
        case_id = case.id
    result = do_take_action(
        enf,
        ActionRequest(
            account_id="AC123",
            actor="ana",
            reason="complaints over 0.1 %",
            kind="pause",
            policy="email-complaint-rate",
            case_id=case_id,
            override_reason="second breach this month",
        ),
    )
    return int(result.action["id"])


EXAMPLES = [
    {
        "to": "jane.doe@gmail.example",
        "ts": "2026-11-30T09:12:00Z",
        "body": "Last chance! Reply to sales@customer.example or call +1 415 555 0100",
    },
    {"to": "+2348031234567", "ts": "2026-11-30T09:13:00Z", "body": "Your code expires today"},
]
