"""`abusedesk sim ...`: generate simulated traffic from the command line (thin glue over
`abusedesk.sim.generate`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from abusedesk.sim.fbl import EARLY_COMPLAINTS

app = typer.Typer(
    help="Simulated messaging-platform traffic with ground truth.", no_args_is_help=True
)


@app.callback()
def _sim() -> None:
    """Simulated messaging-platform traffic with ground truth (see docs/simulator.md)."""


@app.command("generate")
def generate_cmd(  # noqa: PLR0917 (typer options)
    out_dir: Annotated[
        Path, typer.Argument(help="Folder for events.jsonl, labels.json, truth.json.")
    ],
    days: Annotated[int, typer.Option(min=1, max=60, help="Days of traffic to simulate.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 7,
    scale: Annotated[
        float, typer.Option(min=0.05, max=100.0, help="Multiplier for legitimate accounts.")
    ] = 1.0,
    start: Annotated[
        str | None, typer.Option(help="Window start, RFC 3339 (default 2026-03-02T00:00:00Z).")
    ] = None,
    variety: Annotated[
        str,
        typer.Option(
            help="How varied legitimate accounts are: low, realistic or wide (docs/simulator.md)."
        ),
    ] = "realistic",
    early_complaints: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of FBL complaints that reach the desk before the message log, as ARF "
            "reports without account headers in complaints.mbox (docs/simulator.md).",
        ),
    ] = EARLY_COMPLAINTS,
) -> None:
    """Write DAYS of simulated traffic for SEED and SCALE into OUT_DIR."""
    from abusedesk.sim.generator import generate
    from abusedesk.sim.variety import VARIETIES

    console = Console(stderr=True)
    if variety not in VARIETIES:
        console.print(f"[red]error: --variety must be one of {', '.join(VARIETIES)}[/red]")
        raise typer.Exit(1)
    when = None
    if start is not None:
        try:
            when = datetime.fromisoformat(start)
        except ValueError:
            console.print(f"[red]error: --start {start!r} is not an RFC 3339 timestamp[/red]")
            raise typer.Exit(1) from None
        if when.tzinfo is None:
            console.print("[red]error: --start needs a UTC offset, e.g. 2026-03-02T00:00:00Z[/red]")
            raise typer.Exit(1)
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("hours"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("sim", total=days * 24)
        summary = generate(
            out_dir,
            days=days,
            seed=seed,
            scale=scale,
            start=when,
            variety=variety,
            early_complaints=early_complaints,
            progress=lambda done: bar.update(task, completed=done),
        )

    out = Console()
    table = Table(
        title=f"{summary.events:,} events, {summary.accounts} accounts", title_justify="left"
    )
    table.add_column("event type")
    table.add_column("count", justify="right")
    for etype, n in summary.events_by_type.items():
        table.add_row(etype, f"{n:,}")
    out.print(table)
    labels = Table(title="accounts by label", title_justify="left")
    labels.add_column("label")
    labels.add_column("accounts", justify="right")
    for label, n in summary.accounts_by_label.items():
        labels.add_row(label, str(n))
    out.print(labels)
    out.print(
        f"{summary.early_complaints:,} FBL complaints sent before the message log "
        "(complaints.mbox: ingest it before events.jsonl)"
    )
    for path in summary.files:
        out.print(f"wrote {path}")
