"""`abusedesk policies`: the policy catalogue and its enforcement ladders."""

from __future__ import annotations

import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import escape, handles_errors, out, print_rows

app = typer.Typer(help="The policy catalogue (ABUSEDESK_POLICIES_PATH).", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_cmd(
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
) -> None:
    """List the policies with their severity and ladder."""
    with workspace() as ws:
        catalogue = ws.catalogue
    print_rows(
        ["policy", "severity", "strikes expire", "ladder", "title"],
        [
            (
                p.id,
                p.severity,
                f"{p.strike_ttl.days} d",
                " -> ".join(s.describe() for s in p.ladder),
                p.title,
            )
            for p in catalogue
        ],
        fmt,
    )


@app.command("show")
@handles_errors
def show_cmd(policy_id: str = typer.Argument(..., help="The policy id.")) -> None:
    """Show one policy: what it forbids, the customer explanation, remediation, appeal evidence,
    the ladder and the probation goals."""
    with workspace() as ws:
        p = ws.catalogue.get(policy_id)
    lines = [
        f"[bold]{escape(p.id)}[/]: {escape(p.title)} (severity {p.severity})",
        f"forbids: {escape(p.forbids)}",
        f"explanation: {escape(p.explanation)}",
        "remediation:",
        *(f"  - {escape(r)}" for r in p.remediation),
        "appeal evidence:",
        *(f"  - {escape(e)}" for e in p.appeal_evidence),
        "ladder: " + " -> ".join(s.describe() for s in p.ladder),
        f"strikes expire after {p.strike_ttl.days} days",
    ]
    if p.probation_goals:
        goals = ", ".join(f"{g.metric} < {g.below:g}" for g in p.probation_goals)
        lines.append(f"probation: {p.probation_days} days with {goals}")
    out.print("\n".join(lines))
