"""Where enforcement touches a case: timeline entries, the case marked `actioned`, and the
cases appeals are worked in. Each runs inside the caller's transaction (an action and its case
change commit together); the case lifecycle itself (states, queues, clocks) is cases/'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from abusedesk.cases.states import OPEN_STATES
from abusedesk.cases.timeline import add_event
from abusedesk.errors import NotFoundError
from abusedesk.storage.models import Case

APPEALS_QUEUE: Final = "appeals"
# An appeal that overturns says the action was wrong: no violation. One upheld confirms it.
_APPEAL_RESOLUTION: Final = {"overturned": "no_violation", "upheld": "violation_confirmed"}


def check_case(session: Session, case_id: int, account_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_id}")
    if case.account_id != account_id:
        raise NotFoundError(f"case {case_id} is about account {case.account_id}, not {account_id}")
    return case


def add_timeline(
    session: Session, case_id: int, *, kind: str, actor: str, body: dict[str, Any], now: datetime
) -> None:
    add_event(session, case_id, kind, actor, body, now=now)


def mark_case_actioned(session: Session, case_id: int, now: datetime) -> None:
    """An action taken on an open case moves it to `actioned` (still open: later signals and
    the appeal attach to it); the action's own timeline entry and audit row say why."""
    case = session.get(Case, case_id)
    if case is None or case.status not in OPEN_STATES:
        return
    if case.status != "actioned":
        add_event(
            session,
            case_id,
            "status",
            "enforcement",
            {"before": case.status, "status": "actioned"},
            now=now,
        )
        case.status = "actioned"
    case.updated_at = now


def open_appeal_case(
    session: Session, *, account_id: str, policy: str, title: str, now: datetime, due: datetime
) -> Case:
    """The case an appeal is worked in: the appeals queue, its own SLA, source `appeal` (so
    detection never takes it for the account's open case of the policy)."""
    case = Case(
        account_id=account_id,
        policy=policy,
        queue=APPEALS_QUEUE,
        priority="P2",
        status="new",
        source="appeal",
        title=title[:512],
        rules=[],
        severity="medium",
        signal_count=0,
        opened_at=now,
        updated_at=now,
        first_signal_at=now,
        last_signal_at=now,
        first_response_due_at=due,
        resolution_due_at=due,
        escalations=0,
    )
    session.add(case)
    session.flush()
    return case


def close_appeal_case(session: Session, case_id: int, *, outcome: str, now: datetime) -> None:
    case = session.get(Case, case_id)
    if case is None or case.status == "closed":
        return
    resolution = _APPEAL_RESOLUTION.get(outcome, "escalated_out")
    add_event(
        session,
        case_id,
        "closed",
        "appeals",
        {"status": "closed", "resolution": resolution, "appeal": outcome},
        now=now,
    )
    case.status, case.resolution, case.closed_at, case.updated_at = (
        "closed",
        resolution,
        now,
        now,
    )
