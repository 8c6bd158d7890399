"""Merge and split move work between cases; a quick refire after no_violation links back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from abusedesk.cases.assignment import do_claim_next_case
from abusedesk.cases.lifecycle import do_close_case, do_open_case
from abusedesk.cases.merge import do_merge_cases, do_split_case
from abusedesk.cases.notes import do_add_note
from abusedesk.cases.read import show_case
from abusedesk.clock import FixedClock
from abusedesk.errors import ConflictError, InputError
from abusedesk.storage.models import Signal
from abusedesk.workspace import Workspace

from .conftest import Fire, rule


def test_merge_moves_evidence_and_timeline_to_the_survivor(ws: Workspace, fire: Fire) -> None:
    (survivor,) = fire("AC1", rule(priority="P3"))
    (other,) = fire(
        "AC1",
        rule(
            "consent-stop", policy="consent", queue="compliance", priority="P2", severity="medium"
        ),
    )
    do_add_note(ws.store, ws.clock, case_id=other, text="same sender", actor="ann")
    merged = do_merge_cases(
        ws.store,
        ws.clock,
        survivor_id=survivor,
        case_ids=[other, survivor],
        actor="ann",
        reason="one campaign",
    )
    assert merged == [other]
    kept = show_case(ws.store, survivor)
    gone = show_case(ws.store, other)
    assert kept["case"]["signal_count"] == 2
    assert kept["case"]["priority"] == "P2"
    assert set(kept["case"]["rules"]) == {"pump-otp", "consent-stop"}
    assert len([e for e in kept["evidence"] if e["kind"] == "signal"]) == 2
    assert {s["rule"] for s in kept["signals"]} == {"pump-otp", "consent-stop"}
    kinds = [e["kind"] for e in kept["timeline"]]
    assert "note" in kinds  # the merged case's timeline moved
    assert kinds[-1] == "merged"
    assert kept["linked"]["merged"] == [other]
    assert gone["case"]["status"] == "closed"
    assert gone["case"]["resolution"] == "duplicate"
    assert gone["case"]["merged_into"] == survivor
    assert [e["kind"] for e in gone["timeline"]] == ["merged_into"]
    assert gone["evidence"] == []
    assert gone["signals"] == []
    with pytest.raises(ConflictError, match=f"merged into case {survivor}"):
        do_merge_cases(
            ws.store, ws.clock, survivor_id=survivor, case_ids=[other], actor="a", reason="again"
        )
    with pytest.raises(InputError, match="other than itself"):
        do_merge_cases(
            ws.store, ws.clock, survivor_id=survivor, case_ids=[survivor], actor="a", reason="r"
        )


def test_split_moves_signals_into_a_new_linked_case(ws: Workspace, fire: Fire) -> None:
    (case_id,) = fire("AC1")
    fire("AC1", rule("pump-geo"))
    fire("AC1", rule("pump-velocity"))
    with ws.store.sessions() as session:
        geo = session.execute(select(Signal.id).where(Signal.rule_id == "pump-geo")).scalar_one()
    with pytest.raises(ConflictError, match="open artificially-inflated-traffic case already"):
        do_split_case(
            ws.store,
            ws.clock,
            ws.desk,
            case_id=case_id,
            signal_ids=[geo],
            actor="ann",
            reason="different issue",
        )
    new_id = do_split_case(
        ws.store,
        ws.clock,
        ws.desk,
        case_id=case_id,
        signal_ids=[geo],
        actor="ann",
        reason="a consent problem, not pumping",
        policy="consent",
    )
    new = show_case(ws.store, new_id)
    old = show_case(ws.store, case_id)
    assert new["case"]["split_from"] == case_id
    assert new["case"]["policy"] == "consent"
    assert [s["id"] for s in new["signals"]] == [geo]
    assert [e["ref"] for e in new["evidence"]] == [str(geo)]
    assert old["case"]["signal_count"] == 2
    assert "pump-geo" not in old["case"]["rules"]
    assert old["linked"]["split_off"] == [new_id]
    assert old["timeline"][-1]["kind"] == "split"
    with pytest.raises(InputError, match="not on case"):
        do_split_case(
            ws.store,
            ws.clock,
            ws.desk,
            case_id=case_id,
            signal_ids=[geo],
            actor="ann",
            reason="r",
            policy="x",
        )


def test_refire_soon_after_no_violation_links_the_closed_case(
    ws: Workspace, fire: Fire, clock: FixedClock
) -> None:
    (first,) = fire("AC1")
    do_close_case(
        ws.store,
        ws.clock,
        case_id=first,
        resolution="no_violation",
        actor="ann",
        reason="a real OTP surge",
    )
    clock.advance(timedelta(hours=10))
    (second,) = fire("AC1")
    assert second != first
    shown = show_case(ws.store, second)
    assert shown["case"]["reopened_from"] == first
    assert shown["timeline"][0]["body"]["reopened_from"] == first
    assert show_case(ws.store, first)["timeline"][-1]["kind"] == "refired"
    # Confirmed violations and closes outside the window do not link.
    do_close_case(
        ws.store,
        ws.clock,
        case_id=second,
        resolution="violation_confirmed",
        actor="ann",
        reason="pumping after all",
    )
    (third,) = fire("AC1")
    assert show_case(ws.store, third)["case"]["reopened_from"] is None
    do_close_case(
        ws.store, ws.clock, case_id=third, resolution="no_violation", actor="ann", reason="r"
    )
    clock.advance(ws.desk.reopen_window + timedelta(minutes=1))
    (fourth,) = fire("AC1")
    assert show_case(ws.store, fourth)["case"]["reopened_from"] is None


def test_merged_cases_are_never_claimed(ws: Workspace) -> None:
    a, _ = do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id="A",
        policy="x",
        queue="general",
        actor="l",
        reason="r",
    )
    b, _ = do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id="B",
        policy="x",
        queue="general",
        actor="l",
        reason="r",
    )
    do_merge_cases(ws.store, ws.clock, survivor_id=a, case_ids=[b], actor="l", reason="ring")
    assert do_claim_next_case(ws.store, ws.clock, analyst="ann", queues=["general"]) == a
    assert do_claim_next_case(ws.store, ws.clock, analyst="ann", queues=["general"]) is None
