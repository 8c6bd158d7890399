"""Who works a case: claim-next, assign and reassign, release, escalate, snooze.

Claim-next hands an analyst the most urgent unassigned case of the queues they may work:
highest priority, then earliest resolution due time, then the oldest. Two analysts asking at
the same moment never get the same case. The claim is one UPDATE whose WHERE picks the case
and re-checks it is still unassigned:

- PostgreSQL: the pick is `SELECT … FOR UPDATE SKIP LOCKED`, so a second claimer skips the row
  the first holds and takes the next one instead of waiting for it;
- SQLite: writers are serialised by the database lock, and the UPDATE is the transaction's
  first statement, so it reads the newest committed state (a read before it would pin an older
  snapshot and fail to upgrade to a write).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, text

from abusedesk.cases.desk import Desk
from abusedesk.cases.lifecycle import load_case, require_open
from abusedesk.cases.sla import clocks
from abusedesk.cases.states import CLAIMABLE_STATES
from abusedesk.cases.timeline import is_person, iso, record_change, record_row_change
from abusedesk.clock import Clock
from abusedesk.errors import ConflictError, InputError
from abusedesk.storage.db import Store
from abusedesk.storage.models import Case, UtcDateTime

# The claimable states are written into the SQL, not bound: the partial index
# ix_cases_claimable (storage/models.py) holds exactly the rows of this predicate, and a planner
# only uses a partial index when the query's WHERE states its condition literally. Walking it
# in (priority, due, id) order, the first row in one of the analyst's queues is the answer.
CLAIMABLE_SQL = "assignee IS NULL AND status IN ({})".format(
    ", ".join(f"'{s}'" for s in CLAIMABLE_STATES)
)
_PICK = (
    "SELECT id FROM cases{hint} WHERE " + CLAIMABLE_SQL + " AND queue IN :queues "
    "AND merged_into_id IS NULL AND (snoozed_until IS NULL OR snoozed_until <= :now) "
    "ORDER BY priority, resolution_due_at, id LIMIT 1"
)


def do_claim_next_case(
    store: Store, clock: Clock, *, analyst: str, queues: Sequence[str]
) -> int | None:
    """Assign the most urgent claimable case of `queues` to `analyst`; its id, or None."""
    if not analyst.strip():
        raise InputError("claim-next needs the analyst's name")
    if not queues:
        return None
    now = clock.now()
    if store.dialect == "postgresql":
        pick = _PICK.format(hint="") + " FOR UPDATE SKIP LOCKED"
    else:
        # Without statistics SQLite prefers the assignee index and sorts every unassigned case
        # (measured: 190 ms at 100,000 open cases); the hint keeps it on the ordered walk.
        pick = _PICK.format(hint=" INDEXED BY ix_cases_claimable")
    # The claim, its first-action time and the queue for the timeline in one statement: no
    # load of the case, no second UPDATE from the ORM (each round trip counts under load).
    first_action = (
        ", first_action_at = coalesce(first_action_at, :now)" if is_person(analyst) else ""
    )
    statement = text(
        f"UPDATE cases SET assignee = :analyst, claimed_at = :now, updated_at = :now{first_action}, "
        f"status = CASE WHEN status = 'new' THEN 'triage' ELSE status END "
        f"WHERE id = ({pick}) AND assignee IS NULL RETURNING id, queue"
    ).bindparams(
        bindparam("queues", expanding=True),
        bindparam("now", type_=UtcDateTime()),
    )
    with store.transaction() as session:
        row = session.execute(
            statement,
            {"analyst": analyst, "now": now, "queues": list(queues)},
        ).first()
        if row is None:
            return None
        case_id = int(row[0])
        record_row_change(
            session,
            clock,
            case_id,
            kind="claimed",
            actor=analyst,
            before={"assignee": None},
            after={"assignee": analyst, "queue": str(row[1])},
        )
        return case_id


def _claimed(case: Case, assignee: str | None, now: datetime) -> None:
    case.assignee = assignee
    if assignee is not None:
        case.claimed_at = now
        if case.status == "new":
            case.status = "triage"


def do_assign_case(
    store: Store, clock: Clock, *, case_id: int, assignee: str, actor: str, reason: str = ""
) -> None:
    """Assign (or reassign) a case to an analyst."""
    if not assignee.strip():
        raise InputError("name the analyst to assign the case to")
    with store.transaction() as session:
        case = load_case(session, case_id, for_update=True)
        require_open(case)
        if case.assignee == assignee:
            return
        before = {"assignee": case.assignee}
        _claimed(case, assignee, clock.now())
        kind = "assigned" if before["assignee"] is None else "reassigned"
        record_change(
            session,
            clock,
            case,
            kind=kind,
            actor=actor,
            reason=reason or None,
            before=before,
            after={"assignee": assignee},
        )


def do_release_case(
    store: Store, clock: Clock, *, case_id: int, actor: str, reason: str = ""
) -> None:
    """Put a case back in its queue, unassigned."""
    with store.transaction() as session:
        case = load_case(session, case_id, for_update=True)
        require_open(case)
        if case.assignee is None:
            raise ConflictError(f"case {case_id} is not assigned")
        before = {"assignee": case.assignee}
        case.assignee = None
        record_change(
            session,
            clock,
            case,
            kind="released",
            actor=actor,
            reason=reason or None,
            before=before,
            after={"assignee": None},
        )


def do_escalate_case(
    store: Store,
    clock: Clock,
    desk: Desk,
    *,
    case_id: int,
    actor: str,
    reason: str,
    to_queue: str | None = None,
) -> str:
    """Move a case to its queue's escalation target (or `to_queue`), unassigned; the queue."""
    if not reason.strip():
        raise InputError("give a reason for the escalation")
    with store.transaction() as session:
        case = load_case(session, case_id, for_update=True)
        require_open(case)
        current = desk.queues.queues.get(case.queue)
        target = to_queue or (current.escalate_to if current else None)
        if target is None:
            raise ConflictError(f"queue {case.queue!r} has no escalation target; name one")
        queue = desk.queues.asked(target)
        if target == case.queue:
            raise ConflictError(f"case {case_id} is in {target!r} already")
        before = {"queue": case.queue, "assignee": case.assignee}
        case.queue, case.assignee = target, None
        case.escalations += 1
        # The clocks keep the case's age: an escalation does not buy time.
        case.first_response_due_at, case.resolution_due_at = clocks(
            queue, case.priority, case.opened_at
        )
        record_change(
            session,
            clock,
            case,
            kind="escalated",
            actor=actor,
            reason=reason,
            before=before,
            after={
                "queue": target,
                "assignee": None,
                "resolution_due_at": iso(case.resolution_due_at),
            },
        )
        return target


def do_snooze_case(
    store: Store, clock: Clock, *, case_id: int, until: datetime, actor: str, reason: str
) -> None:
    """Keep a case out of claim-next until a time (its SLA clocks keep running)."""
    if until.tzinfo is None:
        raise InputError("give the snooze end with a time zone")
    if until <= clock.now():
        raise InputError("snooze until a time in the future")
    if not reason.strip():
        raise InputError("give a reason for the snooze")
    with store.transaction() as session:
        case = load_case(session, case_id, for_update=True)
        require_open(case)
        before = {"snoozed_until": iso(case.snoozed_until)}
        case.snoozed_until = until
        record_change(
            session,
            clock,
            case,
            kind="snoozed",
            actor=actor,
            reason=reason,
            before=before,
            after={"snoozed_until": iso(until)},
        )
