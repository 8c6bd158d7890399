"""`rules lint` and `rules test` through typer's CliRunner: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abusedesk.cli.rules import app

PACKS = Path(__file__).parent / "packs"
runner = CliRunner()

FAILING = """\
features:
  otp_starts_1h: {count: verification, where: "stage = 'start'", by: [account_id], window: 1h}
rules:
  - id: otp-burst
    policy: artificially-inflated-traffic
    severity: high
    when: to_cost_tier = 'high' AND otp_starts_1h >= 40 AND NOT is_otp_like
    verdict: block
    tests:
      - name: burst
        given: {to_cost_tier: high, otp_starts_1h: 55, is_otp_like: false}
        expect: match
      - name: looks like an OTP, still a burst
        given: {to_cost_tier: high, otp_starts_1h: 55}
        expect: match
"""


def test_lint_good_pack_exits_0() -> None:
    result = runner.invoke(app, ["lint", str(PACKS / "good.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output == "0 errors, 0 warnings in 7 rules\n"


def test_lint_mistakes_exits_1_with_summary() -> None:
    result = runner.invoke(app, ["lint", str(PACKS / "mistakes.yaml")])
    assert result.exit_code == 1
    assert result.output.endswith("\n\n13 errors, 1 warning in 11 rules\n")
    assert "\x1b[" not in result.output  # no colour codes when not on a terminal


def test_lint_warnings_only_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "warn.yaml"
    path.write_text(
        "rules:\n  - {id: r1, policy: spam, severity: low, verdict: block, when: has_url}\n"
    )
    result = runner.invoke(app, ["lint", str(path)])
    assert result.exit_code == 0
    assert "warning[block-low-severity]" in result.output
    assert result.output.endswith("0 errors, 2 warnings in 1 rule\n")


def test_lint_json() -> None:
    result = runner.invoke(app, ["lint", "--format", "json", str(PACKS / "mistakes.yaml")])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["summary"] == {"errors": 13, "warnings": 1, "rules": 11}
    first = body["diagnostics"][0]
    assert set(first) == {"severity", "code", "message", "file", "line", "col", "end_col", "hint"}
    clean = runner.invoke(app, ["lint", "--format", "json", str(PACKS / "good.yaml")])
    assert clean.exit_code == 0
    assert json.loads(clean.output)["diagnostics"] == []


def test_lint_missing_path() -> None:
    result = runner.invoke(app, ["lint", "/nonexistent/pack.yaml"])
    assert result.exit_code == 1
    assert "error[io-error]: /nonexistent/pack.yaml does not exist" in result.output


def test_test_good_pack() -> None:
    result = runner.invoke(app, ["test", str(PACKS / "good.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "✓ sms-pumping-burst › burst to a high-cost prefix"
    assert lines[-1] == "17 passed, 0 failed"


def test_test_failure_shows_the_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("failing.yaml").write_text(FAILING)
    result = runner.invoke(app, ["test", "failing.yaml"])
    assert result.exit_code == 1
    assert result.output == (
        "✓ otp-burst › burst\n"
        "✗ otp-burst › looks like an OTP, still a burst  (failing.yaml:13)\n"
        "    expected match, got no_match: the condition is NULL\n"
        "          to_cost_tier = 'high'  -> TRUE   (to_cost_tier = 'high')\n"
        "      AND otp_starts_1h >= 40    -> TRUE   (otp_starts_1h = 55)\n"
        "      AND NOT is_otp_like        -> NULL   (is_otp_like = NULL)\n"
        "1 passed, 1 failed\n"
    )


def test_test_refuses_a_pack_with_errors() -> None:
    result = runner.invoke(app, ["test", str(PACKS / "mistakes.yaml")])
    assert result.exit_code == 1
    assert "warning[" not in result.output  # only what blocks testing
    assert result.output.endswith("13 errors: fix them (see `rules lint`) before testing\n")


def test_help_lists_both_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "lint" in result.output
    assert "test" in result.output
