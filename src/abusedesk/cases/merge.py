"""Merge and split.

Merging moves everything that makes up the merged cases (signals, evidence, reports, the
timeline) onto the survivor and closes them as `duplicate`, pointing at it. Splitting moves
chosen signals (with their evidence) off a case into a new case for their account and policy,
which points back at the case it came from.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from abusedesk.cases.desk import Desk
from abusedesk.cases.lifecycle import (
    CaseFacts,
    case_for,
    load_case,
    open_case,
    require_open,
    retry_open_conflict,
)
from abusedesk.cases.sla import more_severe, more_urgent
from abusedesk.cases.timeline import add_event, record_change
from abusedesk.clock import Clock
from abusedesk.errors import ConflictError, InputError
from abusedesk.storage.db import Store
from abusedesk.storage.models import CaseEvent, CaseEvidence, Report, Signal


def do_merge_cases(
    store: Store,
    clock: Clock,
    *,
    survivor_id: int,
    case_ids: Sequence[int],
    actor: str,
    reason: str,
) -> list[int]:
    """Merge `case_ids` into the survivor; the ids merged."""
    merged = sorted(set(case_ids) - {survivor_id})
    if not merged:
        raise InputError("name at least one case to merge into the survivor, other than itself")
    if not reason.strip():
        raise InputError("give a reason for the merge")
    with store.transaction() as session:
        # Lock in id order so two merges touching the same cases cannot deadlock.
        cases = {c: load_case(session, c, for_update=True) for c in sorted([survivor_id, *merged])}
        survivor = cases[survivor_id]
        require_open(survivor)
        for case_id in merged:
            require_open(cases[case_id])
        now = clock.now()
        for case_id in merged:
            case = cases[case_id]
            for model in (Signal, CaseEvidence, Report):
                session.execute(
                    update(model).where(model.case_id == case_id).values(case_id=survivor_id)
                )
            session.execute(
                update(CaseEvent)
                .where(CaseEvent.case_id == case_id)
                .values(case_id=survivor_id)
                .execution_options(synchronize_session=False)
            )
            survivor.rules = list(dict.fromkeys([*survivor.rules, *case.rules]))
            survivor.signal_count += case.signal_count
            survivor.first_signal_at = min(survivor.first_signal_at, case.first_signal_at)
            survivor.last_signal_at = max(survivor.last_signal_at, case.last_signal_at)
            survivor.priority = more_urgent(survivor.priority, case.priority)
            survivor.severity = more_severe(survivor.severity, case.severity)
            for due in ("first_response_due_at", "resolution_due_at"):
                mine, theirs = getattr(survivor, due), getattr(case, due)
                if theirs is not None and (mine is None or theirs < mine):
                    setattr(survivor, due, theirs)
            before = {"status": case.status, "merged_into": None}
            case.status, case.resolution, case.closed_at = "closed", "duplicate", now
            case.merged_into_id, case.signal_count, case.assignee = survivor_id, 0, None
            record_change(
                session,
                clock,
                case,
                kind="merged_into",
                actor=actor,
                reason=reason,
                before=before,
                after={"merged_into": survivor_id, "account_id": survivor.account_id},
            )
        record_change(
            session,
            clock,
            survivor,
            kind="merged",
            actor=actor,
            reason=reason,
            after={
                "merged": merged,
                "accounts": sorted({cases[c].account_id for c in merged}),
            },
        )
    return merged


@retry_open_conflict
def do_split_case(
    store: Store,
    clock: Clock,
    desk: Desk,
    *,
    case_id: int,
    signal_ids: Sequence[int],
    actor: str,
    reason: str,
    policy: str | None = None,
) -> int:
    """Move signals off a case into a new case for their account and policy; the new case."""
    if not signal_ids:
        raise InputError("name the signals to split off")
    if not reason.strip():
        raise InputError("give a reason for the split")
    with store.transaction() as session:
        source = load_case(session, case_id, for_update=True)
        require_open(source)
        signals = list(
            session.execute(
                select(Signal).where(Signal.id.in_(signal_ids), Signal.case_id == case_id)
            ).scalars()
        )
        missing = sorted(set(signal_ids) - {s.id for s in signals})
        if missing:
            raise InputError(f"signals {missing} are not on case {case_id}")
        accounts = {s.account_id or source.account_id for s in signals}
        if len(accounts) != 1:
            raise InputError("the signals split off must belong to one account")
        account_id = accounts.pop()
        new_policy = policy or signals[0].policy
        if len(signals) >= source.signal_count:
            raise ConflictError("that is every signal of the case; change its policy instead")
        facts = CaseFacts(
            account_id=account_id,
            policy=new_policy,
            severity=max((s.severity for s in signals), key=_rank),
            priority=source.priority,
            source=source.source,
            title=f"{new_policy}: split from case {case_id}",
            suggested_queue=source.queue,
            first_seen=min(s.event_ts for s in signals),
            last_seen=max(s.event_ts for s in signals),
            extra={"split_from": case_id},
        )
        now = clock.now()
        if (account_id, new_policy) == (source.account_id, source.policy) or open_case(
            session, desk, facts, now
        ):
            raise ConflictError(
                f"{account_id} has an open {new_policy} case already; merge or attach instead"
            )
        target, _ = case_for(session, clock, desk, facts, actor=actor, reason=reason)
        target.split_from_id = case_id
        moved = [s.id for s in signals]
        for signal in signals:
            signal.case_id = target.id
        session.execute(
            update(CaseEvidence)
            .where(
                CaseEvidence.case_id == case_id,
                CaseEvidence.kind == "signal",
                CaseEvidence.ref.in_([str(i) for i in moved]),
            )
            .values(case_id=target.id)
        )
        target.rules = list(dict.fromkeys(s.rule_id for s in signals))
        target.signal_count = len(signals)
        source.signal_count -= len(signals)
        remaining = set(
            session.execute(
                select(Signal.rule_id).where(Signal.case_id == case_id).distinct()
            ).scalars()
        )
        source.rules = [r for r in source.rules if r in remaining]
        add_event(
            session, target.id, "split_from", actor, {"case": case_id, "signals": moved}, now=now
        )
        record_change(
            session,
            clock,
            source,
            kind="split",
            actor=actor,
            reason=reason,
            after={"new_case": target.id, "signals": moved},
        )
        return target.id


def _rank(severity: str) -> int:
    return {"low": 0, "medium": 1, "high": 2, "critical": 3}.get(severity, 0)
