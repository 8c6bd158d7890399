"""`abusedesk db`: migrations of the relational store."""

from __future__ import annotations

import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out
from abusedesk.storage import db

app = typer.Typer(help="The relational store: migrations.", no_args_is_help=True)


@app.command("upgrade")
@handles_errors
def upgrade() -> None:
    """Apply every pending migration (ingest and serve also do this on first use)."""
    with workspace() as ws:
        store = db.Store(ws.settings.resolved_database_url, migrate=False)
        try:
            before = db.current_revision(store.engine)
            db.upgrade(store.engine)
            after = db.current_revision(store.engine)
        finally:
            store.close()
    out.print(f"database at {after} (was {before or 'empty'})")


@app.command("current")
@handles_errors
def current() -> None:
    """Print the schema revision of the store and the newest one this version knows."""
    ws = workspace()
    store = db.Store(ws.settings.resolved_database_url, migrate=False)
    out.print(
        f"current: {db.current_revision(store.engine) or 'empty'}  head: {db.head_revision()}"
    )
