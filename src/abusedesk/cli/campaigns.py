"""`abusedesk campaigns`: one template sent from many accounts, grouped from the lake."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.detect import parse_when
from abusedesk.cli.output import err, handles_errors, out, print_rows
from abusedesk.content.campaigns import Campaign
from abusedesk.investigate.campaigns import (
    DEFAULT_DAYS,
    MAX_MESSAGES,
    CampaignScan,
    find_campaign,
    lake_campaigns,
)

app = typer.Typer(help="Campaigns across accounts (near-duplicate messages).", no_args_is_help=True)

SINCE_HELP = f"Messages from this time on; default: the {DEFAULT_DAYS} days up to the newest."
MAX_HELP = "Messages read at most (oldest first); a note says when the window was cut."


def _campaigns(
    since: str | None, min_accounts: int, max_messages: int
) -> tuple[CampaignScan, dict[str, list[str]]]:
    """The lake's campaigns, and the decided case outcomes of their accounts."""
    from abusedesk.cases.services import case_outcomes

    start = parse_when(since, "--since")
    with workspace() as ws, ws.lake_reader() as reader:
        scan = lake_campaigns(
            reader, ws.lake_dir, since=start, min_accounts=min_accounts, max_messages=max_messages
        )
        outcomes = case_outcomes(ws.store)
    note = scan.note()
    if note:
        err.print(f"note: {note}", markup=False)
    verdicts: dict[str, list[str]] = {}
    for (account, policy), outcome in outcomes.items():
        verdicts.setdefault(account, []).append(f"{policy}:{outcome}")
    return scan, verdicts


def _verdicts(campaign: Campaign, verdicts: dict[str, list[str]]) -> dict[str, list[str]]:
    return {a: verdicts[a] for a in sorted(campaign.accounts) if a in verdicts}


def _day(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if ts else ""


@app.command("list")
@handles_errors
def list_cmd(
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    min_accounts: int = typer.Option(2, "--min-accounts", help="Accounts a campaign needs."),
    max_messages: int = typer.Option(MAX_MESSAGES, "--max-messages", help=MAX_HELP),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Campaigns sent from several accounts, most accounts first."""
    scan, verdicts = _campaigns(since, min_accounts, max_messages)
    found = scan.campaigns
    if as_json:
        for c in found:
            body: dict[str, Any] = c.to_json()
            body["verdicts"] = _verdicts(c, verdicts)
            typer.echo(orjson.dumps(body).decode())
        return
    rows = [
        (
            c.id,
            len(c.accounts),
            c.messages,
            _day(c.first),
            _day(c.last),
            len(_verdicts(c, verdicts)),
            ", ".join(sorted(c.domains)[:3]),
            c.samples[0][:60] if c.samples else "",
        )
        for c in found
    ]
    print_rows(
        ["campaign", "accounts", "messages", "first", "last", "decided", "domains", "sample"],
        rows,
        "table",
    )


@app.command("show")
@handles_errors
def show_cmd(
    campaign_id: str = typer.Argument(..., help="The campaign id from `campaigns list`."),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    max_messages: int = typer.Option(MAX_MESSAGES, "--max-messages", help=MAX_HELP),
) -> None:
    """One campaign: accounts, volume per day, sample messages, verdicts so far."""
    scan, verdicts = _campaigns(since, 2, max_messages)
    campaign = find_campaign(scan, campaign_id)
    body = campaign.to_json()
    body["window"] = scan.window()
    body["verdicts"] = _verdicts(campaign, verdicts)
    out.print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode(), markup=False)
