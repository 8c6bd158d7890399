"""`abusedesk cases`: the work queue from the command line."""

from __future__ import annotations

import typer

from abusedesk.cases.services import OUTCOMES, do_close_case, list_cases
from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out, print_rows

app = typer.Typer(help="Cases: one per account and policy while open.", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="open, pending or closed."),
    queue: str | None = typer.Option(None, "--queue"),
    policy: str | None = typer.Option(None, "--policy"),
    account: str | None = typer.Option(None, "--account"),
    limit: int | None = typer.Option(None, "--limit"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List cases, most urgent first."""
    with workspace() as ws:
        cases = list_cases(
            ws.store, status=status, queue=queue, policy=policy, account_id=account, limit=limit
        )
    if as_json:
        import orjson

        for case in cases:
            typer.echo(orjson.dumps(case.to_json()).decode())
        return
    print_rows(
        ["case", "priority", "queue", "policy", "account", "status", "signals", "opened", "rules"],
        [
            (
                c.case_id,
                c.priority,
                c.queue,
                c.policy,
                c.account_id,
                c.status,
                c.signal_count,
                c.opened_at.strftime("%Y-%m-%d %H:%M"),
                ", ".join(c.rules),
            )
            for c in cases
        ],
        "table",
    )


@app.command("close")
@handles_errors
def close_cmd(
    case_id: int = typer.Argument(..., help="The case number."),
    outcome: str = typer.Option(..., "--outcome", help=f"One of: {', '.join(OUTCOMES)}."),
    reason: str = typer.Option(..., "--reason", help="Why; kept in the audit log."),
    actor: str = typer.Option("cli", "--as", help="Who is closing it (for the audit log)."),
) -> None:
    """Close a case with its outcome; rule precision in backtests is measured against these."""
    with workspace() as ws:
        case = do_close_case(
            ws.store, ws.clock, case_id=case_id, outcome=outcome, actor=actor, reason=reason
        )
    out.print(f"case {case.case_id} closed: {outcome}")
