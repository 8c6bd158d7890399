"""Reports in: resolved through the registry, landing on the account's case or held unmatched."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from abusedesk.cases.read import show_case
from abusedesk.cases.reports import do_attach_report, list_reports, target_values
from abusedesk.errors import ConflictError, InputError
from abusedesk.workspace import Workspace

from .conftest import T0, Fire

Account = Callable[..., str]


def _report(n: int, **fields: object) -> dict[str, object]:
    return {
        "id": f"r{n}",
        "type": "report",
        "ts": T0.isoformat(),
        "report_id": f"R{n}",
        "reporter": "carrier",
        "category": "spam",
        **fields,
    }


def _ingest(ws: Workspace, *events: dict[str, object]) -> None:
    summary = ws.ingestor().ingest_objects(list(events), source="test")
    assert summary.accepted == len(events), summary


@pytest.mark.parametrize(
    ("target", "values"),
    [
        ("+1 500 555 0006", ["+15005550006"]),
        ("Ops@NewCo.example", ["ops@newco.example", "newco.example"]),
        ("https://www.Evil.example/login?x=1", ["www.evil.example", "evil.example"]),
        ("evil.example", ["evil.example"]),
    ],
)
def test_targets_become_registry_values(target: str, values: list[str]) -> None:
    assert target_values(target) == values


def test_reports_land_on_the_accounts_case_or_wait_unmatched(
    ws: Workspace, account: Account, fire: Fire
) -> None:
    account("AC1", ("phone", "+15005550006"), ("domain", "newco.example"))
    account("AC2", ("domain", "shared.example"))
    account("AC3", ("domain", "shared.example"))
    fire("AC1", category="x")  # an open pumping case: not the report's policy
    _ingest(
        ws,
        _report(1, target="+15005550006", reporter_contact="alice@example.org"),
        _report(2, target="https://newco.example/win", category="harassment"),
        _report(3, target="+19999999999"),  # nobody uses it
        _report(4, target="shared.example"),  # two accounts use it
        _report(5, account_id="AC1", category="phishing"),
    )
    rows = {r["report_id"]: r for r in list_reports(ws.store)[0]}
    assert {k: v["status"] for k, v in rows.items()} == {
        "R1": "matched",
        "R2": "matched",
        "R3": "unmatched",
        "R4": "unmatched",
        "R5": "matched",
    }
    # R1 and R2 share the abuse-report case of AC1; R5 (phishing) has its own, in fraud, P1.
    assert rows["R1"]["case_id"] == rows["R2"]["case_id"] != rows["R5"]["case_id"]
    abuse = show_case(ws.store, rows["R1"]["case_id"])
    assert abuse["case"]["source"] == "report"
    assert abuse["case"]["queue"] == "abuse-reports"
    assert [r["report_id"] for r in abuse["reports"]] == ["R1", "R2"]
    frozen = [e["body"] for e in abuse["evidence"] if e["kind"] == "report"]
    assert frozen[0]["reporter_contact"] == "alice@example.org"
    assert frozen[0]["reporter_hidden"] is True
    phishing = show_case(ws.store, rows["R5"]["case_id"])["case"]
    assert (phishing["policy"], phishing["queue"], phishing["priority"]) == (
        "phishing",
        "fraud",
        "P1",
    )
    unmatched, _ = list_reports(ws.store, status="unmatched")
    assert [r["report_id"] for r in unmatched] == ["R3", "R4"]


def test_an_analyst_attaches_an_unmatched_report(ws: Workspace, account: Account) -> None:
    account("AC2", ("domain", "shared.example"))
    account("AC3", ("domain", "shared.example"))
    _ingest(ws, _report(4, target="shared.example"), _report(6, target="nobody.example"))
    case_id = do_attach_report(
        ws.store,
        ws.clock,
        ws.desk,
        report_id="R4",
        account_id="AC3",
        actor="ann",
        reason="the link's path is AC3's campaign",
    )
    shown = show_case(ws.store, case_id)
    assert shown["case"]["account_id"] == "AC3"
    assert [r["report_id"] for r in shown["reports"]] == ["R4"]
    assert shown["timeline"][-1]["kind"] == "report_attached"
    assert (
        do_attach_report(
            ws.store, ws.clock, ws.desk, report_id="R6", case_id=case_id, actor="ann", reason="same"
        )
        == case_id
    )
    assert len(show_case(ws.store, case_id)["reports"]) == 2
    with pytest.raises(ConflictError, match="already"):
        do_attach_report(
            ws.store, ws.clock, ws.desk, report_id="R4", case_id=case_id, actor="ann", reason="r"
        )
    with pytest.raises(InputError, match="one of them"):
        do_attach_report(ws.store, ws.clock, ws.desk, report_id="R4", actor="ann", reason="r")


def test_report_and_detection_meet_on_one_case(ws: Workspace, account: Account) -> None:
    """A phishing report from a carrier: the playbook's rule opens the phishing case and the
    report lands on the same one."""
    account("AC1", ("phone", "+15005550006"))
    consumer = ws.detection_consumer()
    summary = ws.ingestor(consumers=[consumer]).ingest_objects(
        [_report(7, target="+15005550006", category="phishing")], source="test"
    )
    assert summary.accepted == 1
    rows, _ = list_reports(ws.store)
    shown = show_case(ws.store, rows[0]["case_id"])
    assert shown["case"]["policy"] == "phishing"
    assert shown["signals"]
    assert shown["reports"]
    assert orjson.dumps(shown)  # the whole case serialises
