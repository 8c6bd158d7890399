"""`abusedesk accounts show` and `abusedesk entities show`: investigation from the shell.

The shell user holds the database, so the CLI acts with every permission; personal data is
still masked unless `--reveal --reason TEXT` is given, and a reveal is audited (actor `cli`).
"""

from __future__ import annotations

from typing import Any

import orjson
import typer
from rich.table import Table

from abusedesk.auth.pii import disclose
from abusedesk.auth.roles import PERMISSIONS
from abusedesk.auth.tokens import Principal
from abusedesk.cli.context import workspace
from abusedesk.cli.output import escape, handles_errors, out, print_rows
from abusedesk.investigate.account import Limits, account_360
from abusedesk.investigate.linked import linked_accounts
from abusedesk.investigate.pivot import entity_pivot

CLI_PRINCIPAL = Principal(name="cli", role="admin", permissions=PERMISSIONS)

accounts_app = typer.Typer(help="Investigate accounts.", no_args_is_help=True)
entities_app = typer.Typer(
    help="Pivot on numbers, addresses, domains, IPs ...", no_args_is_help=True
)

_REVEAL = typer.Option(False, "--reveal", help="Show personal data unmasked (audited).")
_REASON = typer.Option(None, "--reason", help="Why the reveal is needed (required with it).")
_JSON = typer.Option(False, "--json", help="Print the whole result as one JSON object.")


def _emit_json(data: Any) -> None:
    typer.echo(orjson.dumps(data, default=str).decode())


@accounts_app.command("show")
@handles_errors
def show_account(
    account_id: str = typer.Argument(..., help="The account id."),
    linked: bool = typer.Option(False, "--linked", help="Also list linked accounts (2 hops)."),
    reveal: bool = _REVEAL,
    reason: str | None = _REASON,
    as_json: bool = _JSON,
) -> None:
    """Account 360: profile, entities, cases, rule hits, actions, traffic and messages."""
    with workspace() as ws:
        limits = Limits(
            days=ws.settings.investigate_days, sample=ws.settings.investigate_sample_size
        )
        lake = ws.account_lake()
        view = account_360(ws.store, lake, account_id, limits)
        if linked:
            view["linked"] = linked_accounts(
                ws.store, account_id, common=ws.settings.investigate_common_entity
            )
        view = disclose(
            view,
            store=ws.store,
            clock=ws.clock,
            principal=CLI_PRINCIPAL,
            reveal=reveal,
            reason=reason,
            object_type="account",
            object_id=account_id,
        )
    if as_json:
        _emit_json(view)
        return
    _print_account(view)


def _print_account(view: dict[str, Any]) -> None:
    acc = view["account"]
    out.print(
        f"[bold]{escape(acc['account_id'])}[/]  status {acc['status']}  "
        f"{escape(acc['company'] or '-')}  {acc['country'] or '-'}  "
        f"use case {acc['declared_use_case'] or '-'}  email {escape(acc['email'] or '-')}"
    )
    out.print(
        f"first seen {acc['first_seen']}  last seen {acc['last_seen']}  events {acc['events']}"
    )
    print_rows(
        ["kind", "value", "first_seen", "last_seen", "events"],
        [tuple(e.values()) for e in view["entities"]],
        "table",
    )
    metrics = view["metrics"]
    t = metrics["totals"]
    out.print(
        f"[bold]traffic[/] {metrics['window']['first_day']} .. {metrics['window']['last_day']}: "
        f"{t.get('messages', 0)} messages, delivered {_pct(t['delivered_rate'])}, undelivered "
        f"{_pct(t['undelivered_rate'])}, bounce {_pct(t['bounce_rate'])}, errors "
        f"{_pct(t['error_rate'])}, complaints {_pct(t['complaint_rate'])}, opt-outs "
        f"{_pct(t['opt_out_rate'])}"
    )
    table = Table("day", "messages", "delivered", "undelivered", "bounce", "complaints", "opt-outs")
    for d in metrics["daily"]:
        table.add_row(
            d["day"],
            str(d["messages"]),
            _pct(d["delivered_rate"]),
            _pct(d["undelivered_rate"]),
            _pct(d["bounce_rate"]),
            str(d["complaints"]),
            str(d["opt_outs"]),
        )
    out.print(table)
    countries = ", ".join(
        f"{c['country']} {c['messages']}" for c in metrics["destination_countries"]
    )
    codes = ", ".join(f"{c['code']} {c['count']}" for c in metrics["error_codes"])
    out.print(f"destinations: {countries or '-'}")
    out.print(f"error codes: {escape(codes) or '-'}")
    for title, key, cols in (
        ("cases", "cases", ["id", "policy", "status", "priority", "opened_at", "outcome"]),
        ("rule hits", "rule_hits", ["rule_id", "policy", "severity", "hits", "last_at"]),
        ("actions", "actions", ["id", "kind", "status", "created_at", "reason"]),
        ("messages", "messages", ["ts", "channel", "from", "to", "body"]),
    ):
        out.print(f"[bold]{title}[/] ({len(view[key])})")
        if view[key]:
            print_rows(cols, [[r.get(c) for c in cols] for r in view[key]], "table")
    _print_campaigns(view["campaigns"])
    if "linked" in view:
        _print_linked(view["linked"]["linked"])


def _print_campaigns(found: dict[str, Any]) -> None:
    window = found["window"]
    capped = ", capped" if found["capped"] else ""
    out.print(
        f"[bold]campaigns[/] ({len(found['campaigns'])}; {window['first_day']} .. "
        f"{window['last_day']}, {found['messages_read']} messages read{capped})"
    )
    rows = [
        (
            c["campaign"],
            c["accounts"],
            c["messages"],
            c["others_enforced"],
            c["others_confirmed"],
            ", ".join(c["other_accounts"][:5]),
            ", ".join(c["domains"][:3]),
        )
        for c in found["campaigns"]
    ]
    if rows:
        cols = ["campaign", "accounts", "messages", "enforced", "confirmed", "others", "domains"]
        print_rows(cols, rows, "table")


def _print_linked(linked: list[dict[str, Any]]) -> None:
    out.print(f"[bold]linked accounts[/] ({len(linked)})")
    rows = [
        (
            r["account_id"],
            r["hops"],
            ", ".join(r["via"] or []),
            "; ".join(f"{s['kind']}={s['value']}" for s in r["shared"]),
        )
        for r in linked
    ]
    print_rows(["account", "hops", "via", "shared"], rows, "table")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@entities_app.command("show")
@handles_errors
def show_entity(
    kind: str = typer.Argument(
        ..., help="number, address, domain, url, ip, device, payment, api_key or sender_id."
    ),
    value: str = typer.Argument(..., help="The value, e.g. +447700900123 or example.com."),
    limit: int = typer.Option(100, "--limit", min=1, help="Most accounts listed."),
    reveal: bool = _REVEAL,
    reason: str | None = _REASON,
    as_json: bool = _JSON,
) -> None:
    """Entity pivot: the accounts that used it, their messages carrying it, reports naming it."""
    with workspace() as ws:
        lake = ws.account_lake()
        result = entity_pivot(
            ws.store,
            lake,
            kind,
            value,
            days=ws.settings.investigate_days,
            sample=ws.settings.investigate_sample_size,
            limit=limit,
        )
        result = disclose(
            result,
            store=ws.store,
            clock=ws.clock,
            principal=CLI_PRINCIPAL,
            reveal=reveal,
            reason=reason,
            object_type="entity",
            object_id=f"{result['kind']}:{result['value']}",
        )
    if as_json:
        _emit_json(result)
        return
    seen = result["entity"]
    where = f"seen {seen['first_seen']} .. {seen['last_seen']}" if seen else "not in the registry"
    out.print(
        f"[bold]{result['kind']} {escape(result['value'])}[/]  {where}  "
        f"{result['accounts_total']} accounts"
    )
    print_rows(
        ["account", "status", "first_seen", "last_seen", "events"],
        [tuple(a.values()) for a in result["accounts"]],
        "table",
    )
    if result["next_after"]:
        out.print(f"[dim]more accounts: raise --limit (listed {len(result['accounts'])})[/]")
    out.print(f"[bold]messages[/] ({len(result['messages'])})")
    if result["messages"]:
        cols = ["ts", "account_id", "from", "to", "body"]
        print_rows(cols, [[m.get(c) for c in cols] for m in result["messages"]], "table")
    out.print(f"[bold]reports[/] ({len(result['reports'])})")
    if result["reports"]:
        cols = ["received_at", "reporter", "category", "target", "account_id"]
        print_rows(cols, [[r.get(c) for c in cols] for r in result["reports"]], "table")
