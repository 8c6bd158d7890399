"""`abusedesk bulk`: plan (dry run), approve, run and roll back actions on many accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from abusedesk.analytics.sql import run_query
from abusedesk.cli.context import workspace
from abusedesk.cli.detect import parse_when
from abusedesk.cli.output import err, handles_errors, out, print_rows
from abusedesk.enforcement.bulk import (
    bulk_results,
    cluster_of,
    do_approve_bulk,
    do_plan_bulk,
    do_rollback_bulk,
    do_run_bulk,
    get_job,
)
from abusedesk.errors import InputError
from abusedesk.investigate.campaigns import campaign_selector, find_campaign, lake_campaigns
from abusedesk.workspace import Workspace

app = typer.Typer(
    help="Bulk actions: plan (dry run), approve, run, roll back.", no_args_is_help=True
)


def select_accounts(
    ws: Workspace,
    *,
    accounts: str | None,
    accounts_file: Path | None,
    sql: str | None,
    cluster: str | None,
    campaign: str | None = None,
    since: str | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """The accounts a selection names, and the selection as recorded on the job."""
    given = [x for x in (accounts, accounts_file, sql, cluster, campaign) if x]
    if len(given) != 1:
        raise InputError(
            "select with exactly one of --accounts, --accounts-file, --sql, --cluster, --campaign"
        )
    if since is not None and not campaign:
        raise InputError("--since goes with --campaign (the window the campaign is found in)")
    if accounts:
        return accounts.split(","), {"accounts": accounts.split(",")}
    if accounts_file:
        try:
            lines = accounts_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"cannot read {accounts_file}: {exc}") from None
        return lines, {"accounts_file": str(accounts_file)}
    if sql:
        # The read-only sandbox of `abusedesk sql`: one SELECT, locked to the lake, time-limited.
        with ws.lake_reader(locked=True) as reader:
            result = run_query(reader, sql, timeout_s=ws.settings.sql_timeout_s)
        return [str(row[0]) for row in result.rows if row and row[0] is not None], {"sql": sql}
    if campaign:
        # The campaign as `abusedesk campaigns show` finds it, in the same window.
        with ws.lake_reader() as reader:
            scan = lake_campaigns(reader, ws.lake_dir, since=parse_when(since, "--since"))
        found = find_campaign(scan, campaign)
        return sorted(found.accounts), campaign_selector(scan, found)
    assert cluster is not None
    with ws.store.sessions() as session:
        return cluster_of(session, cluster), {"cluster": cluster}


@app.command("plan")
@handles_errors
def plan_cmd(
    policy: str = typer.Option(..., "--policy", help="The policy (gives each account's ladder)."),
    reason: str = typer.Option(..., "--reason", help="Why; kept in the audit log."),
    accounts: str | None = typer.Option(None, "--accounts", help="Comma-separated account ids."),
    accounts_file: Path | None = typer.Option(None, "--accounts-file", help="One id a line."),
    sql: str | None = typer.Option(None, "--sql", help="A SELECT over the lake; first column."),
    cluster: str | None = typer.Option(
        None, "--cluster", help="An account and those sharing a device or card with it."
    ),
    campaign: str | None = typer.Option(
        None, "--campaign", help="The accounts of a campaign (abusedesk campaigns list)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="With --campaign: its window, as in `campaigns list --since`."
    ),
    kind: str | None = typer.Option(None, "--kind", help="One kind for all; default: ladders."),
    duration: str | None = typer.Option(None, "--for", help="Lifts itself after: 72h, 14d."),
    override: str | None = typer.Option(None, "--override-reason"),
    actor: str = typer.Option("cli", "--as", help="Who plans it."),
) -> None:
    """Dry run: list exactly who would be affected and what each ladder proposes."""
    with workspace() as ws:
        chosen, selector = select_accounts(
            ws,
            accounts=accounts,
            accounts_file=accounts_file,
            sql=sql,
            cluster=cluster,
            campaign=campaign,
            since=since,
        )
        job, items = do_plan_bulk(
            ws.enforcement(),
            accounts=chosen,
            selector=selector,
            policy=policy,
            reason=reason,
            actor=actor,
            approval_size=ws.settings.bulk_approval_size,
            kind=kind,
            duration=duration,
            override_reason=override,
        )
    print_rows(
        ["account", "strikes", "ladder proposes", "will take"],
        [(i["account_id"], i["strikes"], i["describe"], i["will_take"]) for i in items],
        "table",
    )
    needs = "; needs approval by a second person" if job.needs_approval else ""
    out.print(f"bulk job {job.id} planned: {job.size} account(s){needs}")


@app.command("approve")
@handles_errors
def approve_cmd(
    job_id: int = typer.Argument(...),
    actor: str = typer.Option(..., "--as", help="Who approves (not who planned it)."),
) -> None:
    """Approve a planned job (a second person)."""
    with workspace() as ws:
        job = do_approve_bulk(
            ws.enforcement(),
            job_id=job_id,
            actor=actor,
            approval_size=ws.settings.bulk_approval_size,
        )
    out.print(f"bulk job {job.id} approved by {actor}")


@app.command("run")
@handles_errors
def run_cmd(
    job_id: int = typer.Argument(...),
    actor: str = typer.Option("cli", "--as", help="Who runs it."),
) -> None:
    """Take the planned actions, with progress; a rerun finishes an interrupted job."""

    def progress(done: int, total: int) -> None:
        err.print(f"{done}/{total}")

    with workspace() as ws:
        job = do_run_bulk(
            ws.enforcement(),
            job_id=job_id,
            actor=actor,
            approval_size=ws.settings.bulk_approval_size,
            progress=progress,
        )
    out.print(f"bulk job {job.id} done: {job.done} done, {job.failed} failed")


@app.command("show")
@handles_errors
def show_cmd(job_id: int = typer.Argument(...)) -> None:
    """The job and its per-account results."""
    with workspace() as ws:
        enf = ws.enforcement()
        job = get_job(enf, job_id, ws.settings.bulk_approval_size)
        rows = bulk_results(enf, job_id)
    print_rows(
        ["account", "will take", "status", "action", "error"],
        [(r["account_id"], r["will_take"], r["status"], r["action_id"], r["error"]) for r in rows],
        "table",
    )
    out.print(f"bulk job {job.id}: {job.status}, {job.done} done, {job.failed} failed")


@app.command("rollback")
@handles_errors
def rollback_cmd(
    job_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    actor: str = typer.Option("cli", "--as"),
) -> None:
    """Reverse every action the job took."""
    with workspace() as ws:
        job = do_rollback_bulk(
            ws.enforcement(),
            job_id=job_id,
            actor=actor,
            reason=reason,
            approval_size=ws.settings.bulk_approval_size,
        )
    out.print(f"bulk job {job.id} rolled back")
