"""Claim-next, assign, release, escalate, snooze; and two analysts claiming at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from abusedesk.cases.assignment import (
    do_assign_case,
    do_claim_next_case,
    do_escalate_case,
    do_release_case,
    do_snooze_case,
)
from abusedesk.cases.lifecycle import do_open_case
from abusedesk.cases.read import show_case
from abusedesk.clock import FixedClock
from abusedesk.errors import ConflictError, InputError
from abusedesk.settings import Settings
from abusedesk.storage.db import Store
from abusedesk.storage.models import AuditEntry
from abusedesk.workspace import Workspace

from .conftest import T0


def _open(ws: Workspace, account: str, priority: str, policy: str = "consent") -> int:
    case_id, _ = do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id=account,
        policy=policy,
        priority=priority,
        queue="compliance",
        actor="lead",
        reason="test",
    )
    return case_id


def test_claim_next_takes_priority_then_earliest_due(ws: Workspace, clock: FixedClock) -> None:
    p3_old = _open(ws, "A", "P3")
    clock.advance(timedelta(minutes=1))
    p2 = _open(ws, "B", "P2")
    clock.advance(timedelta(minutes=1))
    p3_new = _open(ws, "C", "P3")
    order = [
        do_claim_next_case(ws.store, ws.clock, analyst="ann", queues=["compliance"])
        for _ in range(4)
    ]
    assert order == [p2, p3_old, p3_new, None]
    case = show_case(ws.store, p2)["case"]
    assert (case["assignee"], case["status"]) == ("ann", "triage")
    assert case["claimed_at"] == (T0 + timedelta(minutes=2)).isoformat()
    assert do_claim_next_case(ws.store, ws.clock, analyst="ann", queues=["fraud"]) is None


def test_snoozed_cases_wait_and_released_ones_come_back(ws: Workspace, clock: FixedClock) -> None:
    first = _open(ws, "A", "P1")
    second = _open(ws, "B", "P2")
    do_snooze_case(
        ws.store,
        ws.clock,
        case_id=first,
        until=T0 + timedelta(hours=1),
        actor="ann",
        reason="waiting on carrier",
    )
    assert do_claim_next_case(ws.store, ws.clock, analyst="ann", queues=["compliance"]) == second
    do_release_case(ws.store, ws.clock, case_id=second, actor="ann", reason="end of shift")
    assert do_claim_next_case(ws.store, ws.clock, analyst="bob", queues=["compliance"]) == second
    clock.advance(timedelta(hours=1))
    assert do_claim_next_case(ws.store, ws.clock, analyst="bob", queues=["compliance"]) == first
    with pytest.raises(InputError, match="future"):
        do_snooze_case(ws.store, ws.clock, case_id=first, until=T0, actor="a", reason="r")


def test_assign_reassign_and_escalate(ws: Workspace) -> None:
    case_id = _open(ws, "A", "P2")
    do_assign_case(ws.store, ws.clock, case_id=case_id, assignee="ann", actor="lead")
    do_assign_case(ws.store, ws.clock, case_id=case_id, assignee="bob", actor="lead", reason="load")
    with pytest.raises(InputError, match="reason"):
        do_escalate_case(ws.store, ws.clock, ws.desk, case_id=case_id, actor="bob", reason="")
    queue = do_escalate_case(
        ws.store, ws.clock, ws.desk, case_id=case_id, actor="bob", reason="needs a lead"
    )
    assert queue == "escalations"
    shown = show_case(ws.store, case_id)
    case = shown["case"]
    assert (case["queue"], case["assignee"], case["escalations"]) == ("escalations", None, 1)
    assert [e["kind"] for e in shown["timeline"]] == [
        "opened",
        "assigned",
        "reassigned",
        "escalated",
    ]
    assert shown["timeline"][-1]["body"]["reason"] == "needs a lead"
    with pytest.raises(ConflictError, match="no escalation target"):
        do_escalate_case(ws.store, ws.clock, ws.desk, case_id=case_id, actor="x", reason="r")
    with pytest.raises(ConflictError, match="not assigned"):
        do_release_case(ws.store, ws.clock, case_id=case_id, actor="x")
    # An analyst claiming from their queues no longer sees it; a lead does.
    analyst_queues = ws.desk.queues.workable_by("analyst")
    assert do_claim_next_case(ws.store, ws.clock, analyst="ann", queues=analyst_queues) is None
    lead_queues = ws.desk.queues.workable_by("lead")
    assert do_claim_next_case(ws.store, ws.clock, analyst="lee", queues=lead_queues) == case_id


def test_two_analysts_claiming_at_once_never_share_a_case(
    ws: Workspace, settings: Settings
) -> None:
    """Real concurrent connections: each analyst thread has its own Store (engine, pool,
    sessions), all released by one barrier, claiming until the queue is empty."""
    cases = 40
    for n in range(cases):
        _open(ws, f"AC{n}", ("P1", "P2", "P3")[n % 3])
    analysts = 4
    stores = [Store(settings.resolved_database_url) for _ in range(analysts)]
    barrier = threading.Barrier(analysts)
    claimed: dict[str, list[int]] = {f"analyst{i}": [] for i in range(analysts)}
    errors: list[BaseException] = []

    def work(name: str, store: Store) -> None:
        try:
            barrier.wait()
            while True:
                case_id = do_claim_next_case(store, ws.clock, analyst=name, queues=["compliance"])
                if case_id is None:
                    return
                claimed[name].append(case_id)
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(name, store))
        for name, store in zip(claimed, stores, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for store in stores:
        store.close()
    assert errors == []
    everything = [c for ids in claimed.values() for c in ids]
    assert len(everything) == len(set(everything)) == cases
    # Work was actually shared, so the claims did run side by side.
    assert sum(1 for ids in claimed.values() if ids) >= 2
    with ws.store.sessions() as session:
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "case.claimed")
        )
    assert audited == cases
    for name, ids in claimed.items():
        for case_id in ids:
            assert show_case(ws.store, case_id)["case"]["assignee"] == name
