"""`abusedesk notices`: preview and send the customer notice of an action."""

from __future__ import annotations

from typing import Any

import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import err, handles_errors, out
from abusedesk.errors import InputError
from abusedesk.notices.services import do_send_notice, draft_notice
from abusedesk.storage.models import Action
from abusedesk.workspace import Workspace

app = typer.Typer(help="Customer notices: preview, then send.", no_args_is_help=True)


def parse_fills(pairs: list[str]) -> dict[str, str]:
    fills = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--set takes name=value, not {pair!r}")
        fills[name.strip()] = value
    return fills


def lake_examples(ws: Workspace, account_id: str, limit: int) -> list[dict[str, Any]]:
    """The account's latest messages from the lake, as notice examples (masked later)."""
    if limit <= 0:
        return []
    with ws.lake_reader(locked=True) as reader:
        table = reader.arrow(
            'SELECT "to", ts, body FROM messages WHERE account_id = ? ORDER BY ts DESC LIMIT ?',
            [account_id, limit],
        )
    return [{"to": r["to"], "ts": str(r["ts"]), "body": r["body"]} for r in table.to_pylist()]


def _account_of(ws: Workspace, action_id: int) -> str:
    with ws.store.sessions() as session:
        action = session.get(Action, action_id)
        return action.account_id if action else ""


@app.command("preview")
@handles_errors
def preview_cmd(
    action_id: int = typer.Argument(..., help="The action the notice explains."),
    fill: list[str] = typer.Option([], "--set", help="Fill a placeholder: name=value."),
    examples: int = typer.Option(3, "--examples", help="Example messages from the lake."),
    part: str = typer.Option("text", "--part", help="text or html."),
) -> None:
    """Render the notice without sending it; unfilled placeholders are listed."""
    with workspace() as ws:
        enf = ws.enforcement()
        account = _account_of(ws, action_id)
        draft = draft_notice(
            enf,
            ws.notice_renderer(),
            action_id=action_id,
            fills=parse_fills(fill),
            examples=lake_examples(ws, account, examples),
            appeal_days=ws.settings.notice_appeal_days,
        )
    typer.echo(f"Subject: {draft.rendered.subject}\n")
    typer.echo(draft.rendered.html if part == "html" else draft.rendered.text)
    if draft.rendered.missing:
        err.print(
            "[yellow]fill before sending:[/] "
            + ", ".join(f"--set {m}=…" for m in draft.rendered.missing)
        )


@app.command("send")
@handles_errors
def send_cmd(
    action_id: int = typer.Argument(..., help="The action the notice explains."),
    fill: list[str] = typer.Option([], "--set", help="Fill a placeholder: name=value."),
    channel: str = typer.Option("email", "--channel", help="email or zendesk."),
    to: str | None = typer.Option(None, "--to", help="Recipient; default: the account email."),
    examples: int = typer.Option(3, "--examples", help="Example messages from the lake."),
    actor: str = typer.Option("cli", "--as", help="Who sends it (for the audit log)."),
) -> None:
    """Queue the notice in the outbox (the worker delivers it) and on the case timeline."""
    with workspace() as ws:
        account = _account_of(ws, action_id)
        sent = do_send_notice(
            ws.enforcement(),
            ws.notice_renderer(),
            action_id=action_id,
            actor=actor,
            channel=channel,
            recipient=to,
            fills=parse_fills(fill),
            examples=lake_examples(ws, account, examples),
            appeal_days=ws.settings.notice_appeal_days,
        )
    out.print(f"notice {sent['id']} queued by {channel} to {sent['recipient']}")
