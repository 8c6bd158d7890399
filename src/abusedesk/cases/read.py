"""Reading cases: lists with filters and cursor pagination, one case with its timeline and
evidence, queue summaries and the at-risk and breached lists."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, and_, func, or_, select

from abusedesk.cases.desk import Desk
from abusedesk.cases.evidence import evidence_of
from abusedesk.cases.reports import report_json
from abusedesk.cases.states import OPEN_STATES, STATUSES
from abusedesk.cases.timeline import iso
from abusedesk.errors import InputError, NotFoundError
from abusedesk.storage.db import Store
from abusedesk.storage.models import Case, CaseEvent, Report, Signal


@dataclass(frozen=True)
class CaseRow:
    case_id: int
    account_id: str
    policy: str
    queue: str
    priority: str
    status: str
    resolution: str | None
    severity: str
    source: str
    title: str
    assignee: str | None
    opened_at: datetime
    first_signal_at: datetime
    last_signal_at: datetime
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    claimed_at: datetime | None
    first_action_at: datetime | None
    closed_at: datetime | None
    snoozed_until: datetime | None
    signal_count: int
    rules: list[str]
    merged_into: int | None
    split_from: int | None
    reopened_from: int | None
    escalations: int
    # The account's risk score on the policy and each rule's share (detection/risk.py).
    risk_score: float | None = None
    risk: dict[str, Any] | None = None

    @classmethod
    def of(cls, c: Any) -> CaseRow:
        """From a Case or a row of the cases table (same attribute names)."""
        return cls(
            c.id,
            c.account_id,
            c.policy,
            c.queue,
            c.priority,
            c.status,
            c.resolution,
            c.severity,
            c.source,
            c.title,
            c.assignee,
            c.opened_at,
            c.first_signal_at,
            c.last_signal_at,
            c.first_response_due_at,
            c.resolution_due_at,
            c.claimed_at,
            c.first_action_at,
            c.closed_at,
            c.snoozed_until,
            c.signal_count,
            list(c.rules),
            c.merged_into_id,
            c.split_from_id,
            c.reopened_from_id,
            c.escalations,
            c.risk_score,
            dict(c.risk) if c.risk else None,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = iso(value) if isinstance(value, datetime) else value
        return out


def _cursor(row: Any) -> str:
    key = [row.priority, iso(row.resolution_due_at), row.id]
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def _after(cursor: str) -> Any:
    try:
        priority, due, case_id = orjson.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
        due_at = datetime.fromisoformat(due) if due else None
    except (ValueError, TypeError) as exc:
        raise InputError(f"bad cursor: {exc}") from None
    # Rows after (priority, due, id) in the list's order; cases always have a due time once
    # opened through cases/, so NULL only appears on rows migrated without one.
    if due_at is None:
        return or_(Case.priority > priority, and_(Case.priority == priority, Case.id > case_id))
    return or_(
        Case.priority > priority,
        and_(Case.priority == priority, Case.resolution_due_at > due_at),
        and_(Case.priority == priority, Case.resolution_due_at == due_at, Case.id > case_id),
    )


def _filtered(
    query: Select[Any],
    *,
    status: Sequence[str] | str | None,
    queue: str | None,
    policy: str | None,
    account_id: str | None,
    assignee: str | None,
    priority: str | None,
    source: str | None,
) -> Select[Any]:
    if isinstance(status, str):
        status = OPEN_STATES if status == "open" else (status,)
    if status:
        unknown = set(status) - set(STATUSES)
        if unknown:
            raise InputError(
                f"unknown status {sorted(unknown)[0]!r}; use open or one of {', '.join(STATUSES)}"
            )
        query = query.where(Case.status.in_(list(status)))
    for column, value in (
        (Case.queue, queue),
        (Case.policy, policy),
        (Case.account_id, account_id),
        (Case.priority, priority),
        (Case.source, source),
    ):
        if value is not None:
            query = query.where(column == value)
    if assignee == "none":
        query = query.where(Case.assignee.is_(None))
    elif assignee is not None:
        query = query.where(Case.assignee == assignee)
    return query


def page_cases(
    store: Store,
    *,
    status: Sequence[str] | str | None = None,
    queue: str | None = None,
    policy: str | None = None,
    account_id: str | None = None,
    assignee: str | None = None,
    priority: str | None = None,
    source: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[CaseRow], str | None]:
    """One page of cases, most urgent first; (rows, cursor of the next page or None)."""
    if not 1 <= limit <= 500:
        raise InputError("limit must be 1 to 500")
    # Plain rows of the table, not ORM objects: a page is read, never changed, and loading
    # objects into a session costs more than the query itself.
    query = _filtered(
        select(Case.__table__).order_by(Case.priority, Case.resolution_due_at, Case.id),
        status=status,
        queue=queue,
        policy=policy,
        account_id=account_id,
        assignee=assignee,
        priority=priority,
        source=source,
    )
    if cursor:
        query = query.where(_after(cursor))
    with store.sessions() as session:
        rows = list(session.execute(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [CaseRow.of(c) for c in rows], (_cursor(rows[-1]) if more else None)


def list_cases(
    store: Store,
    *,
    status: str | None = None,
    queue: str | None = None,
    policy: str | None = None,
    account_id: str | None = None,
    limit: int | None = None,
) -> list[CaseRow]:
    """Every case matching the filters (no paging), most urgent first."""
    # Plain rows of the table, not ORM objects: a page is read, never changed, and loading
    # objects into a session costs more than the query itself.
    query = _filtered(
        select(Case.__table__).order_by(Case.priority, Case.resolution_due_at, Case.id),
        status=status,
        queue=queue,
        policy=policy,
        account_id=account_id,
        assignee=None,
        priority=None,
        source=None,
    )
    if limit is not None:
        query = query.limit(limit)
    with store.sessions() as session:
        return [CaseRow.of(c) for c in session.execute(query).all()]


def show_case(store: Store, case_id: int) -> dict[str, Any]:
    """A case with its timeline, evidence, signals, reports and linked cases."""
    with store.sessions() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError(f"no case {case_id}")
        timeline = [
            {"id": e.id, "ts": e.ts.isoformat(), "kind": e.kind, "actor": e.actor, "body": e.body}
            for e in session.execute(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.ts, CaseEvent.id)
            ).scalars()
        ]
        signals = [
            {
                "id": s.id,
                "rule": s.rule_id,
                "policy": s.policy,
                "severity": s.severity,
                "event_id": s.event_id,
                "event_ts": s.event_ts.isoformat(),
                "hits": s.hits,
                "account_id": s.account_id,
            }
            for s in session.execute(
                select(Signal).where(Signal.case_id == case_id).order_by(Signal.id)
            ).scalars()
        ]
        reports = [
            report_json(r)
            for r in session.execute(
                select(Report).where(Report.case_id == case_id).order_by(Report.id)
            ).scalars()
        ]
        merged = list(
            session.execute(select(Case.id).where(Case.merged_into_id == case_id)).scalars()
        )
        linked = {
            "merged_into": case.merged_into_id,
            "merged": merged,
            "split_from": case.split_from_id,
            "split_off": list(
                session.execute(select(Case.id).where(Case.split_from_id == case_id)).scalars()
            ),
            "reopened_from": case.reopened_from_id,
        }
        return {
            "case": CaseRow.of(case).to_json(),
            "linked": linked,
            "timeline": timeline,
            "evidence": evidence_of(session, case_id),
            "signals": signals,
            "reports": reports,
        }


def sla_lists(
    store: Store,
    desk: Desk,
    now: datetime,
    *,
    which: str,
    queue: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Open cases whose first response or resolution is breached (`which="breached"`) or has
    less than the desk's at-risk share of its SLA left (`which="at_risk"`), soonest due first."""
    query = select(Case).where(Case.status.in_(OPEN_STATES), Case.merged_into_id.is_(None))
    if queue is not None:
        query = query.where(Case.queue == queue)
    response_open = Case.first_action_at.is_(None)
    if which == "breached":
        query = query.where(
            or_(
                Case.resolution_due_at <= now,
                and_(response_open, Case.first_response_due_at <= now),
            )
        )
    elif which != "at_risk":
        raise InputError("which is breached or at_risk")
    rows: list[dict[str, Any]] = []
    with store.sessions() as session:
        for case in session.execute(query.order_by(Case.resolution_due_at, Case.id)).scalars():
            clocks = _clock_states(case, desk, now)
            state = clocks["first_response"] if case.first_action_at is None else "met"
            worst = {clocks["resolution"], state}
            if which == "breached" or ("at_risk" in worst and "breached" not in worst):
                rows.append({"case": CaseRow.of(case).to_json(), "clocks": clocks})
            if len(rows) >= limit:
                break
    return rows


def _clock_states(case: Case, desk: Desk, now: datetime) -> dict[str, str]:
    from abusedesk.cases.sla import at_risk

    queue = desk.queues.queues.get(case.queue) or desk.queues.get(desk.queues.default)
    sla = queue.sla.get(case.priority) or queue.sla["P3"]
    out = {}
    for name, due, span in (
        ("first_response", case.first_response_due_at, sla.first_response),
        ("resolution", case.resolution_due_at, sla.resolution),
    ):
        if name == "first_response" and case.first_action_at is not None:
            out[name] = "met" if due is None or case.first_action_at <= due else "missed"
        elif due is not None and due <= now:
            out[name] = "breached"
        elif at_risk(due, span, now, desk.at_risk_fraction):
            out[name] = "at_risk"
        else:
            out[name] = "ok"
    return out


def queue_summaries(store: Store, desk: Desk, now: datetime) -> list[dict[str, Any]]:
    """Each queue with its open, unassigned, snoozed and breached counts."""
    open_cases = and_(Case.status.in_(OPEN_STATES), Case.merged_into_id.is_(None))
    with store.sessions() as session:
        counts = {
            q: (n, unassigned, breached, snoozed)
            for q, n, unassigned, breached, snoozed in session.execute(
                select(
                    Case.queue,
                    func.count(),
                    func.count().filter(Case.assignee.is_(None)),
                    func.count().filter(Case.resolution_due_at <= now),
                    func.count().filter(Case.snoozed_until > now),
                )
                .where(open_cases)
                .group_by(Case.queue)
            ).all()
        }
    out = []
    names = list(desk.queues.order) + sorted(set(counts) - set(desk.queues.order))
    for name in names:
        n, unassigned, breached, snoozed = counts.get(name, (0, 0, 0, 0))
        queue = desk.queues.queues.get(name)
        out.append(
            {
                **(
                    queue.to_json()
                    if queue
                    else {"name": name, "description": "(not in the queue file)"}
                ),
                "open": n,
                "unassigned": unassigned,
                "resolution_breached": breached,
                "snoozed": snoozed,
            }
        )
    return out
