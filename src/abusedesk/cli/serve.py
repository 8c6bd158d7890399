"""`abusedesk serve`: the HTTP API."""

from __future__ import annotations

import sys

import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out

SWITCH_INTERVAL_S = 0.0005


@handles_errors
def serve(
    host: str | None = typer.Option(None, "--host", help="Default: ABUSEDESK_API_HOST."),
    port: int | None = typer.Option(None, "--port", help="Default: ABUSEDESK_API_PORT."),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from abusedesk.api.app import create_app

    ws = workspace()
    # Ingest (POST /v1/events) runs in worker threads, decisions in the event loop: a thread
    # waiting for the GIL gets it after at most this long (Python's default is 5 ms, which a
    # decision pays several times over while a large post is parsed and detected).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    bind_host = host or ws.settings.api_host
    bind_port = port or ws.settings.api_port
    out.print(f"abusedesk API on http://{bind_host}:{bind_port} (docs: /docs)")
    # httptools and uvloop (dependencies) cost about half what h11 and asyncio's own loop do
    # per request; "auto" falls back to those where they are missing. No access log: a line
    # per decision would cost more than the decision.
    # The server also lifts expired actions and delivers the outbox, in a thread.
    uvicorn.run(
        create_app(ws, worker=True),
        host=bind_host,
        port=bind_port,
        log_level="warning",
        access_log=False,
        http="auto",
        loop="auto",
    )
