"""Entity pivot: from a number, address, domain, URL, IP, device or payment fingerprint to the
accounts that used it (the registry), their messages that carry it (the lake) and the abuse
reports that name it (the store).

The registry knows what senders use (numbers and addresses they send from, their IPs, devices,
payment fingerprints, API keys, the domains in their links). A URL is looked up by its domain
and its messages by the URL itself.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import func, or_, select

from abusedesk.errors import InputError
from abusedesk.investigate.lake_reads import MATCHES, AccountLake, Match
from abusedesk.investigate.window import days_ending
from abusedesk.storage.db import Store
from abusedesk.storage.models import Account, AccountEntity, Entity, Report

# What people call a kind -> the registry's kind.
KINDS: Final[dict[str, str]] = {
    "number": "phone",
    "phone": "phone",
    "address": "email",
    "email": "email",
    "domain": "domain",
    "url": "domain",
    "ip": "ip",
    "device": "device",
    "payment": "payment",
    "api_key": "api_key",
    "sender_id": "sender_id",
}
SAMPLED_ACCOUNTS: Final = 10  # messages are sampled from the entity's busiest accounts: the
# cost of the sample grows with their traffic (50 accounts of a public mail domain: seconds)


def normalise(kind: str, value: str) -> tuple[str, str, str]:
    """(registry kind, registry value, the text to find in messages)."""
    registry_kind = KINDS.get(kind)
    if registry_kind is None:
        raise InputError(f"unknown entity kind {kind!r}; expected one of {', '.join(KINDS)}")
    value = value.strip()
    if not value or len(value) > 512:
        raise InputError("an entity value is 1 to 512 characters")
    if kind == "url":
        rest = value.split("//", 1)[-1]
        host = rest.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].lower()
        if "." not in host:
            raise InputError(f"{value!r} is not a URL with a host")
        return "domain", host.removeprefix("www."), value
    if registry_kind in ("email", "domain"):
        lowered = value.lower()
        return (
            registry_kind,
            lowered.removeprefix("www.") if registry_kind == "domain" else lowered,
            lowered,
        )
    return registry_kind, value, value


def entity_pivot(
    store: Store,
    lake: AccountLake,
    kind: str,
    value: str,
    *,
    days: int,
    sample: int,
    after: str = "",
    limit: int = 100,
) -> dict[str, Any]:
    """The entity, one page of its accounts (account_id order after `after`), messages of its
    busiest accounts carrying it, and reports naming it."""
    registry_kind, registry_value, needle = normalise(kind, value)
    with store.sessions() as session:
        entity = session.execute(
            select(Entity).where(Entity.kind == registry_kind, Entity.value == registry_value)
        ).scalar_one_or_none()
        accounts: list[dict[str, Any]] = []
        total = 0
        busiest: list[tuple[str, Any]] = []
        if entity is not None:
            total = session.execute(
                select(func.count()).where(AccountEntity.entity_id == entity.id)
            ).scalar_one()
            page = session.execute(
                select(AccountEntity, Account.status)
                .join(Account, Account.account_id == AccountEntity.account_id)
                .where(AccountEntity.entity_id == entity.id, AccountEntity.account_id > after)
                .order_by(AccountEntity.account_id)
                .limit(limit + 1)
            ).all()
            accounts = [
                {
                    "account_id": link.account_id,
                    "status": status,
                    "first_seen": link.first_seen.isoformat(),
                    "last_seen": link.last_seen.isoformat(),
                    "events": link.event_count,
                }
                for link, status in page
            ]
            busiest = list(
                session.execute(
                    select(AccountEntity.account_id, AccountEntity.last_seen)
                    .where(AccountEntity.entity_id == entity.id)
                    .order_by(AccountEntity.event_count.desc(), AccountEntity.account_id)
                    .limit(SAMPLED_ACCOUNTS)
                )
            )
        like = f"%{_escape_like(registry_value if kind == 'url' else needle)}%"
        reports = (
            session.execute(
                select(Report)
                .where(or_(Report.target == needle, Report.target.ilike(like, escape="\\")))
                .order_by(Report.received_at.desc())
                .limit(50)
            )
            .scalars()
            .all()
        )
    more = len(accounts) > limit
    accounts = accounts[:limit]
    messages: list[dict[str, Any]] = []
    if busiest and sample > 0 and registry_kind in MATCHES:
        window = days_ending(max(seen for _a, seen in busiest), days)
        # A URL's messages are those carrying the URL itself (MATCHES: which columns a kind
        # is found in; devices and payment fingerprints are on account events, not messages).
        match = Match(MATCHES[registry_kind], needle)
        messages = lake.message_sample([a for a, _ in busiest], window, sample, match=match)
        for row in messages:
            row["ts"] = row["ts"].isoformat()
    return {
        "kind": registry_kind,
        "value": registry_value,
        "entity": None
        if entity is None
        else {
            "first_seen": entity.first_seen.isoformat(),
            "last_seen": entity.last_seen.isoformat(),
        },
        "accounts_total": total,
        "accounts": accounts,
        "next_after": accounts[-1]["account_id"] if more and accounts else None,
        "messages": messages,
        "reports": [
            {
                "report_id": r.report_id,
                "reporter": r.reporter,
                "category": r.category,
                "target": r.target,
                "account_id": r.account_id,
                "case_id": r.case_id,
                "received_at": r.received_at.isoformat(),
                "description": r.description,
            }
            for r in reports
        ],
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
