"""`abusedesk probation`: start, list, show and run probations (rehabilitation)."""

from __future__ import annotations

from typing import Any

import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import escape, handles_errors, out, print_rows
from abusedesk.probation.services import do_start_probation, list_probations, show_probation

app = typer.Typer(
    help="Probation: accounts measured on the lake against their policy's goals.",
    no_args_is_help=True,
)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value) * 100:.2f} %"


def _goals(goals: list[dict[str, Any]]) -> str:
    return ", ".join(f"{g['metric']} < {_pct(g['below'])}" for g in goals)


@app.command("start")
@handles_errors
def start_cmd(
    account_id: str = typer.Argument(..., help="The account put on probation."),
    policy: str = typer.Option(..., "--policy", help="The policy whose goals apply."),
    case_id: int = typer.Option(..., "--case", help="The case it escalates back to."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit log)."),
    actor: str = typer.Option(..., "--as", help="Who places it."),
    action_id: int | None = typer.Option(None, "--action", help="The action it follows."),
    days: int | None = typer.Option(None, "--days", help="Length; default: the policy's."),
    channel: str = typer.Option("email", "--channel", help="Notices: email or zendesk."),
    recipient: str | None = typer.Option(
        None, "--recipient", help="Where notices go; default: the account's email."
    ),
) -> None:
    """Put an account on probation under a policy with probation goals."""
    with workspace() as ws:
        p = do_start_probation(
            ws.enforcement(),
            account_id=account_id,
            policy=policy,
            case_id=case_id,
            actor=actor,
            reason=reason,
            action_id=action_id,
            channel=channel,
            recipient=recipient,
            days=days,
        )
    out.print(
        f"probation {p['id']}: {account_id} under {policy} until {p['ends_at']}; "
        f"goals {_goals(p['goals'])}"
    )


@app.command("list")
@handles_errors
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="active, graduated, escalated."),
    account_id: str | None = typer.Option(None, "--account", help="Only this account."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
) -> None:
    """List probations, newest first."""
    with workspace() as ws:
        rows = list_probations(ws.enforcement(), status=status, account_id=account_id)
    print_rows(
        ["probation", "account", "policy", "case", "status", "ends", "goals"],
        [
            (
                p["id"],
                p["account_id"],
                p["policy"],
                p["case_id"],
                p["status"],
                p["ends_at"],
                _goals(p["goals"]),
            )
            for p in rows
        ],
        fmt,
    )


@app.command("show")
@handles_errors
def show_cmd(probation_id: int = typer.Argument(...)) -> None:
    """Show a probation: an active one with its goals measured on the lake now; an ended one
    with the measurements it ended on."""
    with workspace() as ws, ws.lake_reader() as reader:
        p = show_probation(ws.enforcement(), reader, probation_id)
    out.print(
        f"probation {p['id']}: {p['account_id']} under {p['policy']} (case {p['case_id']}), "
        f"{p['status']}; {p['started_at']} to {p['ends_at']}"
    )
    out.print(f"reason: {escape(p['reason'])}")
    judged = p.get("now") or p.get("result") or {}
    for m in judged.get("measurements", []):
        state = "BREACHED" if m["breached"] else ("met" if m["judged"] else "too little traffic")
        out.print(
            f"  {m['metric']}: {_pct(m['rate'])} ({m['count']} of {m['base']}), "
            f"goal below {_pct(m['below'])}: {state}"
        )
    if p.get("notice_id"):
        out.print(f"notice {p['notice_id']} sent to {escape(p['recipient'])}")


@app.command("run")
@handles_errors
def run_cmd(
    actor: str = typer.Option("system:probation", "--as", help="Who the sweep acts as."),
) -> None:
    """One sweep: measure every active probation; graduate or escalate the decided ones and
    queue their notices (the outbox worker delivers them)."""
    with workspace() as ws:
        results = ws.run_probations(actor=actor)
    for r in results:
        extra = f"; notice {r.notice_id}" if r.notice_id else ""
        extra += f"; case {r.case_id}" if r.outcome == "escalated" else ""
        extra += f": {escape(r.error)}" if r.error else ""
        out.print(f"probation {r.probation_id} {r.account_id}: {r.outcome}{extra}")
    counts = {o: sum(r.outcome == o for r in results) for o in ("graduated", "escalated")}
    out.print(
        f"{len(results)} measured, {counts['graduated']} graduated, {counts['escalated']} escalated"
    )
