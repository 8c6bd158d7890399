"""`abusedesk sql` and `abusedesk lake`: read-only SQL over the event lake, and its upkeep."""

from __future__ import annotations

import typer

from abusedesk.analytics.sql import run_query
from abusedesk.cli.context import workspace
from abusedesk.cli.output import err, handles_errors, out, print_rows
from abusedesk.errors import InputError
from abusedesk.lake.compaction import compact, count_by_partition
from abusedesk.pipeline.recovery import pending_files

app = typer.Typer(help="The Parquet event lake.", no_args_is_help=True)


@handles_errors
def sql(
    query: str = typer.Argument(
        ..., help="One SELECT over the views events, messages, deliveries, …"
    ),
    fmt: str = typer.Option(
        "table", "--format", "-f", help="table, csv or json (one object a line)."
    ),
    max_rows: int = typer.Option(1000, "--max-rows", help="Print at most this many rows."),
) -> None:
    """Run a read-only SQL query over the lake (DuckDB), with a time limit."""
    if fmt not in ("table", "csv", "json"):
        raise InputError(f"--format must be table, csv or json, not {fmt!r}")
    with workspace() as ws:
        with ws.lake_reader(locked=True) as reader:
            result = run_query(
                reader, query, timeout_s=ws.settings.sql_timeout_s, max_rows=max_rows
            )
        print_rows(result.columns, result.rows, fmt)
        if result.truncated:
            err.print(f"[yellow]only the first {max_rows} rows shown (--max-rows)[/]")


@app.command("compact")
@handles_errors
def compact_cmd(
    min_files: int = typer.Option(2, "--min-files", help="Merge partitions with this many files."),
) -> None:
    """Merge each partition's small Parquet files into one."""
    with workspace() as ws:
        # Files of batches not yet through detection stay as they are (pipeline/recovery.py).
        removed = compact(
            ws.lake_dir, min_files=min_files, keep=lambda: pending_files(ws.store, ws.lake_dir)
        )
        out.print(f"merged away {removed} file(s)")


@app.command("status")
@handles_errors
def status() -> None:
    """Files per partition."""
    with workspace() as ws:
        rows = sorted(count_by_partition(ws.lake_dir).items())
        print_rows(["partition", "files"], rows, "table")
