"""`abusedesk actions`: take, reverse, list and expire enforcement actions."""

from __future__ import annotations

import orjson
import typer

from abusedesk.cli.context import workspace
from abusedesk.cli.output import handles_errors, out, print_rows
from abusedesk.enforcement.kinds import KINDS, ActionRequest
from abusedesk.enforcement.services import (
    do_expire_actions,
    do_reverse_action,
    do_take_action,
    list_actions,
    proposal,
)
from abusedesk.enforcement.state import account_status
from abusedesk.policies.catalogue import parse_duration

app = typer.Typer(help="Enforcement actions on accounts and entities.", no_args_is_help=True)


@app.command("take")
@handles_errors
def take_cmd(
    account: str = typer.Argument(..., help="The account the action is on."),
    reason: str = typer.Option(..., "--reason", help="Why; kept in the audit log."),
    kind: str | None = typer.Option(
        None, "--kind", help=f"{', '.join(KINDS)}. Omit to take the policy ladder's step."
    ),
    policy: str | None = typer.Option(None, "--policy", help="The policy (gives the ladder)."),
    case: int | None = typer.Option(None, "--case", help="The case it settles."),
    scope: str = typer.Option(
        "account",
        "--scope",
        help="account, sender, domain, campaign, country; for block: number, domain, url, ip.",
    ),
    target: str | None = typer.Option(None, "--target", help="The sender, domain, … of --scope."),
    rate: float | None = typer.Option(None, "--rate", help="Throttle: messages per minute."),
    duration: str | None = typer.Option(None, "--for", help="Lifts itself after: 30m, 72h, 14d."),
    override: str | None = typer.Option(
        None, "--override-reason", help="Why --kind differs from the ladder's proposal."
    ),
    key: str | None = typer.Option(None, "--key", help="Idempotency key: a repeat is one action."),
    actor: str = typer.Option("cli", "--as", help="Who is acting (for the audit log)."),
) -> None:
    """Take an action; with --policy and no --kind, the ladder's proposal."""
    with workspace() as ws:
        result = do_take_action(
            ws.enforcement(),
            ActionRequest(
                account_id=account,
                actor=actor,
                reason=reason,
                kind=kind,
                policy=policy,
                case_id=case,
                scope=scope,
                target=target,
                rate_per_min=rate,
                duration=parse_duration(duration) if duration else None,
                override_reason=override,
                idempotency_key=key,
            ),
        )
    a = result.action
    what = "took" if result.created else "already taken:"
    until = f" until {a['expires_at']}" if a["expires_at"] else ""
    out.print(f"{what} action {a['id']}: {a['kind']} {a['scope']} {a['target'] or account}{until}")


@app.command("reverse")
@handles_errors
def reverse_cmd(
    action_id: int = typer.Argument(..., help="The action to reverse."),
    reason: str = typer.Option(..., "--reason", help="Why; kept in the audit log."),
    actor: str = typer.Option("cli", "--as", help="Who is reversing it."),
) -> None:
    """Reverse an action; the reversal is an action linked to it."""
    with workspace() as ws:
        result = do_reverse_action(
            ws.enforcement(), action_id=action_id, actor=actor, reason=reason
        )
    out.print(f"action {action_id} reversed by action {result.action['id']}")


@app.command("list")
@handles_errors
def list_cmd(
    account: str | None = typer.Option(None, "--account"),
    status: str | None = typer.Option(None, "--status", help="active, done, expired, reversed."),
    case: int | None = typer.Option(None, "--case"),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List actions, newest first."""
    with workspace() as ws:
        rows = list_actions(ws.store, account_id=account, status=status, case_id=case, limit=limit)
    if as_json:
        for row in rows:
            typer.echo(orjson.dumps(row).decode())
        return
    print_rows(
        ["id", "account", "kind", "scope", "target", "policy", "status", "expires", "by"],
        [
            (
                r["id"],
                r["account_id"],
                r["kind"],
                r["scope"],
                r["target"],
                r["policy"],
                r["status"],
                r["expires_at"],
                r["created_by"],
            )
            for r in rows
        ],
        "table",
    )


@app.command("status")
@handles_errors
def status_cmd(account: str = typer.Argument(..., help="The account.")) -> None:
    """The account's state, derived from its active actions."""
    with workspace() as ws:
        status = account_status(ws.store, ws.clock, account)
    kinds = ", ".join(f"{a['kind']}#{a['action_id']}" for a in status["actions"]) or "none"
    out.print(f"{account}: {status['state']} (actions in force: {kinds})")


@app.command("propose")
@handles_errors
def propose_cmd(
    account: str = typer.Argument(..., help="The account."),
    policy: str = typer.Option(..., "--policy"),
) -> None:
    """What the policy's ladder proposes for the account now."""
    with workspace() as ws:
        offer = proposal(ws.enforcement(), account, policy)
    out.print(f"{account} under {policy}: {offer.step.describe()} (live strikes: {offer.strikes})")


@app.command("expire")
@handles_errors
def expire_cmd() -> None:
    """Lift temporary actions whose time is up (`abusedesk serve` does this by itself)."""
    with workspace() as ws:
        lifted = do_expire_actions(ws.enforcement())
    out.print(f"{len(lifted)} action(s) expired")
