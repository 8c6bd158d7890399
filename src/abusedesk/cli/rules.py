"""`abusedesk rules ...`: lint, test and explain rule packs.

The main CLI mounts `app` (and adds `backtest`). Output is the plain text of
diagnostics.render, coloured line by line when the terminal supports it; click strips the
colours when the output is not a terminal, so pipes and golden tests see the plain text.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final

import typer

from abusedesk.detection.rules.diagnostics import count, plural, render, summary
from abusedesk.detection.rules.pack import CompiledPack, analyze_path
from abusedesk.detection.rules.testing import format_outcome, run_tests

app = typer.Typer(help="Rule packs: lint, test and explain them.", no_args_is_help=True)

_HEADER: Final = re.compile(r"^(?:\S+:\d+:\d+: )?(error|warning)\[")
PackPath = Annotated[
    Path, typer.Argument(help="A rule pack: one .yaml file, or a folder of them (merged).")
]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def lint(
    path: PackPath,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for tools.")
    ] = OutputFormat.text,
) -> None:
    """Check a pack: YAML shape, names, expressions, features, test rows. Exit 1 on any error."""
    analysis = analyze_path(path)
    diags = analysis.diagnostics
    errors, warnings = count(diags)
    n_rules = analysis.loaded.n_rules
    if output is OutputFormat.json:
        body = {
            "diagnostics": [diag.to_dict() for diag in diags],
            "summary": {"errors": errors, "warnings": warnings, "rules": n_rules},
        }
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        if diags:
            _echo_diagnostics(render(diags, analysis.sources))
            typer.echo()
        typer.secho(summary(diags, n_rules), fg="red" if errors else "green", bold=True)
    raise typer.Exit(1 if errors else 0)


@app.command("test")
def test_(path: PackPath) -> None:
    """Run every rule's embedded tests; show why each failure failed. Exit 1 on any failure."""
    analysis = analyze_path(path)
    if not analysis.ok:
        errors = [diag for diag in analysis.diagnostics if diag.is_error]
        _echo_diagnostics(render(errors, analysis.sources))
        typer.echo()
        typer.secho(
            f"{plural(len(errors), 'error')}: fix them (see `rules lint`) before testing",
            fg="red",
            bold=True,
        )
        raise typer.Exit(1)
    outcomes = run_tests(CompiledPack.from_analysis(analysis), analysis.namespace)
    for outcome in outcomes:
        typer.secho(format_outcome(outcome), fg=None if outcome.passed else "red")
    failed = sum(1 for outcome in outcomes if not outcome.passed)
    typer.secho(
        f"{len(outcomes) - failed} passed, {failed} failed",
        fg="red" if failed else "green",
        bold=True,
    )
    raise typer.Exit(1 if failed else 0)


@app.command()
def explain(
    path: PackPath,
    event_type: Annotated[
        str | None, typer.Option("--type", help="Only the code for this event type.")
    ] = None,
) -> None:
    """Print the Python the engine generates from a pack: per event type, the function that
    updates and reads its features, and the one that tests its rules."""
    from abusedesk.detection.engine import DetectionEngine  # the whole engine: only here
    from abusedesk.detection.features.fastpath import LAYOUT
    from abusedesk.events.schema import EVENT_TYPES

    analysis = analyze_path(path)
    if not analysis.ok:
        errors = [diag for diag in analysis.diagnostics if diag.is_error]
        _echo_diagnostics(render(errors, analysis.sources))
        raise typer.Exit(1)
    engine = DetectionEngine(CompiledPack.from_analysis(analysis))
    if event_type is not None and event_type not in EVENT_TYPES:
        typer.secho(
            f"unknown event type {event_type!r}; one of: {', '.join(sorted(EVENT_TYPES))}",
            fg="red",
        )
        raise typer.Exit(1)
    sources = engine.features.sources
    typer.echo(LAYOUT)
    for etype in sorted(EVENT_TYPES) if event_type is None else [event_type]:
        typer.echo(f"\n\n# ---- {etype} " + "-" * max(0, 80 - len(etype)))
        typer.echo("\n# features (detection/features/fastpath.py)")
        typer.echo(sources.get(etype, sources.get(None, "# none")))
        if etype == "message":
            typer.echo("\n# content models, after the features (detection/model_gate.py)")
            typer.echo(engine.model_gates.describe())
        typer.echo("\n# rules (detection/rules/pack.py)")
        typer.echo(engine.pack.source(etype))


def _echo_diagnostics(text: str) -> None:
    for line in text.splitlines():
        match = _HEADER.match(line)
        colour = None if match is None else "red" if match.group(1) == "error" else "yellow"
        typer.secho(line, fg=colour, bold=match is not None)
