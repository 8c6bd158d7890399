"""The enforcement commands: policies, actions take/reverse/list/status, outbox list/run/retry."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from abusedesk.cli.main import app
from abusedesk.enforcement.receiver import WebhookReceiver

runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_policies_list_and_show(cli_env: dict[str, str]) -> None:
    listing = ok("policies", "list", "--format", "csv")
    assert (
        "email-complaint-rate,high,90 d,warn -> pause for 72 h -> suspend -> terminate" in listing
    )
    assert "warn -> pause for 72 h -> suspend -> terminate" in ok(
        "policies", "show", "email-complaint-rate"
    )
    missing = runner.invoke(app, ["policies", "show", "nope"])
    assert missing.exit_code == 1
    assert "error: no policy 'nope'" in missing.output


def test_take_reverse_and_status(cli_env: dict[str, str]) -> None:
    assert "warn" in ok("actions", "propose", "AC1", "--policy", "email-complaint-rate")
    took = ok("actions", "take", "AC1", "--policy", "email-complaint-rate", "--reason", "0.6 %")
    assert took.startswith("took action 1: warn")
    paused = ok("actions", "take", "AC1", "--policy", "email-complaint-rate", "--reason", "again")
    assert "took action 2: pause account AC1 until" in paused
    assert "AC1: paused" in ok("actions", "status", "AC1")
    refused = runner.invoke(
        app,
        [
            "actions",
            "take",
            "AC1",
            "--policy",
            "email-complaint-rate",
            "--kind",
            "terminate",
            "--reason",
            "x",
        ],
    )
    assert refused.exit_code == 1
    assert "override reason" in refused.output
    assert "reversed by action 3" in ok("actions", "reverse", "2", "--reason", "FP")
    assert "AC1: active" in ok("actions", "status", "AC1")
    assert '"kind":"reversal"' in ok("actions", "list", "--account", "AC1", "--json")
    assert "0 action(s) expired" in ok("actions", "expire")


def test_outbox_run_delivers_to_the_platform(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver("cli-secret") as rx:
        monkeypatch.setenv("ABUSEDESK_WEBHOOK_URL", rx.url)
        monkeypatch.setenv("ABUSEDESK_WEBHOOK_SECRET", "cli-secret")
        ok("actions", "take", "AC7", "--kind", "suspend", "--reason", "r")
        assert "pending" in ok("outbox", "list")
        assert "1 sent, 1 delivered" in ok("outbox", "run", "--once")
    assert list(rx.accepted) == ["action.taken-1"]
    assert "delivered" in ok("outbox", "list", "--status", "delivered")
    assert "200" in ok("outbox", "log", "1")
    refused = runner.invoke(app, ["outbox", "retry", "1"])
    assert refused.exit_code == 1


def test_bulk_plan_approve_run_rollback(cli_env: dict[str, str]) -> None:
    planned = ok(
        "bulk",
        "plan",
        "--policy",
        "phishing",
        "--reason",
        "kit",
        "--accounts",
        "A1,A2",
        "--as",
        "ana",
    )
    assert "bulk job 1 planned: 2 account(s)" in planned
    assert "bulk job 1 done: 2 done, 0 failed" in ok("bulk", "run", "1", "--as", "ana")
    assert "A2: suspended" in ok("actions", "status", "A2")
    assert "rolled back" in ok("bulk", "rollback", "1", "--reason", "wrong list")
    assert "A2: active" in ok("actions", "status", "A2")
    none = runner.invoke(app, ["bulk", "plan", "--policy", "phishing", "--reason", "x"])
    assert none.exit_code == 1
    assert "exactly one of" in none.output


def test_notices_preview_blocks_until_filled(cli_env: dict[str, str]) -> None:
    ok("actions", "take", "AC1", "--policy", "email-complaint-rate", "--reason", "r")
    preview = runner.invoke(app, ["notices", "preview", "1"])
    assert preview.exit_code == 0, preview.output
    assert "Subject: Warning: warning on account AC1" in preview.output
    assert "[[FILL: threshold]]" in preview.output
    refused = runner.invoke(app, ["notices", "send", "1", "--to", "a@b.example"])
    assert refused.exit_code == 1
    assert "fill these placeholders before sending: threshold" in refused.output
    sent = ok("notices", "send", "1", "--to", "a@b.example", "--set", "threshold=0.1 %")
    assert "notice 1 queued by email to a@b.example" in sent


def test_appeals_open_and_decide(cli_env: dict[str, str]) -> None:
    ok("actions", "take", "AC1", "--kind", "suspend", "--reason", "r", "--as", "ana")
    assert "appeal 1 open on action 1" in ok("appeals", "open", "1", "--message", "not us")
    refused = runner.invoke(
        app, ["appeals", "decide", "1", "--decision", "overturn", "--reason", "x", "--as", "ana"]
    )
    assert refused.exit_code == 1
    assert "someone else" in refused.output
    decided = ok(
        "appeals", "decide", "1", "--decision", "uphold", "--reason", "kit", "--as", "lead"
    )
    assert "appeal 1 upheld" in decided
    assert "AC1: suspended" in ok("actions", "status", "AC1")
