"""Where enforcement touches a case: a timeline entry, and the case marked as actioned.

Kept to these two functions so that the case lifecycle (statuses, SLA) stays with cases/; at
merge with the case-lifecycle work, `mark_case_actioned` calls its status service instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from abusedesk.errors import NotFoundError
from abusedesk.storage.models import Case, CaseEvent


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
    session.add(CaseEvent(case_id=case_id, ts=now, kind=kind, actor=actor, body=body))


def mark_case_actioned(session: Session, case_id: int, now: datetime) -> None:
    # Main's cases have no "actioned" status yet (open, pending, closed): moving the case would
    # drop it from the open queue and make new signals open a second case. Until the case
    # lifecycle lands, an action only touches updated_at; the timeline entry carries the rest.
    case = session.get(Case, case_id)
    if case is not None:
        case.updated_at = now


def open_appeal_case(
    session: Session, *, account_id: str, policy: str, title: str, now: datetime, due: datetime
) -> Case:
    """The case an appeal is worked in: queue "appeals", its own SLA. At merge with the case
    lifecycle this calls its open-case service."""
    case = Case(
        account_id=account_id,
        policy=policy,
        queue="appeals",
        priority="P2",
        status="open",
        title=title,
        rules=[],
        severity="medium",
        signal_count=0,
        opened_at=now,
        updated_at=now,
        first_signal_at=now,
        last_signal_at=now,
        sla_due_at=due,
    )
    session.add(case)
    session.flush()
    return case


def close_appeal_case(session: Session, case_id: int, *, outcome: str, now: datetime) -> None:
    case = session.get(Case, case_id)
    if case is not None:
        case.status = "closed"
        case.outcome = outcome
        case.closed_at = now
        case.updated_at = now
