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
from abusedesk.sim.evaluate import EvalReport, FlaggedAccount, evaluate_detection, render_text
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


def evaluate_store(store: Store, labels_path: Path, truth_path: Path | None = None) -> EvalReport:
    labels = load_json(labels_path, "labels")
    truth_file = truth_path or labels_path.with_name("truth.json")
    truth = load_json(truth_file, "truth") if truth_file.exists() else {}
    if not isinstance(labels, dict):
        raise InputError(f"{labels_path}: expected an object of account id -> label")
    return evaluate_detection(labels, truth, flagged_accounts(store))


@app.command("detection")
@handles_errors
def detection(
    labels: Path = typer.Option(
        ..., "--labels", help="labels.json: account id -> legit or scenario."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="truth.json with abuse start times (default: beside labels)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Per scenario and overall: accounts caught, precision, recall, false positives, delay."""
    with workspace() as ws:
        report = evaluate_store(ws.store, labels, truth)
    if as_json:
        typer.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(render_text(report))
