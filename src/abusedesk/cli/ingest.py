"""`abusedesk ingest`: take in files of events in any supported format."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from abusedesk.cli.context import workspace
from abusedesk.cli.detect import detection_dict, print_detection
from abusedesk.cli.output import err, escape, handles_errors, out
from abusedesk.events.adapters import registry as adapters
from abusedesk.events.sources import expand
from abusedesk.events.summary import IngestSummary

# The documented exit status of a run that failed for what it quarantined (docs/formats.md).
EXIT_QUARANTINED = 3


def ingest(
    paths: list[Path] = typer.Argument(
        ..., help="Files or folders (recursively); .gz is read too."
    ),
    fmt: str = typer.Option(
        "auto", "--format", "-f", help=f"auto or one of: {', '.join(adapters.names())}."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    no_detect: bool = typer.Option(
        False, "--no-detect", help="Only take the events in; run no detection."
    ),
    strict: bool = typer.Option(
        False, "--strict", help=f"Exit {EXIT_QUARANTINED} when anything at all was quarantined."
    ),
    subuser: str | None = typer.Option(
        None,
        "--subuser",
        help="SendGrid files: the subuser whose Event Webhook sent them (mapped to an account "
        "by the account map's sendgrid.subuser; docs/formats.md).",
    ),
) -> None:
    """Ingest events: validate, de-duplicate, write to the lake and registry, detect.

    Detection runs on the new events (signals, cases) unless --no-detect. Exits 0 when the run
    went through; exits 3 when it accepted nothing new but quarantined something (a scheduled
    import whose every record was refused), or, with --strict, when it quarantined anything.
    """
    summary = _run(paths, fmt, as_json, not no_detect, subuser)
    code = quarantine_exit_code(summary, strict=strict)
    if code:
        raise typer.Exit(code)


def quarantine_exit_code(summary: IngestSummary, *, strict: bool) -> int:
    """EXIT_QUARANTINED when the run should fail for what it quarantined, else 0.

    Duplicates count as taken in (the same file again is no failure); skipped records (valid
    but not events, such as opens or SNS confirmations) are not failures either."""
    if not summary.quarantined:
        return 0
    if strict or (summary.accepted == 0 and summary.duplicates == 0):
        return EXIT_QUARANTINED
    return 0


@handles_errors
def _run(
    paths: list[Path], fmt: str, as_json: bool, detect: bool, subuser: str | None = None
) -> IngestSummary:
    with workspace() as ws:
        files = expand(paths)
        total = sum(p.stat().st_size for p in files)
        # A fresh process: after a crash, its detection state is rebuilt from the lake.
        consumer = ws.detection_consumer(rebuild_after_crash=True) if detect else None
        ingestor = ws.ingestor(actor="cli", consumers=[consumer] if consumer else [])
        show = err.is_terminal and not as_json
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not show,
        ) as progress:
            task = progress.add_task("ingest", total=total)
            summary = ingestor.ingest_paths(
                files,
                fmt,
                on_bytes=lambda n: progress.advance(task, n),
                on_file=lambda p, name: progress.update(task, description=f"{p.name} ({name})"),
                subuser=subuser,
            )
        if as_json:
            body = summary.to_dict()
            body["quarantine_sample"] = [
                {"where": str(q.where), "reason": q.reason} for q in summary.quarantine_sample
            ]
            if consumer is not None:
                body["detection"] = detection_dict(consumer.stats)
            typer.echo(orjson.dumps(body).decode())
        else:
            print_summary(summary)
            if consumer is not None:
                print_detection(ws, consumer.stats)
        return summary


def print_summary(summary: IngestSummary) -> None:
    rate = summary.read / summary.elapsed_s if summary.elapsed_s else 0.0
    out.print(
        f"[bold]ingest run {summary.run_id}[/]: {summary.files} file(s), {summary.read:,} read, "
        f"[green]{summary.accepted:,} accepted[/], {summary.duplicates:,} duplicate, "
        f"[{'red' if summary.quarantined else 'green'}]{summary.quarantined:,} quarantined[/], "
        f"{summary.skipped:,} skipped (not canonical events) in {summary.elapsed_s:.1f} s "
        f"({rate:,.0f}/s)"
    )
    if summary.by_type:
        out.print(
            "  by type: " + ", ".join(f"{t} {n:,}" for t, n in sorted(summary.by_type.items()))
        )
    if summary.enrich_failures:
        out.print(
            f"  [yellow]{summary.enrich_failures:,} event(s) could not be enriched[/] and were "
            "detected on without enrichment (a bug: the log has their ids, event enrich.failed)"
        )
    for item in summary.quarantine_sample:
        out.print(f"  [red]quarantined[/] {escape(str(item.where))}: {escape(item.reason)}")
    if summary.quarantined > len(summary.quarantine_sample):
        more = summary.quarantined - len(summary.quarantine_sample)
        out.print(f"  … and {more:,} more: abusedesk quarantine list --run {summary.run_id}")
