"""The case layer as it is today: signals from rules (given as plain RuleInfo) open one case
per account and policy with an SLA from its priority; closing a case records its outcome on
the case, on its timeline and in the audit log. The clock is fixed, so times are exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from abusedesk.cases.rule_info import Routing, RuleInfo
from abusedesk.cases.services import SignalDraft, do_close_case, do_record_signals, list_cases
from abusedesk.clock import FixedClock
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.storage.db import Store
from abusedesk.storage.models import AuditEntry, Case, CaseEvent, Signal
from abusedesk.workspace import Workspace

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVENT_TS = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def rule(rule_id: str, *, priority: str = "P2", mode: str = "live", **kw: Any) -> RuleInfo:
    return RuleInfo(
        id=rule_id,
        description=f"{rule_id} matched",
        policy=kw.get("policy", "consent"),
        severity=kw.get("severity", "medium"),
        verdict="review",
        mode=mode,
        case=Routing("compliance", priority),
    )


def draft(info: RuleInfo, event_id: str, account: str = "A1") -> SignalDraft:
    return SignalDraft(info, account, event_id, "opt_out", EVENT_TS, {"stops_1h": 4})


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store(workspace: Workspace) -> Store:
    return workspace.store


@pytest.mark.parametrize(
    ("priority", "hours"), [("P1", 4), ("P2", 24), ("P3", 72), ("P4", 168), ("P9", 72)]
)
def test_a_case_is_due_by_its_priority(
    store: Store, clock: FixedClock, priority: str, hours: int
) -> None:
    """P1 within 4 hours ... P4 within a week; a priority the table does not know gets P3's."""
    result = do_record_signals(store, clock, [draft(rule("r", priority=priority), "e1")])
    (case,) = list_cases(store)
    assert result.cases_opened == [case.case_id]
    assert case.opened_at == NOW
    assert case.sla_due_at == NOW + timedelta(hours=hours)


def test_a_more_urgent_signal_moves_the_due_time_earlier(store: Store, clock: FixedClock) -> None:
    do_record_signals(store, clock, [draft(rule("slow", priority="P3"), "e1")])
    clock.advance(timedelta(hours=1))
    result = do_record_signals(store, clock, [draft(rule("fast", priority="P1"), "e2")])
    (case,) = list_cases(store)
    assert result.cases_opened == []
    assert result.cases_updated == {case.case_id}
    assert case.priority == "P1"
    assert case.sla_due_at == NOW + timedelta(hours=4)  # from when it opened, not from now
    assert case.rules == ["slow", "fast"]
    assert case.signal_count == 2


def test_a_shadow_rule_records_a_signal_and_opens_nothing(store: Store, clock: FixedClock) -> None:
    result = do_record_signals(store, clock, [draft(rule("quiet", mode="shadow"), "e1")])
    assert result.signals == 1
    assert result.cases_opened == []
    assert list_cases(store) == []
    with store.sessions() as session:
        signal = session.execute(select(Signal)).scalar_one()
    assert (signal.rule_id, signal.mode, signal.case_id) == ("quiet", "shadow", None)


def test_close_writes_the_outcome_the_timeline_and_the_audit(
    store: Store, clock: FixedClock
) -> None:
    do_record_signals(store, clock, [draft(rule("many-stops"), "e1")])
    (opened,) = list_cases(store)
    clock.advance(timedelta(hours=2))
    closed = do_close_case(
        store,
        clock,
        case_id=opened.case_id,
        outcome="confirmed",
        actor="analyst:kim",
        reason="STOPs ignored for a week",
    )
    assert (closed.status, closed.case_id) == ("closed", opened.case_id)
    with store.sessions() as session:
        case = session.get(Case, opened.case_id)
        assert case is not None
        assert (case.outcome, case.closed_at) == ("confirmed", NOW + timedelta(hours=2))
        timeline = session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).scalars()
        kinds = [(e.kind, e.actor, e.ts) for e in timeline]
        audit = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert kinds == [
        ("opened", "rule:many-stops", NOW),
        ("signal", "rule:many-stops", NOW),
        ("closed", "analyst:kim", NOW + timedelta(hours=2)),
    ]
    assert [(a.action, a.actor, a.object_id) for a in audit] == [
        ("case.open", "rule:many-stops", str(case.id)),
        ("case.close", "analyst:kim", str(case.id)),
    ]
    assert audit[1].reason == "STOPs ignored for a week"
    assert audit[1].before == {"status": "open", "outcome": None}
    assert audit[1].after == {"status": "closed", "outcome": "confirmed"}


def test_close_refuses_what_it_cannot_record(store: Store, clock: FixedClock) -> None:
    do_record_signals(store, clock, [draft(rule("r"), "e1")])
    (case,) = list_cases(store)
    with pytest.raises(InputError, match="outcome must be one of"):
        do_close_case(store, clock, case_id=case.case_id, outcome="meh", actor="a", reason="x")
    with pytest.raises(InputError, match="give a reason"):
        do_close_case(
            store, clock, case_id=case.case_id, outcome="confirmed", actor="a", reason="  "
        )
    with pytest.raises(NotFoundError):
        do_close_case(store, clock, case_id=999, outcome="confirmed", actor="a", reason="x")
    do_close_case(store, clock, case_id=case.case_id, outcome="no_action", actor="a", reason="x")
    with pytest.raises(ConflictError, match="closed already"):
        do_close_case(
            store, clock, case_id=case.case_id, outcome="confirmed", actor="a", reason="x"
        )
