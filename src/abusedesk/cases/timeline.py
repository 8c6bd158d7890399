"""The case timeline and the audit row that go with every change to a case.

`record_change` is the one way a service writes both: the timeline entry the analyst reads on
the case and the audit row (actor, reason, before, after) the log keeps, in the caller's
transaction. A change by a person (other than opening the case) also stamps the case's first
action, which the first-response SLA is measured by.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from abusedesk.clock import Clock
from abusedesk.storage.audit import write_audit
from abusedesk.storage.models import Case, CaseEvent

# Actors that are machinery, not people: their entries do not count as a first response.
_MACHINE_PREFIXES = ("rule:", "detection", "intake", "system")
# Audit action names kept from the first case services, so audit queries keep working.
_ACTIONS = {"opened": "case.open", "closed": "case.close"}


def add_event(
    session: Session, case_id: int, kind: str, actor: str, body: dict[str, Any], *, now: datetime
) -> None:
    session.add(CaseEvent(case_id=case_id, ts=now, kind=kind, actor=actor, body=body))


def record_change(
    session: Session,
    clock: Clock,
    case: Case,
    *,
    kind: str,
    actor: str,
    reason: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> None:
    now = clock.now()
    entry = dict(body or after or {})
    if reason:
        entry["reason"] = reason
    add_event(session, case.id, kind, actor, entry, now=now)
    write_audit(
        session,
        clock,
        actor=actor,
        action=_ACTIONS.get(kind, f"case.{kind}"),
        object_type="case",
        object_id=str(case.id),
        reason=reason,
        before=before,
        after=after,
    )
    case.updated_at = now
    if (
        case.first_action_at is None
        and kind != "opened"
        and not actor.startswith(_MACHINE_PREFIXES)
    ):
        case.first_action_at = now


def is_person(actor: str) -> bool:
    """Whether the actor is a person (whose first entry on a case is its first response)."""
    return not actor.startswith(_MACHINE_PREFIXES)


def record_row_change(
    session: Session,
    clock: Clock,
    case_id: int,
    *,
    kind: str,
    actor: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """`record_change` for a case changed by one UPDATE statement rather than loaded: the
    timeline entry and the audit row (the statement sets updated_at and first_action_at)."""
    add_event(session, case_id, kind, actor, dict(after or {}), now=clock.now())
    write_audit(
        session,
        clock,
        actor=actor,
        action=_ACTIONS.get(kind, f"case.{kind}"),
        object_type="case",
        object_id=str(case_id),
        before=before,
        after=after,
    )


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
