"""The whole loop on the command line, with a real SMTP server: an action, its notice by email,
the customer's reply to that email opening an appeal, the overturn starting a probation, and
the reinstatement notice (which says what the probation measures) reaching the customer."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abusedesk.cli.main import app as cli
from abusedesk.workspace import Workspace

from .conftest import POLICY, Inbox, add_account_and_case


def _ok(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_reply_to_the_notice_appeals_and_an_overturn_starts_probation(
    workspace: Workspace,
    cli_env: dict[str, str],
    smtp: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, port = smtp
    monkeypatch.setenv("ABUSEDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ABUSEDESK_SMTP_PORT", str(port))
    monkeypatch.setenv("ABUSEDESK_SMTP_FROM", "trust-safety@desk.example")
    case_id = add_account_and_case(workspace, "AC5", email_="admin@customer.example")
    _ok(
        ["actions", "take", "AC5", "--policy", POLICY, "--case", str(case_id),
         "--kind", "pause", "--override-reason", "second breach", "--reason",
         "complaints over 0.1 %", "--as", "ana"]
    )  # fmt: skip
    _ok(["notices", "send", "1", "--set", "threshold=0.1 %", "--as", "ana"])
    assert "1 delivered" in _ok(["outbox", "run", "--once"])
    [notice] = inbox.messages

    # The customer answers from their mail client: a reply quoting the notice.
    reply = email.message.EmailMessage(policy=email.policy.SMTP)
    reply["From"] = "Admin <admin@customer.example>"
    reply["To"] = str(notice["From"])
    reply["Subject"] = f"Re: {notice['Subject']}"
    reply["In-Reply-To"] = str(notice["Message-ID"])
    reply["References"] = str(notice["Message-ID"])
    reply.set_content(
        "We removed the purchased list and use confirmed opt-in now.\n\n> Hello Customer Ltd,\n"
    )
    path = tmp_path / "reply.eml"
    path.write_bytes(reply.as_bytes())
    opened = _ok(["appeals", "email", str(path)])
    assert opened.startswith("appeal 1 open on action 1")

    decided = _ok(
        ["appeals", "decide", "1", "--decision", "overturn", "--reason",
         "Confirmed opt-in is in place.", "--as", "lead"]
    )  # fmt: skip
    assert "probation 1 started" in decided
    assert "1 delivered" in _ok(["outbox", "run", "--once"])
    reinstatement = inbox.messages[-1]
    assert reinstatement["Subject"] == "Account AC5 reinstated"
    body = reinstatement.get_body(preferencelist=("plain",))
    assert body is not None
    text = " ".join(str(body.get_content()).split())
    assert "Confirmed opt-in is in place." in text
    assert "your account is on probation: we measure its spam complaint rate" in text
    assert "probation 1 AC5: continuing" in _ok(["probation", "run"])
    assert "active" in _ok(["probation", "list"])
