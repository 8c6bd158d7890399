"""Detection from the command line: ingest with detection, cases list and close, detect again,
and the evaluation against labels."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from abusedesk.cli.main import app

runner = CliRunner()


def pumping(path: Path) -> Path:
    """An account whose OTPs to a high-cost prefix are never verified (DOMAIN.md §3.5)."""
    rows = [
        {
            "id": "signup",
            "type": "account",
            "ts": "2026-03-01T00:00:00Z",
            "account_id": "ACpump",
            "action": "signup",
            "country": "GB",
        }
    ]
    for i in range(40):
        rows.append(
            {
                "id": f"v{i}",
                "type": "verification",
                "ts": f"2026-03-01T10:{i:02d}:00Z",
                "account_id": "ACpump",
                "verification_id": f"VE{i}",
                "stage": "start",
                "to": f"+23767{i:07d}",
            }
        )
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


@pytest.mark.usefixtures("cli_env")
def test_ingest_detects_and_cases_can_be_listed_closed_and_evaluated(tmp_path: Path) -> None:
    data = pumping(tmp_path / "e.jsonl")
    ingested = runner.invoke(app, ["ingest", str(data)])
    assert ingested.exit_code == 0, ingested.output
    assert "cases opened" in ingested.output

    listed = runner.invoke(app, ["cases", "list", "--json"])
    cases = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert {c["policy"] for c in cases} == {"artificially-inflated-traffic"}
    case = cases[0]
    required = {
        "case_id",
        "account_id",
        "policy",
        "queue",
        "priority",
        "status",
        "opened_at",
        "first_signal_at",
        "rules",
    }
    assert required <= case.keys()
    assert case["account_id"] == "ACpump"
    assert case["queue"] == "fraud"
    # The priority follows the account's risk score (P1 from 0.8), under the pack's P1 ceiling;
    # the score and each rule's share are on the case.
    assert case["risk"]["score"] == case["risk_score"]
    assert set(case["risk"]["contributions"]) == set(case["rules"])
    assert case["risk_score"] >= 0.7
    assert case["priority"] == ("P1" if case["risk_score"] >= 0.8 else "P2")

    again = runner.invoke(app, ["detect", "--json"])
    assert again.exit_code == 0
    assert orjson.loads(again.stdout)["signals"] == 0  # nothing raised twice

    labels = tmp_path / "labels.json"
    labels.write_bytes(orjson.dumps({"ACpump": "sms_pumping"}))
    report = runner.invoke(app, ["eval", "detection", "--labels", str(labels), "--json"])
    assert report.exit_code == 0, report.output
    assert orjson.loads(report.stdout)["overall"]["recall"] == 1.0

    closed = runner.invoke(
        app,
        [
            "cases",
            "close",
            str(case["case_id"]),
            "--outcome",
            "confirmed",
            "--reason",
            "codes never entered",
        ],
    )
    assert closed.exit_code == 0, closed.output
    twice = runner.invoke(
        app, ["cases", "close", str(case["case_id"]), "--outcome", "confirmed", "--reason", "again"]
    )
    assert twice.exit_code == 1
    assert "closed already" in twice.stderr
    bad = runner.invoke(app, ["cases", "close", "99999", "--outcome", "confirmed", "--reason", "x"])
    assert bad.exit_code == 1
    assert "no case 99999" in bad.stderr


@pytest.mark.usefixtures("cli_env")
def test_no_detect_opens_nothing(tmp_path: Path) -> None:
    runner.invoke(app, ["ingest", str(pumping(tmp_path / "e.jsonl")), "--no-detect"])
    assert runner.invoke(app, ["cases", "list", "--json"]).stdout == ""


@pytest.mark.usefixtures("cli_env")
def test_detect_since_warms_its_windows_first(tmp_path: Path) -> None:
    """40 unverified OTPs straddle --since: the budget rule needs the earlier ones counted."""
    runner.invoke(app, ["ingest", str(pumping(tmp_path / "e.jsonl")), "--no-detect"])
    result = runner.invoke(app, ["detect", "--since", "2026-03-01T10:30:00Z", "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["cases_opened"] == 1
    cases = [
        orjson.loads(x) for x in runner.invoke(app, ["cases", "list", "--json"]).stdout.splitlines()
    ]
    assert cases[0]["first_signal_at"] >= "2026-03-01T10:30:00"
