"""`abusedesk detect`: run detection over the lake again; shared detection summaries."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from abusedesk.cases.services import list_cases
from abusedesk.cli.context import workspace
from abusedesk.cli.output import err, handles_errors, out
from abusedesk.errors import InputError
from abusedesk.pipeline.linking import link_from_lake
from abusedesk.pipeline.replay import lake_size, replay, warm_up
from abusedesk.pipeline.signals import DetectionStats
from abusedesk.workspace import Workspace


def parse_when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date or RFC 3339 time") from None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@handles_errors
def detect(
    since: str | None = typer.Option(None, "--since", help="Start at this time (default: all)."),
    until: str | None = typer.Option(None, "--until", help="Stop before this time."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Run detection over events already in the lake, oldest first.

    First, complaints filed as reports whose message the lake now holds are linked to their
    accounts (late linking). A rule never raises a signal twice for one event, so running it
    again is safe.
    """
    start, end = parse_when(since, "--since"), parse_when(until, "--until")
    with workspace() as ws:
        linked = link_late_complaints(ws)
        if linked and not as_json:
            err.print(f"{linked:,} complaint(s) linked to their accounts' messages")
        consumer = ws.detection_consumer()
        with ws.lake_reader() as reader:
            if start is not None:
                warmed = warm_up(consumer.engine, reader, start)
                if not as_json:
                    err.print(f"windows warmed with {warmed:,} events before {start.isoformat()}")
            with Progress(
                TextColumn("[bold]detect"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                disable=not err.is_terminal or as_json,
            ) as progress:
                task = progress.add_task("detect", total=lake_size(reader))
                replay(
                    consumer,
                    reader,
                    since=start,
                    until=end,
                    on_batch=lambda n: progress.advance(task, n),
                )
        if as_json:
            typer.echo(orjson.dumps(detection_dict(consumer.stats)).decode())
        else:
            print_detection(ws, consumer.stats)


def link_late_complaints(ws: Workspace) -> int:
    """Ingest the waiting complaints whose messages the lake now holds (pipeline/linking.py);
    the replay that follows detects on them at their own time."""
    with ws.lake_reader() as reader:
        objects = link_from_lake(ws.store, reader)
    if not objects:
        return 0
    summary = ws.ingestor(actor="cli", origin="late-linking").ingest_objects(
        objects, source="late-linking"
    )
    return summary.accepted


def detection_dict(stats: DetectionStats) -> dict[str, Any]:
    return {
        "events": stats.events,
        "matches": stats.matches,
        "signals": stats.signals,
        "cases_opened": stats.cases_opened,
        "enrich_failures": stats.enrich_failures,
        "decisions": dict(stats.decisions),
        "matches_by_rule": dict(stats.by_rule.most_common()),
    }


def print_detection(ws: Workspace, stats: DetectionStats) -> None:
    out.print(
        f"[bold]detection[/]: {stats.events:,} events evaluated, {stats.matches:,} rule matches, "
        f"{stats.signals:,} new signals, [bold]{stats.cases_opened:,} cases opened[/]"
    )
    if stats.enrich_failures:
        out.print(
            f"  [yellow]{stats.enrich_failures:,} event(s) could not be enriched[/] "
            "(a bug: the log has their ids, event enrich.failed)"
        )
    cases = list_cases(ws.store, status="open")
    if not cases:
        return
    by_policy = Counter(c.policy for c in cases)
    by_queue = Counter(f"{c.queue} {c.priority}" for c in cases)
    out.print(
        "  open cases by policy: " + ", ".join(f"{p} {n}" for p, n in by_policy.most_common())
    )
    out.print(
        "  open cases by queue:  " + ", ".join(f"{q} {n}" for q, n in sorted(by_queue.items()))
    )
