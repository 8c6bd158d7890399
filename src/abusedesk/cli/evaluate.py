"""`abusedesk eval detection`: how well the workspace's cases match ground truth labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import typer

from abusedesk.cases.services import list_cases
from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors
from abusedesk.errors import InputError
from abusedesk.sim.evaluate import (
    CaseSummary,
    EvalReport,
    FlaggedAccount,
    evaluate_detection,
    render_text,
)
from abusedesk.storage.db import Store

app = typer.Typer(help="Measure detection against ground truth.", no_args_is_help=True)


def flagged_accounts(store: Store) -> dict[str, FlaggedAccount]:
    """Accounts with an open case (cases are opened by live rules only)."""
    grouped: dict[str, list[Any]] = {}
    for case in list_cases(store):
        if case.status != "closed" and case.signal_count > 0:
            grouped.setdefault(case.account_id, []).append(case)
    return {
        account: FlaggedAccount(
            account_id=account,
            first_signal_at=min(c.first_signal_at for c in cases),
            policies=tuple(sorted({c.policy for c in cases})),
            case_count=len(cases),
        )
        for account, cases in grouped.items()
    }


def load_json(path: Path, what: str) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def open_cases(store: Store) -> list[CaseSummary]:
    return [
        CaseSummary(c.account_id, c.policy, c.priority, tuple(c.rules))
        for c in list_cases(store)
        if c.status != "closed"
    ]


def evaluate_store(
    store: Store, labels_path: Path, truth_path: Path | None = None, *, days: float = 3.0
) -> EvalReport:
    labels = load_json(labels_path, "labels")
    truth_file = truth_path or labels_path.with_name("truth.json")
    truth = load_json(truth_file, "truth") if truth_file.exists() else {}
    if not isinstance(labels, dict):
        raise InputError(f"{labels_path}: expected an object of account id -> label")
    return evaluate_detection(labels, truth, flagged_accounts(store), open_cases(store), days)


@app.command("detection")
@handles_errors
def detection(
    labels: Path | None = typer.Option(
        None, "--labels", help="labels.json: account id -> legit or scenario."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="truth.json with abuse start times (default: beside labels)."
    ),
    days: float = typer.Option(
        3.0, "--days", min=0.01, help="Days the traffic covers (for cases per account per day)."
    ),
    seeds: str | None = typer.Option(
        None,
        "--seeds",
        help="Instead of the workspace: simulate these seeds (e.g. 1-20) and run detection on "
        "each in memory; prints min and median per scenario.",
    ),
    variety: str = typer.Option(
        "realistic", "--variety", help="With --seeds: low, realistic, wide."
    ),
    cache: Path | None = typer.Option(
        None, "--cache", help="With --seeds: folder for the simulated runs (default: a temp dir)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Per scenario and overall: accounts caught, precision, recall, false positives, delay,
    and the desk's view: case precision, P1/P2 precision, cases per 100 accounts a day."""
    if seeds is not None:
        sweep(seeds, variety, cache, as_json=as_json)
        return
    if labels is None:
        raise InputError("give --labels (a simulated run's labels.json) or --seeds")
    with workspace() as ws:
        report = evaluate_store(ws.store, labels, truth, days=days)
    if as_json:
        typer.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(render_text(report))


def sweep(seeds: str, variety: str, cache: Path | None, *, as_json: bool) -> None:
    import tempfile

    from abusedesk.cli.output import err
    from abusedesk.sim.sweep import parse_seeds, render_summary, run_seeds, summarise
    from abusedesk.sim.variety import VARIETIES

    if variety not in VARIETIES:
        raise InputError(f"--variety must be one of {', '.join(VARIETIES)}, not {variety!r}")
    try:
        chosen = parse_seeds(seeds)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    folder = cache or Path(tempfile.gettempdir()) / "abusedesk-eval-seeds"
    results = run_seeds(
        chosen,
        variety,
        cache=folder,
        progress=lambda r: err.print(
            f"seed {r.seed}: recall {r.report.recall:.3f}, precision {r.report.precision:.3f}"
        ),
    )
    summary = summarise(results)
    if as_json:
        typer.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(render_summary(summary))
