"""Escalating a probation back to its case: the case is worked again.

An open case moves back to `triage` (from `actioned`, so it can be claimed again); a closed one
is reopened to `triage` with its clocks restarted, unless the account already has another open
case for the policy, which then takes the escalation (one open case per account and policy).
Either way the case's `escalations` count goes up and its timeline says why, with the audit row
(cases/timeline.py: record_change), in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from abusedesk.cases.desk import Desk
from abusedesk.cases.lifecycle import CaseFacts, open_case
from abusedesk.cases.sla import clocks
from abusedesk.cases.timeline import iso, record_change
from abusedesk.clock import Clock
from abusedesk.errors import NotFoundError
from abusedesk.storage.models import Case


def return_to_case(
    session: Session,
    clock: Clock,
    desk: Desk,
    *,
    case_id: int,
    actor: str,
    reason: str,
    body: dict[str, Any],
) -> Case:
    """The case the escalation landed on (the probation's case, or the open one replacing it)."""
    case = session.get(Case, case_id)
    while case is not None and case.merged_into_id is not None:
        case = session.get(Case, case.merged_into_id)
    if case is None:
        raise NotFoundError(f"no case {case_id}")
    now = clock.now()
    before = {"status": case.status, "resolution": case.resolution, "escalations": case.escalations}
    if case.status == "closed":
        facts = CaseFacts(case.account_id, case.policy, case.severity, case.priority, "manual", "")
        other = open_case(session, desk, facts, now)
        if other is not None:
            case = other
            before = {"status": case.status, "escalations": case.escalations}
        else:
            queue = desk.queues.queues.get(case.queue) or desk.queues.get(desk.queues.default)
            case.status, case.resolution, case.closed_at = "triage", None, None
            case.first_response_due_at, case.resolution_due_at = clocks(queue, case.priority, now)
    if case.status == "actioned":
        case.status = "triage"
    case.escalations += 1
    record_change(
        session,
        clock,
        case,
        kind="probation.escalated",
        actor=actor,
        reason=reason,
        before=before,
        after={
            "status": case.status,
            "escalations": case.escalations,
            "resolution_due_at": iso(case.resolution_due_at),
        },
        body=body,
    )
    return case
