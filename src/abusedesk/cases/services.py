"""Signals in, cases out: the one write path for what detection finds.

`do_record_signals` runs one transaction: it stores new signals (a rule matches an event once,
however often detection runs), adds repeat hits to earlier signals, and for signals that carry
a case call (the account cleared the pack's case bar: detection/case_bar.py) opens a case per
account and policy or attaches the signal to the open one, with the call's priority and risk
score, a timeline entry and an audit row for every case it opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, tuple_
from sqlalchemy.orm import Session

from abusedesk.cases.sla import due, more_severe, more_urgent
from abusedesk.clock import Clock
from abusedesk.detection.case_bar import CaseCall
from abusedesk.detection.spec import RuleSpec
from abusedesk.storage.audit import write_audit
from abusedesk.storage.db import Store
from abusedesk.storage.models import Case, CaseEvent, Signal, UtcDateTime

OPEN_STATES = ("open", "pending")


@dataclass(slots=True)
class SignalDraft:
    """A rule's match on an event, before it is stored."""

    rule: RuleSpec
    account_id: str | None
    event_id: str
    event_type: str
    event_ts: datetime
    features: dict[str, Any]
    hits: int = 1
    last_hit_at: datetime | None = None
    case_call: CaseCall | None = None  # the account-level decision: open or add to a case


@dataclass(slots=True)
class HitUpdate:
    """More matches of a rule on an account, counted into a signal already stored."""

    rule_id: str
    event_id: str
    hits: int
    last_hit_at: datetime


@dataclass
class RecordResult:
    signals: int = 0
    cases_opened: list[int] = field(default_factory=list)
    cases_updated: set[int] = field(default_factory=set)


def do_record_signals(
    store: Store,
    clock: Clock,
    drafts: Sequence[SignalDraft],
    updates: Sequence[HitUpdate] = (),
    *,
    actor: str = "detection",
) -> RecordResult:
    result = RecordResult()
    if not drafts and not updates:
        return result
    now = clock.now()
    with store.transaction() as session:
        _apply_hits(session, updates)
        fresh = _new_drafts(session, drafts)
        by_case: dict[tuple[str, str], list[tuple[SignalDraft, Signal]]] = {}
        for draft in fresh:
            signal = Signal(
                account_id=draft.account_id,
                rule_id=draft.rule.id,
                policy=draft.rule.policy,
                severity=draft.rule.severity,
                verdict=draft.rule.verdict,
                mode=draft.rule.mode,
                event_id=draft.event_id,
                event_type=draft.event_type,
                event_ts=draft.event_ts,
                features=_jsonable(draft.features),
                hits=draft.hits,
                last_hit_at=draft.last_hit_at or draft.event_ts,
                created_at=now,
            )
            session.add(signal)
            result.signals += 1
            if draft.case_call is not None and draft.account_id:
                by_case.setdefault((draft.account_id, draft.rule.policy), []).append(
                    (draft, signal)
                )
        session.flush()
        for (account_id, policy), items in by_case.items():
            case, opened = _case_for(session, account_id, policy, items, now)
            if opened:
                result.cases_opened.append(case.id)
                write_audit(
                    session,
                    clock,
                    actor=f"rule:{items[0][0].rule.id}",
                    action="case.open",
                    object_type="case",
                    object_id=str(case.id),
                    reason=items[0][0].rule.description,
                    after={
                        "account_id": account_id,
                        "policy": policy,
                        "queue": case.queue,
                        "priority": case.priority,
                        "risk_score": case.risk_score,
                    },
                )
            else:
                result.cases_updated.add(case.id)
            for draft, signal in items:
                signal.case_id = case.id
                session.add(
                    CaseEvent(
                        case_id=case.id,
                        ts=now,
                        kind="signal",
                        actor=f"rule:{draft.rule.id}",
                        body={
                            "signal_id": signal.id,
                            "rule": draft.rule.id,
                            "event_id": draft.event_id,
                            "event_ts": draft.event_ts.isoformat(),
                            "features": signal.features,
                        },
                    )
                )
    return result


def _new_drafts(session: Session, drafts: Sequence[SignalDraft]) -> list[SignalDraft]:
    """Drop drafts whose (rule, event) is stored already, and repeats within the list."""
    seen: set[tuple[str, str]] = set()
    unique: list[SignalDraft] = []
    for draft in drafts:
        key = (draft.rule.id, draft.event_id)
        if key not in seen:
            seen.add(key)
            unique.append(draft)
    stored: set[tuple[str, str]] = set()
    keys = list(seen)
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        rows = session.execute(
            select(Signal.rule_id, Signal.event_id).where(
                tuple_(Signal.rule_id, Signal.event_id).in_(chunk)
            )
        ).all()
        stored.update((r, e) for r, e in rows)
    return [d for d in unique if (d.rule.id, d.event_id) not in stored]


def _apply_hits(session: Session, updates: Sequence[HitUpdate]) -> None:
    """One executemany UPDATE: hits arrive on every batch of a busy account, and an ORM load
    and save per signal held the decision server's GIL long enough to show in its p99."""
    if not updates:
        return
    statement = text(
        "UPDATE signals SET hits = hits + :hits, last_hit_at = CASE WHEN last_hit_at < :ts "
        "THEN :ts ELSE last_hit_at END WHERE rule_id = :rule_id AND event_id = :event_id"
    ).bindparams(bindparam("ts", type_=UtcDateTime()))
    session.execute(
        statement,
        [
            {"hits": u.hits, "ts": u.last_hit_at, "rule_id": u.rule_id, "event_id": u.event_id}
            for u in updates
        ],
    )


def _case_for(
    session: Session,
    account_id: str,
    policy: str,
    items: list[tuple[SignalDraft, Signal]],
    now: datetime,
) -> tuple[Case, bool]:
    rules = [draft.rule for draft, _ in items]
    calls = [draft.case_call for draft, _ in items if draft.case_call is not None]
    # The call that opened the case if it is in this batch (its score is the one at opening);
    # the case keeps the latest score, and its priority only rises.
    latest = calls[-1]
    call = next((c for c in calls if c.opened), latest)
    first_ts = min(draft.event_ts for draft, _ in items)
    last_ts = max(draft.event_ts for draft, _ in items)
    case = session.execute(
        select(Case)
        .where(Case.account_id == account_id, Case.policy == policy, Case.status.in_(OPEN_STATES))
        .order_by(Case.id)
        .limit(1)
    ).scalar_one_or_none()
    opened = case is None
    if case is None:
        case = Case(
            account_id=account_id,
            policy=policy,
            queue=call.queue,
            priority=call.priority,
            status="open",
            title=f"{policy}: {rules[0].description}"[:512],
            rules=[],
            severity=rules[0].severity,
            signal_count=0,
            opened_at=now,
            updated_at=now,
            first_signal_at=first_ts,
            last_signal_at=last_ts,
            sla_due_at=due(call.priority, now),
            risk_score=call.score,
            risk=call.risk_json(),
        )
        session.add(case)
        session.flush()
        session.add(
            CaseEvent(
                case_id=case.id,
                ts=now,
                kind="opened",
                actor=f"rule:{rules[0].id}",
                body={
                    "policy": policy,
                    "queue": case.queue,
                    "priority": case.priority,
                    "bar": call.reason,
                    "risk": call.risk_json(),
                },
            )
        )
    names = list(case.rules)
    for rule in rules:
        if rule.id not in names:
            names.append(rule.id)
        case.severity = more_severe(case.severity, rule.severity)
    case.rules = names
    # The priority follows the account's risk score (risk.py): it rises with the score.
    for each in calls:
        case.priority = more_urgent(case.priority, each.priority)
    case.risk_score, case.risk = latest.score, latest.risk_json()
    case.signal_count += len(items)
    case.first_signal_at = min(case.first_signal_at, first_ts)
    case.last_signal_at = max(case.last_signal_at, last_ts)
    case.updated_at = now
    if case.sla_due_at is None or due(case.priority, case.opened_at) < case.sla_due_at:
        case.sla_due_at = due(case.priority, case.opened_at)
    return case, opened


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif isinstance(value, float):
            out[key] = round(value, 6)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class CaseRow:
    case_id: int
    account_id: str
    policy: str
    queue: str
    priority: str
    status: str
    severity: str
    title: str
    opened_at: datetime
    first_signal_at: datetime
    last_signal_at: datetime
    sla_due_at: datetime | None
    signal_count: int
    rules: list[str]
    risk_score: float | None = None
    risk: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "account_id": self.account_id,
            "policy": self.policy,
            "queue": self.queue,
            "priority": self.priority,
            "status": self.status,
            "severity": self.severity,
            "title": self.title,
            "opened_at": self.opened_at.isoformat(),
            "first_signal_at": self.first_signal_at.isoformat(),
            "last_signal_at": self.last_signal_at.isoformat(),
            "sla_due_at": self.sla_due_at.isoformat() if self.sla_due_at else None,
            "signal_count": self.signal_count,
            "rules": self.rules,
            "risk_score": self.risk_score,
            "risk": self.risk,
        }


def list_cases(
    store: Store,
    *,
    status: str | None = None,
    queue: str | None = None,
    policy: str | None = None,
    account_id: str | None = None,
    limit: int | None = None,
) -> list[CaseRow]:
    query = select(Case).order_by(Case.priority, Case.opened_at, Case.id)
    if status is not None:
        query = query.where(Case.status == status)
    if queue is not None:
        query = query.where(Case.queue == queue)
    if policy is not None:
        query = query.where(Case.policy == policy)
    if account_id is not None:
        query = query.where(Case.account_id == account_id)
    if limit is not None:
        query = query.limit(limit)
    with store.sessions() as session:
        cases = session.execute(query).scalars().all()
    return [
        CaseRow(
            c.id,
            c.account_id,
            c.policy,
            c.queue,
            c.priority,
            c.status,
            c.severity,
            c.title,
            c.opened_at,
            c.first_signal_at,
            c.last_signal_at,
            c.sla_due_at,
            c.signal_count,
            list(c.rules),
            c.risk_score,
            dict(c.risk) if c.risk else None,
        )
        for c in cases
    ]


OUTCOMES = ("confirmed", "false_positive", "duplicate", "no_action")


def do_close_case(
    store: Store, clock: Clock, *, case_id: int, outcome: str, actor: str, reason: str
) -> CaseRow:
    """Close a case with its outcome (what rule precision is measured against), audited."""
    from abusedesk.errors import ConflictError, InputError, NotFoundError

    if outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if not reason.strip():
        raise InputError("give a reason: it is kept in the audit log and shown on the case")
    now = clock.now()
    with store.transaction() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError(f"no case {case_id}")
        if case.status == "closed":
            raise ConflictError(f"case {case_id} is closed already ({case.outcome})")
        before = {"status": case.status, "outcome": case.outcome}
        case.status, case.outcome, case.closed_at, case.updated_at = "closed", outcome, now, now
        session.add(
            CaseEvent(
                case_id=case.id,
                ts=now,
                kind="closed",
                actor=actor,
                body={"outcome": outcome, "reason": reason},
            )
        )
        write_audit(
            session,
            clock,
            actor=actor,
            action="case.close",
            object_type="case",
            object_id=str(case.id),
            reason=reason,
            before=before,
            after={"status": "closed", "outcome": outcome},
        )
    return next(c for c in list_cases(store, account_id=case.account_id) if c.case_id == case_id)


def case_outcomes(store: Store) -> dict[tuple[str, str], str]:
    """(account, policy) -> the latest decided outcome of a closed case."""
    with store.sessions() as session:
        rows = session.execute(
            select(Case.account_id, Case.policy, Case.outcome)
            .where(Case.status == "closed", Case.outcome.in_(("confirmed", "false_positive")))
            .order_by(Case.closed_at)
        ).all()
    return {(account, policy): str(outcome) for account, policy, outcome in rows}
