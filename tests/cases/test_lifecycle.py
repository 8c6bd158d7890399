"""A case from open to close: one per account and policy, states, resolutions, timeline, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from abusedesk.cases.lifecycle import (
    do_add_timeline_entry,
    do_close_case,
    do_open_case,
    do_reopen_case,
    do_set_case_status,
)
from abusedesk.cases.notes import do_add_note, mentions
from abusedesk.cases.read import page_cases, show_case
from abusedesk.cases.services import case_outcomes
from abusedesk.clock import FixedClock
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.storage.models import AuditEntry
from abusedesk.workspace import Workspace

from .conftest import T0, Fire


def test_detection_opens_one_case_per_account_and_policy(ws: Workspace, fire: Fire) -> None:
    opened = fire("AC1")
    assert len(opened) == 1
    assert fire("AC1") == []  # the second signal attaches
    case = show_case(ws.store, opened[0])
    assert case["case"]["status"] == "new"
    assert case["case"]["source"] == "detection"
    assert case["case"]["queue"] == "fraud"
    assert case["case"]["signal_count"] == 2
    assert [e["kind"] for e in case["timeline"]] == ["opened", "signal", "signal"]
    frozen = [e for e in case["evidence"] if e["kind"] == "signal"]
    assert len(frozen) == 2
    assert frozen[0]["body"]["condition"] == "otp_unverified_1h >= 30"
    assert frozen[0]["body"]["features"] == {"otp_unverified_1h": 41}


def test_a_person_opens_a_case_and_works_it_to_a_close(ws: Workspace, clock: FixedClock) -> None:
    case_id, opened = do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id="AC9",
        policy="phishing",
        priority="P1",
        actor="alice",
        reason="seen on a partner's feed",
    )
    assert opened
    again, opened_again = do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id="AC9",
        policy="phishing",
        actor="bob",
        reason="again",
    )
    assert (again, opened_again) == (case_id, False)
    clock.advance(timedelta(minutes=5))
    do_set_case_status(
        ws.store,
        ws.clock,
        case_id=case_id,
        status="investigating",
        actor="alice",
        reason="looking",
    )
    assert do_add_note(
        ws.store,
        ws.clock,
        case_id=case_id,
        text="@bob can you check the @carol. logs?",
        actor="alice",
    ) == ["bob", "carol"]
    do_set_case_status(
        ws.store,
        ws.clock,
        case_id=case_id,
        status="actioned",
        actor="enforcement",
        reason="suspended",
    )
    do_add_timeline_entry(
        ws.store,
        ws.clock,
        case_id=case_id,
        kind="action",
        actor="enforcement",
        body={"action": "suspend", "reason": "phishing"},
    )
    clock.advance(timedelta(hours=1))
    do_close_case(
        ws.store,
        ws.clock,
        case_id=case_id,
        resolution="violation_confirmed",
        actor="alice",
        reason="kit on the landing page",
    )
    shown = show_case(ws.store, case_id)
    case = shown["case"]
    assert case["status"] == "closed"
    assert case["resolution"] == "violation_confirmed"
    assert case["source"] == "manual"
    # First action is the first change a person made, not the opening.
    assert case["first_action_at"] == (T0 + timedelta(minutes=5)).isoformat()
    assert case["closed_at"] == (T0 + timedelta(minutes=65)).isoformat()
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds == ["opened", "status", "note", "status", "action", "closed"]
    with ws.store.sessions() as session:
        audit = session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.reason)
            .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case_id))
            .order_by(AuditEntry.id)
        ).all()
    assert audit[0] == ("case.open", "alice", "seen on a partner's feed")
    assert audit[-1] == ("case.close", "alice", "kit on the landing page")
    assert len(audit) == len(kinds)
    assert case_outcomes(ws.store) == {("AC9", "phishing"): "confirmed"}


def test_wrong_moves_are_refused(ws: Workspace) -> None:
    case_id, _ = do_open_case(
        ws.store, ws.clock, ws.desk, account_id="AC2", policy="consent", actor="a", reason="r"
    )
    with pytest.raises(InputError, match="status must be one of"):
        do_set_case_status(
            ws.store, ws.clock, case_id=case_id, status="closed", actor="a", reason="r"
        )
    with pytest.raises(InputError, match="resolution must be one of"):
        do_close_case(ws.store, ws.clock, case_id=case_id, resolution="meh", actor="a", reason="r")
    with pytest.raises(InputError, match="reason"):
        do_close_case(
            ws.store, ws.clock, case_id=case_id, resolution="duplicate", actor="a", reason=" "
        )
    with pytest.raises(NotFoundError):
        do_close_case(
            ws.store, ws.clock, case_id=999, resolution="duplicate", actor="a", reason="r"
        )
    # The first tooling's names still work.
    do_close_case(
        ws.store, ws.clock, case_id=case_id, resolution="false_positive", actor="a", reason="r"
    )
    assert show_case(ws.store, case_id)["case"]["resolution"] == "no_violation"
    with pytest.raises(ConflictError, match="closed already"):
        do_set_case_status(
            ws.store, ws.clock, case_id=case_id, status="triage", actor="a", reason="r"
        )


def test_reopen_by_hand(ws: Workspace, clock: FixedClock) -> None:
    case_id, _ = do_open_case(
        ws.store, ws.clock, ws.desk, account_id="AC3", policy="consent", actor="a", reason="r"
    )
    with pytest.raises(ConflictError, match="is open"):
        do_reopen_case(ws.store, ws.clock, ws.desk, case_id=case_id, actor="a", reason="r")
    do_close_case(
        ws.store, ws.clock, case_id=case_id, resolution="no_violation", actor="a", reason="r"
    )
    clock.advance(timedelta(days=2))
    do_reopen_case(ws.store, ws.clock, ws.desk, case_id=case_id, actor="lead", reason="new facts")
    case = show_case(ws.store, case_id)["case"]
    assert (case["status"], case["resolution"], case["closed_at"]) == ("triage", None, None)
    assert case["resolution_due_at"] > (T0 + timedelta(days=2)).isoformat()


def test_list_filters_and_cursor_pages(ws: Workspace, fire: Fire) -> None:
    for n in range(7):
        fire(f"AC{n}")
    do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id="ACx",
        policy="phishing",
        priority="P1",
        actor="a",
        reason="r",
    )
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        rows, cursor = page_cases(ws.store, status="open", limit=3, cursor=cursor)
        seen += [r.case_id for r in rows]
        pages += 1
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 8
    first, _ = page_cases(ws.store, limit=1)
    assert first[0].account_id == "ACx"  # P1 before P2
    only, _ = page_cases(ws.store, policy="phishing")
    assert [r.account_id for r in only] == ["ACx"]
    with pytest.raises(InputError, match="unknown status"):
        page_cases(ws.store, status="pending")
    with pytest.raises(InputError, match="bad cursor"):
        page_cases(ws.store, cursor="nonsense")


def test_mentions() -> None:
    assert mentions("ping @ann and @bob.smith, not me@example.com; @ann again") == [
        "ann",
        "bob.smith",
    ]
