"""`abusedesk campaigns`: one template sent from many accounts, grouped from the lake."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.detect import parse_when
from abusedesk.cli.output import handles_errors, out, print_rows
from abusedesk.content.campaigns import Campaign, group_campaigns
from abusedesk.errors import NotFoundError

app = typer.Typer(help="Campaigns across accounts (near-duplicate messages).", no_args_is_help=True)


def _campaigns(since: str | None, min_accounts: int) -> tuple[list[Campaign], dict[str, list[str]]]:
    """The lake's campaigns, and the decided case outcomes of their accounts."""
    from abusedesk.cases.services import case_outcomes
    from abusedesk.lake.replay import lake_events

    start = parse_when(since, "--since")
    with workspace() as ws, ws.lake_reader() as reader:
        messages = (
            {"account_id": e.account_id, "ts": e.ts, **e.data}
            for e in lake_events(reader, since=start)
            if e.type == "message"
        )
        found = group_campaigns(messages, min_accounts=min_accounts)
        outcomes = case_outcomes(ws.store)
    verdicts: dict[str, list[str]] = {}
    for (account, policy), outcome in outcomes.items():
        verdicts.setdefault(account, []).append(f"{policy}:{outcome}")
    return found, verdicts


def _verdicts(campaign: Campaign, verdicts: dict[str, list[str]]) -> dict[str, list[str]]:
    return {a: verdicts[a] for a in sorted(campaign.accounts) if a in verdicts}


def _day(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if ts else ""


@app.command("list")
@handles_errors
def list_cmd(
    since: str | None = typer.Option(None, "--since", help="Messages from this time on."),
    min_accounts: int = typer.Option(2, "--min-accounts", help="Accounts a campaign needs."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Campaigns sent from several accounts, most accounts first."""
    found, verdicts = _campaigns(since, min_accounts)
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
    since: str | None = typer.Option(None, "--since", help="Messages from this time on."),
) -> None:
    """One campaign: accounts, volume per day, sample messages, verdicts so far."""
    found, verdicts = _campaigns(since, 2)
    campaign = next((c for c in found if c.id == campaign_id), None)
    if campaign is None:
        raise NotFoundError(f"no campaign {campaign_id} (see: abusedesk campaigns list)")
    body = campaign.to_json()
    body["verdicts"] = _verdicts(campaign, verdicts)
    out.print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode(), markup=False)
