"""`abusedesk users`: the people who use the desk and their roles."""

from __future__ import annotations

import orjson
import typer

from abusedesk.auth.users import do_create_user, do_disable_user, list_users
from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out, print_rows

app = typer.Typer(help="Users: one role each; their tokens carry it.", no_args_is_help=True)


@app.command("create")
@handles_errors
def create(
    username: str = typer.Argument(..., help="Lower-case login name, e.g. alice."),
    role: str = typer.Option(..., "--role", help="viewer, analyst, lead or admin."),
    display_name: str | None = typer.Option(None, "--name", help="Full name shown in the desk."),
) -> None:
    """Create a user. Make them a token with `abusedesk tokens create --user NAME`."""
    with workspace() as ws:
        user_id = do_create_user(
            ws.store, ws.clock, username=username, role=role, display_name=display_name, actor="cli"
        )
    out.print(f"user {user_id} {username} ({role}) created")


@app.command("list")
@handles_errors
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List users with their role and live token count."""
    with workspace() as ws:
        users = []
        after = 0
        while batch := list_users(ws.store, after_id=after, limit=500):
            users += batch
            after = batch[-1].id
    if as_json:
        for user in users:
            typer.echo(orjson.dumps(user.to_dict()).decode())
        return
    print_rows(
        ["id", "username", "name", "role", "disabled", "tokens", "created_at"],
        [
            (
                u.id,
                u.username,
                u.display_name,
                u.role,
                "yes" if u.disabled else "",
                u.tokens,
                u.created_at.isoformat(timespec="seconds"),
            )
            for u in users
        ],
        "table",
    )


@app.command("disable")
@handles_errors
def disable(
    username: str = typer.Argument(..., help="The user to disable."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
) -> None:
    """Disable a user: their tokens are refused from now on."""
    with workspace() as ws:
        do_disable_user(ws.store, ws.clock, username=username, actor="cli", reason=reason)
    out.print(f"user {username} disabled; their tokens no longer work")
