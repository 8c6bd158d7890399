"""Signals in, cases out: the one write path for what detection finds.

`do_record_signals` runs one transaction: it stores new signals (a rule matches an event once,
however often detection runs), adds repeat hits to earlier signals, and for signals that carry
a case call (the account cleared the pack's case bar: detection/case_bar.py) opens a case per
account and policy or attaches the signal to the open one (cases/lifecycle.py routes it to a
queue and sets its SLA clocks), with the call's priority and risk score, freezing what tripped
each rule as evidence, with a timeline entry and an audit row for every case it opens. The rest
of the case work lives beside it: lifecycle, assignment, notes, evidence, merge, reports, read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, tuple_
from sqlalchemy.orm import Session

from abusedesk.cases.desk import Desk, default_desk
from abusedesk.cases.evidence import freeze_signal
from abusedesk.cases.lifecycle import CaseFacts, case_for, do_close_case, retry_open_conflict
from abusedesk.cases.read import CaseRow, list_cases
from abusedesk.cases.rule_info import CaseCallInfo, RuleInfo
from abusedesk.cases.sla import clocks, more_severe, more_urgent
from abusedesk.clock import Clock
from abusedesk.storage.db import Store
from abusedesk.storage.models import Case, CaseEvent, Signal, UtcDateTime


@dataclass(slots=True)
class SignalDraft:
    """A rule's match on an event, before it is stored."""

    rule: RuleInfo
    account_id: str | None
    event_id: str
    event_type: str
    event_ts: datetime
    features: dict[str, Any]
    hits: int = 1
    last_hit_at: datetime | None = None
    case_call: CaseCallInfo | None = None  # the account-level decision: open or add to a case


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


@retry_open_conflict
def do_record_signals(
    store: Store,
    clock: Clock,
    drafts: Sequence[SignalDraft],
    updates: Sequence[HitUpdate] = (),
    *,
    actor: str = "detection",
    desk: Desk | None = None,
) -> RecordResult:
    """Store signals, count repeat hits, and put live rules' signals on cases (one transaction).

    `desk` gives the queues and reopen window (the workspace's; the shipped defaults if None).
    """
    desk = desk or default_desk()
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
        # In (account, policy) order: a concurrent writer locks the same cases in the same
        # order, so the two wait for each other instead of deadlocking.
        for (account_id, policy), items in sorted(by_case.items()):
            case, opened = _case_for(session, clock, desk, (account_id, policy), items)
            if opened:
                result.cases_opened.append(case.id)
            else:
                result.cases_updated.add(case.id)
            for draft, signal in items:
                signal.case_id = case.id
                freeze_signal(session, case.id, signal, draft.rule.when, now)
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
            for u in sorted(updates, key=lambda u: (u.rule_id, u.event_id))  # lock order
        ],
    )


def _case_for(
    session: Session,
    clock: Clock,
    desk: Desk,
    key: tuple[str, str],
    items: list[tuple[SignalDraft, Signal]],
) -> tuple[Case, bool]:
    account_id, policy = key
    rules = [draft.rule for draft, _ in items]
    calls = [draft.case_call for draft, _ in items if draft.case_call is not None]
    # The call that opened the case if it is in this batch (its score is the one at opening);
    # the case keeps the latest score, and its priority only rises.
    latest = calls[-1]
    call = next((c for c in calls if c.opened), latest)
    first_ts = min(draft.event_ts for draft, _ in items)
    last_ts = max(draft.event_ts for draft, _ in items)
    facts = CaseFacts(
        account_id=account_id,
        policy=policy,
        severity=rules[0].severity,
        priority=call.priority,
        source="detection",
        title=f"{policy}: {rules[0].description}",
        suggested_queue=call.queue,
        first_seen=first_ts,
        last_seen=last_ts,
        extra={"bar": call.reason, "risk": call.risk_json()},
    )
    case, opened = case_for(
        session, clock, desk, facts, actor=f"rule:{rules[0].id}", reason=rules[0].description
    )
    names = list(case.rules)
    priority = case.priority
    for rule in rules:
        if rule.id not in names:
            names.append(rule.id)
        case.severity = more_severe(case.severity, rule.severity)
    case.rules = names
    # The priority follows the account's risk score (detection/risk.py): it only rises.
    for each in calls:
        priority = more_urgent(priority, each.priority)
    case.risk_score, case.risk = latest.score, latest.risk_json()
    case.signal_count += len(items)
    case.first_signal_at = min(case.first_signal_at, first_ts)
    case.last_signal_at = max(case.last_signal_at, last_ts)
    case.updated_at = clock.now()
    if priority != case.priority:
        # A higher score tightens the clocks, counted from when the case opened.
        case.priority = priority
        if case.queue in desk.queues.queues:
            first_due, resolution_due = clocks(
                desk.queues.get(case.queue), priority, case.opened_at
            )
            case.first_response_due_at = min(case.first_response_due_at or first_due, first_due)
            case.resolution_due_at = min(case.resolution_due_at or resolution_due, resolution_due)
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


def case_outcomes(store: Store) -> dict[tuple[str, str], str]:
    """(account, policy) -> the latest decided outcome of a closed case, as backtests name
    them: "confirmed" (violation_confirmed) or "false_positive" (no_violation)."""
    names = {"violation_confirmed": "confirmed", "no_violation": "false_positive"}
    with store.sessions() as session:
        rows = session.execute(
            select(Case.account_id, Case.policy, Case.resolution)
            .where(Case.status == "closed", Case.resolution.in_(tuple(names)))
            .order_by(Case.closed_at)
        ).all()
    return {(account, policy): names[str(res)] for account, policy, res in rows}


__all__ = [
    "CaseRow",
    "HitUpdate",
    "RecordResult",
    "SignalDraft",
    "case_outcomes",
    "do_close_case",
    "do_record_signals",
    "list_cases",
]
