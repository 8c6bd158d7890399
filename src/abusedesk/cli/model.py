"""`abusedesk model`: train, evaluate, list and promote content models."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import err, handles_errors, out, print_rows
from abusedesk.content.datasets import Dataset, Sample, read_dataset
from abusedesk.content.documents import CHANNELS, Channel
from abusedesk.errors import InputError

app = typer.Typer(help="Content models: spam, scam and phishing scores.", no_args_is_help=True)

CASES: str = "cases"


def _channel(value: str) -> Channel:
    if value not in CHANNELS:
        raise InputError(f"--channel must be one of {', '.join(CHANNELS)}, not {value!r}")
    return "sms" if value == "sms" else "email"


def _dataset(data: list[str]) -> Dataset:
    """Files and folders, plus `cases`: message events of closed cases from the lake."""
    files = [d for d in data if d != CASES]
    dataset = read_dataset(files) if files else Dataset()
    if CASES in data:
        from abusedesk.cases.labels import message_labels
        from abusedesk.lake.replay import lake_events

        with workspace() as ws:
            labels = message_labels(ws.store)
            with ws.lake_reader() as reader:
                for event in lake_events(reader):
                    label = labels.get(event.id)
                    body = event.data.get("body")
                    if label is None or not isinstance(body, str):
                        continue
                    subject = event.data.get("subject")
                    dataset.samples.append(
                        Sample(
                            label, text=body, subject=subject if isinstance(subject, str) else None
                        )
                    )
    if not dataset.samples:
        raise InputError("no labelled messages found")
    for line in dataset.skipped[:5]:
        err.print(f"skipped {line}", markup=False)
    if len(dataset.skipped) > 5:
        err.print(f"… and {len(dataset.skipped) - 5} more skipped rows")
    return dataset


@app.command("train")
@handles_errors
def train_cmd(
    channel: str = typer.Option(..., "--channel", help="sms or email."),
    data: list[str] = typer.Option(
        ...,
        "--data",
        help="TSV/CSV/JSONL with a label column, an mbox file or maildir folder per class "
        "(PATH:spam or PATH:ham when the name does not say), or `cases` for closed cases.",
    ),
    name: str = typer.Option(..., "--name", help="The model's name; versions count up."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds (0: none)."),
    max_fpr: float | None = typer.Option(
        None,
        "--max-fpr",
        help="False-positive bound of the threshold (default 0.005 SMS, 0.01 email).",
    ),
    promote: bool = typer.Option(False, "--promote", help="Make it the model detection uses."),
) -> None:
    """Train a model, cross-validate it, store it as a new version under ABUSEDESK_HOME."""
    from abusedesk.content.training import train

    chan = _channel(channel)
    dataset = _dataset(data)
    positives, negatives = dataset.counts()
    err.print(f"training {chan} on {positives:,} positive and {negatives:,} negative messages")
    model, figures = train(chan, dataset.samples, folds=folds, max_fpr=max_fpr)
    figures["data"] = data
    with workspace() as ws:
        registry = ws.model_registry()
        version = registry.save(model, name, figures)
        if promote:
            registry.promote(chan, version.ref)
    best = figures.get("operating_point")
    summary = (
        f"F1 {best['f1']:.4f} at FPR {best['fpr']:.2%} (threshold {best['threshold']:.3f}), "
        if best
        else ""
    )
    out.print(f"saved {chan} model {version.ref}: {summary}{figures['features']:,} features")


@app.command("eval")
@handles_errors
def eval_cmd(
    data: list[str] = typer.Option(..., "--data", help="Labelled data, as for train."),
    channel: str = typer.Option(..., "--channel", help="sms or email."),
    model: str | None = typer.Option(
        None,
        "--model",
        help="NAME or NAME/vN to score with; without it, k-fold CV trains on the data.",
    ),
    folds: int = typer.Option(5, "--folds", help="Folds of the cross-validation."),
    max_fpr: float | None = typer.Option(None, "--max-fpr", help="False-positive bound."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a precision-recall PNG here."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Precision, recall, F1, false-positive rate, ROC AUC and a threshold table."""
    import numpy as np

    from abusedesk.content.model import load_model
    from abusedesk.content.training import cross_validate, documents, pr_plot, report

    chan = _channel(channel)
    dataset = _dataset(data)
    docs = documents(chan, dataset.samples)
    labels = dataset.labels()
    if model is None:
        scores = cross_validate(chan, docs, labels, folds=folds)
        how = f"{folds}-fold cross-validation"
    else:
        with workspace() as ws:
            version = ws.model_registry().find(chan, model)
        scores = load_model(version.path).scores(docs)
        how = f"model {version.ref}"
    figures = report(chan, labels, np.asarray(scores), max_fpr=max_fpr)
    figures["scored_by"] = how
    if plot is not None:
        pr_plot(labels, np.asarray(scores), plot, f"{chan}: {how}")
    if as_json:
        typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    rows = [
        (
            f"{p['threshold']:.2f}",
            f"{p['precision']:.4f}",
            f"{p['recall']:.4f}",
            f"{p['f1']:.4f}",
            f"{p['fpr']:.4%}",
        )
        for p in figures["thresholds"]
    ]
    print_rows(["threshold", "precision", "recall", "F1", "FPR"], rows, "table")
    best = figures["operating_point"]
    out.print(
        f"{how}: {figures['messages']:,} messages; best F1 within FPR {figures['max_fpr']:.2%}: "
        f"{best['f1']:.4f} (precision {best['precision']:.4f}, recall {best['recall']:.4f}, "
        f"FPR {best['fpr']:.2%}, threshold {best['threshold']:.3f}); ROC AUC {figures['roc_auc']}"
    )


@app.command("list")
@handles_errors
def list_cmd() -> None:
    """Model versions per channel; * marks the one detection scores with."""
    from abusedesk.content.registry import all_versions

    with workspace() as ws:
        versions = all_versions(ws.model_registry())
    rows = []
    for v in versions:
        best = v.figures.get("operating_point") or {}
        rows.append(
            (
                ("* " if v.active else "  ") + v.channel,
                v.ref,
                f"{best['f1']:.4f}" if best else "",
                f"{best['fpr']:.2%}" if best else "",
                f"{v.path.stat().st_size / 1e6:.1f} MB" if v.path.exists() else "missing",
            )
        )
    print_rows(["channel", "model", "CV F1", "CV FPR", "size"], rows, "table")


@app.command("promote")
@handles_errors
def promote_cmd(
    channel: str = typer.Option(..., "--channel", help="sms or email."),
    model: str = typer.Argument(..., help="NAME, NAME/vN, or `default` for the shipped model."),
) -> None:
    """Make a model version the one detection and backtests score with."""
    chan = _channel(channel)
    with workspace() as ws:
        version = ws.model_registry().promote(chan, model)
    out.print(f"{chan} messages are now scored by {version.ref}")
