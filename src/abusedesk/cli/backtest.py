"""`abusedesk rules backtest`: a rule pack over the lake's history, in DuckDB."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.detect import parse_when
from abusedesk.cli.evaluate import load_json
from abusedesk.cli.output import err, handles_errors, print_rows
from abusedesk.detection.rules.diagnostics import render
from abusedesk.detection.rules.pack import CompiledPack, analyze_path
from abusedesk.errors import InputError
from abusedesk.pipeline.backtest import backtest_lake


@handles_errors
def backtest(
    path: Path = typer.Argument(..., help="Rule pack file or folder."),
    since: str | None = typer.Option(None, "--since", help="From this time (default: all)."),
    until: str | None = typer.Option(None, "--until", help="Before this time."),
    labels: Path | None = typer.Option(
        None, "--labels", help="labels.json (account -> legit/scenario): precision against it."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Evaluate a rule pack over the lake: matches per rule per day, accounts, precision."""
    analysis = analyze_path(path)
    if not analysis.ok:
        err.print(render(analysis.diagnostics, analysis.sources), markup=False)
        raise InputError(f"{path}: the pack has errors; fix them first (abusedesk rules lint)")
    pack = CompiledPack.from_analysis(analysis)
    start, end = parse_when(since, "--since"), parse_when(until, "--until")
    truth = load_json(labels, "labels") if labels is not None else None
    with workspace() as ws, ws.lake_reader() as reader:
        report = backtest_lake(
            pack, reader, ws.store, since=start, until=end, labels=truth, scorer=ws.content_scorer()
        )
    if as_json:
        typer.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
        return
    rows = []
    for r in report.rules:
        days = " ".join(f"{d:%m-%d}:{n}" for d, n in sorted(r.by_day.items()))
        precision = "" if r.precision is None else f"{r.precision:.0%} of {r.decided}"
        rows.append((r.rule_id, r.mode, r.matches, r.accounts, precision, days or r.note or ""))
    print_rows(["rule", "mode", "matches", "accounts", "precision", "per day"], rows, "table")
    err.print(f"{report.events:,} events; precision against {report.precision_basis}")
