"""Working cases from the command line: list, show, claim, assign, note, escalate, merge,
close, and the queues; --json on every read, one red line on errors."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from abusedesk.cli.main import app

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _json_lines(*args: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in _ok(*args).splitlines()]


@pytest.mark.usefixtures("cli_env")
def test_cases_worked_from_the_cli() -> None:
    for account, policy in (("AC1", "consent"), ("AC2", "consent"), ("AC1", "phishing")):
        _ok(
            "cases",
            "open",
            "--account",
            account,
            "--policy",
            policy,
            "--reason",
            "test",
            "--as",
            "lee",
        )
    cases = _json_lines("cases", "list", "--json")
    assert len(cases) == 3
    ids = {(c["account_id"], c["policy"]): c["case_id"] for c in cases}
    table = _ok("cases", "list")
    # The table's first column is the case number; the terminal's width decides the rest.
    assert all(f"│ {case_id} " in table for case_id in ids.values())

    claimed = orjson.loads(_ok("cases", "claim", "--as", "ann", "--json"))
    assert claimed["assignee"] == "ann"
    assert "claimed case" in _ok("cases", "claim", "--as", "bob")
    first = ids[("AC1", "consent")]
    assert "assigned to cy" in _ok("cases", "assign", str(first), "--to", "cy", "--as", "lee")
    assert "mentions lee" in _ok(
        "cases", "note", str(first), "@lee opt-in forms missing", "--as", "cy"
    )
    assert "escalated to escalations" in _ok(
        "cases", "escalate", str(first), "--reason", "repeat offender", "--as", "cy"
    )
    merged = _ok(
        "cases",
        "merge",
        str(first),
        str(ids[("AC2", "consent")]),
        "--reason",
        "same operator",
        "--as",
        "lee",
    )
    assert "into case" in merged
    closed = _ok(
        "cases",
        "close",
        str(first),
        "--resolution",
        "violation_confirmed",
        "--reason",
        "no consent records",
        "--as",
        "lee",
    )
    assert "closed: violation_confirmed" in closed
    shown = orjson.loads(_ok("cases", "show", str(first), "--json"))
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds[0] == "opened"
    assert {"claimed", "reassigned", "note", "escalated", "merged", "closed"} <= set(kinds)
    assert "timeline" not in _ok("cases", "show", str(first))  # readable, not JSON
    queues = _json_lines("queues", "list", "--json")
    assert {q["name"] for q in queues} >= {"fraud", "general"}
    assert "open" in _ok("queues", "list")  # a table (its width follows the terminal)
    assert _ok("queues", "breached", "--json") == ""

    missing = runner.invoke(app, ["cases", "show", "999"])
    assert missing.exit_code == 1
    assert "no case 999" in missing.stderr
    bad = runner.invoke(app, ["cases", "list", "--status", "pending"])
    assert bad.exit_code == 1
    assert "unknown status" in bad.stderr
