"""`abusedesk cases`: work cases from the command line, on the same services as the API."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import orjson
import typer

from abusedesk.cases.assignment import (
    do_assign_case,
    do_claim_next_case,
    do_escalate_case,
    do_release_case,
    do_snooze_case,
)
from abusedesk.cases.lifecycle import (
    do_close_case,
    do_open_case,
    do_reopen_case,
    do_set_case_status,
)
from abusedesk.cases.merge import do_merge_cases, do_split_case
from abusedesk.cases.notes import do_add_note
from abusedesk.cases.read import CaseRow, page_cases, show_case
from abusedesk.cases.states import RESOLUTIONS, STATUSES
from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out, print_rows
from abusedesk.errors import InputError
from abusedesk.workspace import Workspace

app = typer.Typer(help="Cases: one per account and policy while open.", no_args_is_help=True)

AS_HELP = "Who is acting (audit log, assignee). Default: ABUSEDESK_CLI_ACTOR."


def _actor(ws: Workspace, given: str | None) -> str:
    return given or ws.settings.cli_actor


def _json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value).decode() + "\n")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _table(cases: list[CaseRow]) -> None:
    print_rows(
        ["case", "pri", "status", "queue", "policy", "account", "assignee", "due", "signals"],
        [
            (
                c.case_id,
                c.priority,
                c.status if c.resolution is None else f"{c.status}: {c.resolution}",
                c.queue,
                c.policy,
                c.account_id,
                c.assignee,
                _when(c.resolution_due_at),
                c.signal_count,
            )
            for c in cases
        ],
        "table",
    )


@app.command("list")
@handles_errors
def list_cmd(
    status: str | None = typer.Option(
        None, "--status", help=f"open (every open state) or one of {', '.join(STATUSES)}."
    ),
    queue: str | None = typer.Option(None, "--queue"),
    policy: str | None = typer.Option(None, "--policy"),
    account: str | None = typer.Option(None, "--account"),
    assignee: str | None = typer.Option(None, "--assignee", help="A name, or `none`."),
    priority: str | None = typer.Option(None, "--priority", help="P1 to P4."),
    limit: int = typer.Option(50, "--limit", help="Cases per page (1-500)."),
    cursor: str | None = typer.Option(None, "--cursor", help="Continue after a previous page."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List cases, most urgent first (priority, then resolution due time)."""
    with workspace() as ws:
        cases, next_cursor = page_cases(
            ws.store,
            status=status,
            queue=queue,
            policy=policy,
            account_id=account,
            assignee=assignee,
            priority=priority,
            cursor=cursor,
            limit=limit,
        )
    if as_json:
        for case in cases:
            _json(case.to_json())
        return
    _table(cases)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}")


@app.command("show")
@handles_errors
def show_cmd(
    case_id: int = typer.Argument(..., help="The case number."),
    as_json: bool = typer.Option(False, "--json", help="The case, timeline and evidence."),
) -> None:
    """A case with its timeline, evidence, signals and reports."""
    with workspace() as ws:
        shown = show_case(ws.store, case_id)
    if as_json:
        _json(shown)
        return
    case = shown["case"]
    out.print(
        f"[bold]case {case['case_id']}[/] {case['priority']} {case['status']}"
        f"{': ' + case['resolution'] if case['resolution'] else ''}  {case['title']}"
    )
    for name in (
        "account_id",
        "policy",
        "severity",
        "queue",
        "assignee",
        "source",
        "first_response_due_at",
        "resolution_due_at",
        "snoozed_until",
    ):
        if case[name] is not None:
            out.print(f"  {name}: {case[name]}")
    links = {k: v for k, v in shown["linked"].items() if v}
    if links:
        out.print(f"  linked: {orjson.dumps(links).decode()}")
    print_rows(
        ["when", "kind", "actor", "detail"],
        [
            (e["ts"][:19], e["kind"], e["actor"], orjson.dumps(e["body"]).decode()[:120])
            for e in shown["timeline"]
        ],
        "table",
    )
    out.print(f"  evidence: {len(shown['evidence'])} item(s), reports: {len(shown['reports'])}")


@app.command("open")
@handles_errors
def open_cmd(
    account: str = typer.Option(..., "--account"),
    policy: str = typer.Option(..., "--policy"),
    reason: str = typer.Option(..., "--reason"),
    priority: str = typer.Option("P3", "--priority"),
    severity: str = typer.Option("medium", "--severity"),
    queue: str | None = typer.Option(None, "--queue", help="Default: routed by the queue file."),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Open a case by hand (or show the account's open case for the policy)."""
    with workspace() as ws:
        case_id, opened = do_open_case(
            ws.store,
            ws.clock,
            ws.desk,
            account_id=account,
            policy=policy,
            severity=severity,
            priority=priority,
            queue=queue,
            actor=_actor(ws, actor),
            reason=reason,
        )
    out.print(f"case {case_id} {'opened' if opened else 'is open already'}")


@app.command("claim")
@handles_errors
def claim_cmd(
    queue: list[str] = typer.Option(
        [], "--queue", help="Queues to claim from (repeat). Default: every queue the role works."
    ),
    role: str = typer.Option("analyst", "--role", help="The role whose queues to claim from."),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Claim the most urgent unassigned case (highest priority, then earliest due)."""
    with workspace() as ws:
        queues = queue or ws.desk.queues.workable_by(role)
        for name in queues:
            ws.desk.queues.get(name)
        case_id = do_claim_next_case(ws.store, ws.clock, analyst=_actor(ws, actor), queues=queues)
        shown = show_case(ws.store, case_id)["case"] if case_id is not None else None
    if as_json:
        _json(shown)
    elif shown is None:
        out.print("nothing to claim")
    else:
        out.print(
            f"claimed case {shown['case_id']}: {shown['priority']} {shown['policy']} "
            f"{shown['account_id']} (due {shown['resolution_due_at']})"
        )


@app.command("assign")
@handles_errors
def assign_cmd(
    case_id: int = typer.Argument(...),
    to: str = typer.Option(..., "--to", help="The analyst's name."),
    reason: str = typer.Option("", "--reason"),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Assign or reassign a case."""
    with workspace() as ws:
        do_assign_case(
            ws.store, ws.clock, case_id=case_id, assignee=to, actor=_actor(ws, actor), reason=reason
        )
    out.print(f"case {case_id} assigned to {to}")


@app.command("release")
@handles_errors
def release_cmd(
    case_id: int = typer.Argument(...),
    reason: str = typer.Option("", "--reason"),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Put a case back in its queue, unassigned."""
    with workspace() as ws:
        do_release_case(ws.store, ws.clock, case_id=case_id, actor=_actor(ws, actor), reason=reason)
    out.print(f"case {case_id} released")


@app.command("note")
@handles_errors
def note_cmd(
    case_id: int = typer.Argument(...),
    text: str = typer.Argument(..., help="The note; @name mentions an analyst."),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Add a note to a case's timeline."""
    with workspace() as ws:
        named = do_add_note(ws.store, ws.clock, case_id=case_id, text=text, actor=_actor(ws, actor))
    out.print(
        f"note added to case {case_id}" + (f" (mentions {', '.join(named)})" if named else "")
    )


@app.command("escalate")
@handles_errors
def escalate_cmd(
    case_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    to: str | None = typer.Option(None, "--to", help="Default: the queue's escalation target."),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Escalate a case to another queue, with a reason."""
    with workspace() as ws:
        queue = do_escalate_case(
            ws.store,
            ws.clock,
            ws.desk,
            case_id=case_id,
            actor=_actor(ws, actor),
            reason=reason,
            to_queue=to,
        )
    out.print(f"case {case_id} escalated to {queue}")


@app.command("snooze")
@handles_errors
def snooze_cmd(
    case_id: int = typer.Argument(...),
    until: str = typer.Option(..., "--until", help="ISO time with zone, e.g. 2026-03-02T09:00Z."),
    reason: str = typer.Option(..., "--reason"),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Keep a case out of claim-next until a time."""
    try:
        when = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--until: not an ISO time: {until!r}") from None
    with workspace() as ws:
        do_snooze_case(
            ws.store, ws.clock, case_id=case_id, until=when, actor=_actor(ws, actor), reason=reason
        )
    out.print(f"case {case_id} snoozed until {when.isoformat()}")


@app.command("status")
@handles_errors
def status_cmd(
    case_id: int = typer.Argument(...),
    status: str = typer.Argument(..., help="triage, investigating, pending_customer, actioned."),
    reason: str = typer.Option(..., "--reason"),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Move an open case to another open state."""
    with workspace() as ws:
        do_set_case_status(
            ws.store,
            ws.clock,
            case_id=case_id,
            status=status,
            actor=_actor(ws, actor),
            reason=reason,
        )
    out.print(f"case {case_id}: {status}")


@app.command("merge")
@handles_errors
def merge_cmd(
    survivor: int = typer.Argument(..., help="The case that stays."),
    others: list[int] = typer.Argument(..., help="Cases merged into it."),
    reason: str = typer.Option(..., "--reason"),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Merge cases into one: their signals, evidence, reports and timeline move to it."""
    with workspace() as ws:
        merged = do_merge_cases(
            ws.store,
            ws.clock,
            survivor_id=survivor,
            case_ids=others,
            actor=_actor(ws, actor),
            reason=reason,
        )
    out.print(f"merged {', '.join(map(str, merged))} into case {survivor}")


@app.command("split")
@handles_errors
def split_cmd(
    case_id: int = typer.Argument(...),
    signal: list[int] = typer.Option(..., "--signal", help="A signal to move (repeat)."),
    reason: str = typer.Option(..., "--reason"),
    policy: str | None = typer.Option(None, "--policy", help="Default: the signals' policy."),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Move signals off a case into a new case."""
    with workspace() as ws:
        new_id = do_split_case(
            ws.store,
            ws.clock,
            ws.desk,
            case_id=case_id,
            signal_ids=signal,
            actor=_actor(ws, actor),
            reason=reason,
            policy=policy,
        )
    out.print(f"split case {new_id} off case {case_id}")


@app.command("close")
@handles_errors
def close_cmd(
    case_id: int = typer.Argument(..., help="The case number."),
    resolution: str = typer.Option(
        ..., "--resolution", "--outcome", help=f"One of: {', '.join(RESOLUTIONS)}."
    ),
    reason: str = typer.Option(..., "--reason", help="Why; kept in the audit log."),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Close a case with its resolution; rule precision in backtests is measured against these."""
    with workspace() as ws:
        do_close_case(
            ws.store,
            ws.clock,
            case_id=case_id,
            resolution=resolution,
            actor=_actor(ws, actor),
            reason=reason,
        )
        resolved = show_case(ws.store, case_id)["case"]["resolution"]
    out.print(f"case {case_id} closed: {resolved}")


@app.command("reopen")
@handles_errors
def reopen_cmd(
    case_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    actor: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Reopen a closed case (back to triage, clocks restarted)."""
    with workspace() as ws:
        do_reopen_case(
            ws.store, ws.clock, ws.desk, case_id=case_id, actor=_actor(ws, actor), reason=reason
        )
    out.print(f"case {case_id} reopened")
