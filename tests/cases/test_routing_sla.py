"""Routing by the queue file and SLA clocks on a fixed clock (business hours included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from abusedesk.cases.lifecycle import do_open_case, do_set_case_status
from abusedesk.cases.queues import load_queues, parse_queues
from abusedesk.cases.read import queue_summaries, show_case, sla_lists
from abusedesk.cases.sla import add_working_time, clocks
from abusedesk.clock import FixedClock
from abusedesk.errors import ConfigError
from abusedesk.workspace import Workspace

from .conftest import T0, Fire, rule


def test_shipped_queue_file_routes_by_source_policy_and_account() -> None:
    book = load_queues()
    route = book.route
    assert route(policy="phishing", severity="high", source="report", account={}) == "fraud"
    assert route(policy="abuse-report", severity="low", source="report", account={}) == (
        "abuse-reports"
    )
    otp = {"declared_use_case": "otp"}
    assert (
        route(
            policy="artificially-inflated-traffic", severity="high", source="detection", account=otp
        )
        == "fraud"
    )
    assert (
        route(policy="compromised-account", severity="critical", source="detection", account={})
        == "security"
    )
    # No route: the rule's queue when the book has it, else the default.
    assert (
        route(
            policy="consent", severity="low", source="detection", account={}, suggested="compliance"
        )
        == "compliance"
    )
    assert (
        route(policy="consent", severity="low", source="detection", account={}, suggested="nowhere")
        == "general"
    )
    assert "escalations" not in book.workable_by("analyst")
    assert "escalations" in book.workable_by("lead")
    assert book.workable_by("viewer") == []


def _book(**queue: Any) -> dict[str, Any]:
    sla = {p: {"first_response": "1h", "resolution": "8h"} for p in ("P1", "P2", "P3", "P4")}
    return {"queues": [{"name": "general", "roles": ["analyst"], "sla": sla, **queue}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sla": {"P1": {"first_response": "1h", "resolution": "2h"}}}, "must give P1, P2"),
        ({"roles": []}, "roles"),
        ({"escalate_to": "nowhere"}, "escalates to 'nowhere'"),
        ({"routes": [{"colour": ["red"]}]}, "a route is a mapping"),
        ({"routes": [{"source": ["fax"]}]}, "source must be among"),
        (
            {"business_hours": {"timezone": "Mars/Olympus", "start": "09:00", "end": "17:00"}},
            "business_hours",
        ),
    ],
)
def test_queue_file_mistakes_name_the_queue_and_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_queues(_book(**change), "queues.yaml")
    assert "(general)" in str(info.value) or "escalates" in str(info.value)


def test_queue_file_from_a_setting(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("queues: [{name: x}]\n")
    with pytest.raises(ConfigError, match=r"q.yaml: queues\[0\] \(x\): `sla` must give"):
        load_queues(path)


def test_business_hours_clock() -> None:
    hours = load_queues().get("abuse-reports").business_hours
    friday = datetime(2026, 3, 6, 17, 30, tzinfo=UTC)
    # 30 minutes on Friday, 3.5 hours on Monday from 08:00.
    assert add_working_time(friday, timedelta(hours=4), hours) == datetime(
        2026, 3, 9, 11, 30, tzinfo=UTC
    )
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert add_working_time(saturday, timedelta(hours=1), hours) == datetime(
        2026, 3, 9, 9, 0, tzinfo=UTC
    )
    assert add_working_time(friday, timedelta(hours=4), None) == friday + timedelta(hours=4)
    first, resolution = clocks(load_queues().get("fraud"), "P1", T0)
    assert (first, resolution) == (T0 + timedelta(minutes=30), T0 + timedelta(hours=4))


def test_detection_case_gets_its_queues_clocks(ws: Workspace, fire: Fire) -> None:
    (case_id,) = fire("AC1", rule(priority="P1"))
    case = show_case(ws.store, case_id)["case"]
    assert case["queue"] == "fraud"
    assert case["first_response_due_at"] == (T0 + timedelta(minutes=30)).isoformat()
    assert case["resolution_due_at"] == (T0 + timedelta(hours=4)).isoformat()


def test_a_more_urgent_rule_tightens_the_clocks(
    ws: Workspace, fire: Fire, clock: FixedClock
) -> None:
    (case_id,) = fire("AC1", rule(priority="P3"))
    clock.advance(timedelta(hours=1))
    fire("AC1", rule("pump-otp-burst", priority="P1"))
    case = show_case(ws.store, case_id)["case"]
    assert case["priority"] == "P1"
    assert case["resolution_due_at"] == (T0 + timedelta(hours=4)).isoformat()


def test_at_risk_and_breached_move_with_the_clock(ws: Workspace, clock: FixedClock) -> None:
    case_id, _ = do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id="AC1",
        policy="phishing",
        priority="P1",
        queue="fraud",
        actor="a",
        reason="r",
    )
    # fraud P1: first response 30 min, resolution 4 h; at risk with a quarter left.
    assert sla_lists(ws.store, ws.desk, clock.now(), which="at_risk") == []
    clock.advance(timedelta(minutes=25))
    risky = sla_lists(ws.store, ws.desk, clock.now(), which="at_risk")
    assert [r["case"]["case_id"] for r in risky] == [case_id]
    assert risky[0]["clocks"] == {"first_response": "at_risk", "resolution": "ok"}
    clock.advance(timedelta(minutes=10))
    breached = sla_lists(ws.store, ws.desk, clock.now(), which="breached")
    assert breached[0]["clocks"]["first_response"] == "breached"
    assert sla_lists(ws.store, ws.desk, clock.now(), which="at_risk") == []
    # Answering late leaves the first response missed, not breached any more.
    do_set_case_status(
        ws.store, ws.clock, case_id=case_id, status="investigating", actor="a", reason="r"
    )
    assert sla_lists(ws.store, ws.desk, clock.now(), which="breached") == []
    clock.advance(timedelta(hours=4))
    late = sla_lists(ws.store, ws.desk, clock.now(), which="breached")
    assert late[0]["clocks"] == {"first_response": "missed", "resolution": "breached"}
    summary = {q["name"]: q for q in queue_summaries(ws.store, ws.desk, clock.now())}
    assert (summary["fraud"]["open"], summary["fraud"]["resolution_breached"]) == (1, 1)
    assert summary["general"]["open"] == 0
