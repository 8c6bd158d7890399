"""`abusedesk tokens`: API credentials."""

from __future__ import annotations

import typer

from abusedesk.auth.tokens import do_create_token, do_revoke_token, list_tokens
from abusedesk.cli.context import workspace
from abusedesk.cli.output import err, handles_errors, out, print_rows

app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)


@app.command("create")
@handles_errors
def create(
    name: str = typer.Option(
        ..., "--name", help="What the token is for, e.g. the sending service."
    ),
    role: str | None = typer.Option(
        None,
        "--role",
        help="Role of a service token: ingest (the default), viewer, analyst, lead or admin.",
    ),
    user: str | None = typer.Option(
        None, "--user", help="The user the token is for; it carries the user's role."
    ),
) -> None:
    """Create a token and print it once."""
    if user is None and role is None:
        role = "ingest"
    with workspace() as ws:
        token, token_id = do_create_token(
            ws.store, ws.clock, name=name, role=role, user=user, actor="cli"
        )
        typer.echo(token)
        owner = f" for {user}" if user else ""
        err.print(f"[dim]token {token_id} {name!r}{owner}; it is not shown again[/]")


@app.command("list")
@handles_errors
def list_() -> None:
    """List tokens (never the secret)."""
    with workspace() as ws:
        rows = [
            (
                t.id,
                t.name,
                t.prefix + "…",
                t.role,
                t.user_id or "",
                t.created_at,
                t.revoked_at or "",
            )
            for t in list_tokens(ws.store)
        ]
        columns = ["id", "name", "prefix", "role", "user_id", "created_at", "revoked_at"]
        print_rows(columns, rows, "table")


@app.command("revoke")
@handles_errors
def revoke(token_id: int = typer.Argument(..., help="The id `tokens list` shows.")) -> None:
    """Revoke a token; requests with it are refused from now on."""
    with workspace() as ws:
        do_revoke_token(ws.store, ws.clock, token_id=token_id, actor="cli")
        out.print(f"token {token_id} revoked")
