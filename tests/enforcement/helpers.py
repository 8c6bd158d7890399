"""Helpers shared by the enforcement tests."""

from __future__ import annotations

from datetime import UTC, datetime

from abusedesk.storage.models import Case
from abusedesk.workspace import Workspace

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def open_case(ws: Workspace, account_id: str, policy: str) -> int:
    with ws.store.transaction() as session:
        case = Case(
            account_id=account_id,
            policy=policy,
            queue="email",
            priority="P2",
            status="open",
            title=f"{policy} on {account_id}",
            rules=["r1"],
            severity="high",
            signal_count=1,
            opened_at=T0,
            updated_at=T0,
            first_signal_at=T0,
            last_signal_at=T0,
        )
        session.add(case)
        session.flush()
        return case.id
