"""`abusedesk queues`: the work queues, their load and their SLA lists."""

from __future__ import annotations

import sys

import orjson
import typer

from abusedesk.cases.read import queue_summaries, sla_lists
from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, print_rows

app = typer.Typer(help="Work queues: load, SLA at risk and breached.", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Each queue with its roles, open and unassigned cases and breaches."""
    with workspace() as ws:
        rows = queue_summaries(ws.store, ws.desk, ws.clock.now())
    if as_json:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return
    print_rows(
        ["queue", "roles", "open", "unassigned", "breached", "snoozed", "escalates to"],
        [
            (
                r["name"],
                ", ".join(r.get("roles", [])),
                r["open"],
                r["unassigned"],
                r["resolution_breached"],
                r["snoozed"],
                r.get("escalate_to"),
            )
            for r in rows
        ],
        "table",
    )


def _sla(which: str, queue: str | None, as_json: bool) -> None:
    with workspace() as ws:
        rows = sla_lists(ws.store, ws.desk, ws.clock.now(), which=which, queue=queue)
    if as_json:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return
    print_rows(
        ["case", "pri", "queue", "assignee", "first response", "resolution", "resolution due"],
        [
            (
                r["case"]["case_id"],
                r["case"]["priority"],
                r["case"]["queue"],
                r["case"]["assignee"],
                r["clocks"]["first_response"],
                r["clocks"]["resolution"],
                (r["case"]["resolution_due_at"] or "")[:16],
            )
            for r in rows
        ],
        "table",
    )


@app.command("at-risk")
@handles_errors
def at_risk_cmd(
    queue: str | None = typer.Option(None, "--queue"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Open cases with little of their SLA left."""
    _sla("at_risk", queue, as_json)


@app.command("breached")
@handles_errors
def breached_cmd(
    queue: str | None = typer.Option(None, "--queue"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Open cases past a first-response or resolution due time."""
    _sla("breached", queue, as_json)
