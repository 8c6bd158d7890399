"""`abusedesk appeals`: open, list and decide appeals of actions."""

from __future__ import annotations

from pathlib import Path

import typer

from abusedesk.appeals.email_reply import do_appeal_by_email
from abusedesk.appeals.services import do_decide_appeal, do_open_appeal, list_appeals
from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out, print_rows
from abusedesk.errors import InputError

app = typer.Typer(help="Appeals of actions, each worked as its own case.", no_args_is_help=True)


@app.command("open")
@handles_errors
def open_cmd(
    action_id: int = typer.Argument(..., help="The action appealed."),
    message: str = typer.Option(..., "--message", help="The customer's words."),
    actor: str = typer.Option("cli", "--as", help="Who records it."),
) -> None:
    """Open an appeal of an action (a case in the appeals queue)."""
    with workspace() as ws:
        appeal = do_open_appeal(
            ws.enforcement(), action_id=action_id, message=message, channel="cli", actor=actor
        )
    out.print(f"appeal {appeal.id} open on action {action_id} (case {appeal.case_id})")


@app.command("email")
@handles_errors
def email_cmd(
    path: Path = typer.Argument(..., help="A reply to a notice, as an .eml file."),
) -> None:
    """Open an appeal from the customer's reply to a notice."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    with workspace() as ws:
        appeal = do_appeal_by_email(ws.enforcement(), raw)
    out.print(f"appeal {appeal.id} open on action {appeal.action_id} (case {appeal.case_id})")


@app.command("list")
@handles_errors
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="open, upheld, overturned."),
) -> None:
    """List appeals, newest first."""
    with workspace() as ws:
        rows = list_appeals(ws.enforcement(), status=status)
    print_rows(
        ["appeal", "action", "account", "case", "channel", "status", "decided by"],
        [
            (a.id, a.action_id, a.account_id, a.case_id, a.channel, a.status, a.decided_by)
            for a in rows
        ],
        "table",
    )


@app.command("decide")
@handles_errors
def decide_cmd(
    appeal_id: int = typer.Argument(...),
    decision: str = typer.Option(..., "--decision", help="uphold or overturn."),
    reason: str = typer.Option(..., "--reason", help="Why; told to the customer on overturn."),
    actor: str = typer.Option(..., "--as", help="Who decides (not who took the action)."),
    channel: str = typer.Option("email", "--channel", help="Reinstatement notice: email, zendesk."),
    probation: bool = typer.Option(
        True, "--probation/--no-probation", help="On overturn, probation with the policy's goals."
    ),
) -> None:
    """Uphold or overturn; overturning reverses the action, sends the reinstatement notice and
    (when the policy names goals and the action was on a case) starts a probation."""
    with workspace() as ws:
        appeal = do_decide_appeal(
            ws.enforcement(),
            ws.notice_renderer(),
            appeal_id=appeal_id,
            decision=decision,
            actor=actor,
            reason=reason,
            channel=channel,
            probation=probation,
        )
    extra = f"; reinstatement notice {appeal.notice_id} queued" if appeal.notice_id else ""
    extra += f"; probation {appeal.probation_id} started" if appeal.probation_id else ""
    out.print(f"appeal {appeal.id} {appeal.status}{extra}")
