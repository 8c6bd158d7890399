"""`abusedesk outbox`: deliveries to the platform and to customers."""

from __future__ import annotations

import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out, print_rows
from abusedesk.enforcement.outbox import delivery_log, do_retry_delivery, list_outbox
from abusedesk.enforcement.worker import enforcement_round, enforcement_worker
from abusedesk.probation.worker import ProbationSweep

app = typer.Typer(
    help="The outbox: webhooks and notices, retried until delivered or dead.", no_args_is_help=True
)


@app.command("list")
@handles_errors
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="pending, delivered or dead."),
    limit: int = typer.Option(100, "--limit"),
) -> None:
    """List deliveries, newest first."""
    with workspace() as ws:
        rows = list_outbox(ws.store, status=status, limit=limit)
    print_rows(
        ["id", "delivery", "channel", "status", "attempts", "next attempt", "last error"],
        [
            (
                r.id,
                r.delivery_id,
                r.channel,
                r.status,
                r.attempts,
                r.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.last_error,
            )
            for r in rows
        ],
        "table",
    )


@app.command("log")
@handles_errors
def log_cmd(outbox_id: int = typer.Argument(..., help="The outbox item.")) -> None:
    """The delivery log of one item: every attempt."""
    with workspace() as ws:
        rows = delivery_log(ws.store, outbox_id)
    print_rows(
        ["ts", "ok", "status", "ms", "error"],
        [(a.ts.isoformat(), a.ok, a.status_code, a.duration_ms, a.error) for a in rows],
        "table",
    )


@app.command("retry")
@handles_errors
def retry_cmd(
    outbox_id: int = typer.Argument(..., help="A dead item to send again."),
    actor: str = typer.Option("cli", "--as", help="Who is retrying (for the audit log)."),
) -> None:
    """Put a dead delivery back in the queue."""
    with workspace() as ws:
        row = do_retry_delivery(ws.store, ws.clock, outbox_id=outbox_id, actor=actor)
    out.print(f"outbox item {row.id} ({row.delivery_id}) queued again")


@app.command("run")
@handles_errors
def run_cmd(
    once: bool = typer.Option(False, "--once", help="One round, then exit."),
) -> None:
    """Lift expired actions and deliver what is due, every ABUSEDESK_OUTBOX_INTERVAL_S; the
    probation sweep too, every ABUSEDESK_PROBATION_INTERVAL_S (not with --once)."""
    with workspace() as ws:
        if once:
            expired, stats = enforcement_round(ws.enforcement, ws.outbox)
            out.print(
                f"{len(expired)} expired; {stats.sent} sent, {stats.delivered} delivered, "
                f"{stats.retrying} retrying, {stats.dead} dead"
            )
            return
        worker = enforcement_worker(
            ws.enforcement,
            ws.outbox,
            every_s=ws.settings.outbox_interval_s,
            sweeps=[ProbationSweep(ws.run_probations, every_s=ws.settings.probation_interval_s)],
        )
        out.print("outbox worker running; Ctrl-C stops it")
        worker.run_forever()
