"""Opening, moving and closing cases: the lifecycle services.

One open case per account and policy: `case_for` finds it or opens one, routed to a queue with
its SLA clocks set; detection (services.do_record_signals), report intake (reports.py) and a
person (`do_open_case`) all open cases through it. The database holds the rule too (the partial
unique index ux_cases_one_open, migration 0009): when two writers both find no open case and
both open one, the second insert fails, and `retry_open_conflict` runs its unit of work again,
which now finds the first writer's case and attaches to it. Writers lock cases in (account,
policy) order, and a transaction PostgreSQL aborts as a deadlock or a serialization failure
runs again too (two ingests of overlapping files write the same accounts' cases). When the same account and policy fire
again soon after a `no_violation` close, the new case links the closed one (`reopened_from_id`), so
the analyst sees the earlier decision.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from abusedesk.cases.desk import Desk
from abusedesk.cases.sla import clocks
from abusedesk.cases.states import OPEN_STATES, PRIORITIES, RESOLUTIONS, STATUSES, resolution_named
from abusedesk.cases.timeline import add_event, iso, record_change
from abusedesk.clock import Clock
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.storage.db import Store
from abusedesk.storage.models import Account, Case

P = ParamSpec("P")
R = TypeVar("R")
OPEN_CONFLICT_ATTEMPTS: Final = 3
# PostgreSQL's deadlock_detected and serialization_failure: the server rolled the transaction
# back and it may simply run again.
RETRYABLE_SQLSTATES: Final = frozenset({"40P01", "40001"})


def is_open_case_conflict(exc: IntegrityError) -> bool:
    """Whether the insert or reopen broke ux_cases_one_open (PostgreSQL names the index,
    SQLite the columns)."""
    message = str(exc.orig)
    return "ux_cases_one_open" in message or "cases.account_id, cases.policy" in message


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return is_open_case_conflict(exc)
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_open_conflict(work: Callable[P, R]) -> Callable[P, R]:
    """Run a unit of work (one transaction) again when it lost the race to open an account
    and policy's case (the retry's `case_for` finds the case the other writer opened), or
    when the database aborted it as a deadlock or a serialization failure."""

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, OPEN_CONFLICT_ATTEMPTS + 1):
            try:
                return work(*args, **kwargs)
            except DBAPIError as exc:
                if attempt == OPEN_CONFLICT_ATTEMPTS or not _retryable(exc):
                    raise
        raise AssertionError("unreachable")

    return run


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What routing and the first timeline entry need to open a case."""

    account_id: str
    policy: str
    severity: str
    priority: str
    source: str  # detection, report, manual
    title: str
    suggested_queue: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def open_case(
    session: Session, desk: Desk, facts: CaseFacts, now: datetime, *, for_update: bool = False
) -> Case | None:
    """The open case of the account and policy, or None. `for_update` locks it (PostgreSQL),
    so writers attaching to it at once add their counts one after the other."""
    del desk, now
    query = (
        select(Case)
        .where(
            Case.account_id == facts.account_id,
            Case.policy == facts.policy,
            Case.status.in_(OPEN_STATES),
            Case.source != "appeal",
        )
        .order_by(Case.id)
        .limit(1)
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def case_for(
    session: Session, clock: Clock, desk: Desk, facts: CaseFacts, *, actor: str, reason: str
) -> tuple[Case, bool]:
    """The account's open case for the policy, or a new one (routed, clocks set, audited)."""
    now = clock.now()
    found = open_case(session, desk, facts, now, for_update=True)
    if found is not None:
        return found, False
    account = session.get(Account, facts.account_id)
    attributes: dict[str, Any] = {}
    if account is not None:
        attributes = {
            "country": account.country,
            "declared_use_case": account.declared_use_case,
            "status": account.status,
        }
    queue_name = desk.queues.route(
        policy=facts.policy,
        severity=facts.severity,
        source=facts.source,
        account=attributes,
        suggested=facts.suggested_queue,
    )
    first_due, resolution_due = clocks(desk.queues.get(queue_name), facts.priority, now)
    case = Case(
        account_id=facts.account_id,
        policy=facts.policy,
        queue=queue_name,
        priority=facts.priority,
        status="new",
        title=facts.title[:512],
        rules=[],
        severity=facts.severity,
        signal_count=0,
        source=facts.source,
        opened_at=now,
        updated_at=now,
        first_signal_at=facts.first_seen or now,
        last_signal_at=facts.last_seen or now,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        escalations=0,
    )
    case.reopened_from_id = _recent_no_violation(session, desk, facts, now)
    session.add(case)
    session.flush()
    opened = {
        "account_id": facts.account_id,
        "policy": facts.policy,
        "queue": queue_name,
        "priority": facts.priority,
        "source": facts.source,
        "first_response_due_at": iso(first_due),
        "resolution_due_at": iso(resolution_due),
        **facts.extra,
    }
    if case.reopened_from_id is not None:
        opened["reopened_from"] = case.reopened_from_id
        add_event(
            session,
            case.reopened_from_id,
            "refired",
            actor,
            {"new_case": case.id, "reason": "the same account and policy fired again"},
            now=now,
        )
    record_change(session, clock, case, kind="opened", actor=actor, reason=reason, after=opened)
    return case, True


def _recent_no_violation(
    session: Session, desk: Desk, facts: CaseFacts, now: datetime
) -> int | None:
    """The account and policy's last closed case, when it closed as no_violation within the
    reopen window (a later confirmed violation means the earlier call no longer stands)."""
    if not desk.reopen_window:
        return None
    last = session.execute(
        select(Case.id, Case.resolution, Case.closed_at)
        .where(
            Case.account_id == facts.account_id,
            Case.policy == facts.policy,
            Case.status == "closed",
            Case.merged_into_id.is_(None),
        )
        .order_by(Case.closed_at.desc(), Case.id.desc())
        .limit(1)
    ).first()
    if last is None or last.resolution != "no_violation" or last.closed_at is None:
        return None
    return int(last.id) if last.closed_at >= now - desk.reopen_window else None


@retry_open_conflict
def do_open_case(
    store: Store,
    clock: Clock,
    desk: Desk,
    *,
    account_id: str,
    policy: str,
    severity: str = "medium",
    priority: str = "P3",
    title: str | None = None,
    queue: str | None = None,
    actor: str,
    reason: str,
) -> tuple[int, bool]:
    """Open a case by hand (or find the open one for the account and policy): (id, opened)."""
    if priority not in PRIORITIES:
        raise InputError(f"priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    if not reason.strip():
        raise InputError("give a reason: it is kept in the audit log and shown on the case")
    if queue is not None:
        desk.queues.asked(queue)
    facts = CaseFacts(
        account_id=account_id,
        policy=policy,
        severity=severity,
        priority=priority,
        source="manual",
        title=title or f"{policy}: opened by {actor}",
        suggested_queue=queue,
    )
    with store.transaction() as session:
        case, opened = case_for(session, clock, desk, facts, actor=actor, reason=reason)
        return case.id, opened


def load_case(session: Session, case_id: int, *, for_update: bool = False) -> Case:
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update()
    case = session.execute(query).scalar_one_or_none()
    if case is None:
        raise NotFoundError(f"no case {case_id}")
    return case


def require_open(case: Case) -> None:
    if case.status == "closed":
        detail = f"merged into case {case.merged_into_id}" if case.merged_into_id else ""
        raise ConflictError(
            f"case {case.id} is closed already ({detail or case.resolution}); reopen it first"
        )


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InputError("give a reason: it is kept in the audit log and shown on the case")
    return reason.strip()


def do_set_case_status(
    store: Store, clock: Clock, *, case_id: int, status: str, actor: str, reason: str
) -> None:
    """Move an open case to another open state (enforcement sets `actioned` through this)."""
    if status not in STATUSES or status == "closed":
        open_names = ", ".join(s for s in STATUSES if s != "closed")
        raise InputError(f"status must be one of {open_names} (close with a resolution)")
    reason = _reason(reason)
    with store.transaction() as session:
        case = load_case(session, case_id, for_update=True)
        require_open(case)
        if case.status == status:
            return
        before = {"status": case.status}
        case.status = status
        record_change(
            session,
            clock,
            case,
            kind="status",
            actor=actor,
            reason=reason,
            before=before,
            after={"status": status},
        )


def do_add_timeline_entry(
    store: Store, clock: Clock, *, case_id: int, kind: str, actor: str, body: dict[str, Any]
) -> None:
    """A timeline entry from another part of the desk (an action taken, a notice sent)."""
    with store.transaction() as session:
        case = load_case(session, case_id)
        record_change(
            session,
            clock,
            case,
            kind=kind,
            actor=actor,
            reason=body.get("reason"),
            after=body,
        )


def do_close_case(
    store: Store, clock: Clock, *, case_id: int, resolution: str, actor: str, reason: str
) -> None:
    """Close a case with its resolution (what rule precision is measured against), audited."""
    named = resolution_named(resolution)
    if named is None:
        raise InputError(f"resolution must be one of {', '.join(RESOLUTIONS)}, not {resolution!r}")
    reason = _reason(reason)
    with store.transaction() as session:
        case = load_case(session, case_id, for_update=True)
        require_open(case)
        now = clock.now()
        before = {"status": case.status, "resolution": case.resolution}
        case.status, case.resolution, case.closed_at = "closed", named, now
        case.snoozed_until = None
        record_change(
            session,
            clock,
            case,
            kind="closed",
            actor=actor,
            reason=reason,
            before=before,
            after={"status": "closed", "resolution": named},
        )


@retry_open_conflict
def do_reopen_case(
    store: Store, clock: Clock, desk: Desk, *, case_id: int, actor: str, reason: str
) -> None:
    """Reopen a closed case (not a merged one): back to triage, clocks restarted."""
    reason = _reason(reason)
    with store.transaction() as session:
        case = load_case(session, case_id, for_update=True)
        if case.status != "closed":
            raise ConflictError(f"case {case_id} is open ({case.status})")
        if case.merged_into_id is not None:
            raise ConflictError(
                f"case {case_id} was merged into case {case.merged_into_id}; work that one"
            )
        other = open_case(
            session,
            desk,
            CaseFacts(case.account_id, case.policy, case.severity, case.priority, "manual", ""),
            clock.now(),
        )
        if other is not None:
            raise ConflictError(
                f"case {other.id} is open for {case.account_id} and {case.policy}; "
                "one open case per account and policy"
            )
        now = clock.now()
        before = {"status": "closed", "resolution": case.resolution}
        case.status, case.resolution, case.closed_at = "triage", None, None
        case.first_response_due_at, case.resolution_due_at = clocks(
            desk.queues.get(case.queue)
            if case.queue in desk.queues.queues
            else desk.queues.get(desk.queues.default),
            case.priority,
            now,
        )
        record_change(
            session,
            clock,
            case,
            kind="reopened",
            actor=actor,
            reason=reason,
            before=before,
            after={"status": "triage", "resolution_due_at": iso(case.resolution_due_at)},
        )
