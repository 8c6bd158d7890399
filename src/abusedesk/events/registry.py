"""The account and entity registry, kept up to date by ingest.

Every event names its account; many also name things the account uses: the numbers and
addresses it sends from, its IPs, devices, cards, API keys, the domains in its links. The
registry records when each was first and last seen and links it to the account, so an analyst
(or a rule) can go from any entity to every account that used it. Recipients are not entities
of the sender: they are in the lake, where a query finds who sent to a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import Connection

from abusedesk.events.schema import Event
from abusedesk.storage.bulk import greater, insert_returning, lesser

_URL_HOST: Final = re.compile(r"(?i)\b(?:https?://|www\.)([a-z0-9.-]+\.[a-z]{2,})")
_MAX_BODY_SCAN: Final = 4096


def sender_kind(value: str) -> str:
    if "@" in value:
        return "email"
    if value.startswith(("+", "whatsapp:+")):
        return "phone"
    return "sender_id"


def entities_of(event: Event) -> list[tuple[str, str]]:
    """(kind, value) pairs this event links to its account."""
    data = event.data
    out: list[tuple[str, str]] = []
    etype = event.type
    if etype == "message":
        if data.get("direction") == "inbound":
            return out
        sender = data["from"]
        kind = sender_kind(sender)
        out.append((kind, sender.lower() if kind == "email" else sender))
        if kind == "email" and "@" in sender:
            out.append(("domain", sender.rsplit("@", 1)[1].lower().strip(">")))
        if (ip := data.get("sender_ip")) is not None:
            out.append(("ip", ip))
        if (key := data.get("api_key_id")) is not None:
            out.append(("api_key", key))
        body = data.get("body")
        if body and ("http" in body or "www." in body):
            for host in _URL_HOST.findall(body[:_MAX_BODY_SCAN]):
                out.append(("domain", host.lower()))
    elif etype == "account":
        for name, kind in (
            ("ip", "ip"),
            ("device_id", "device"),
            ("payment_fingerprint", "payment"),
        ):
            if (value := data.get(name)) is not None:
                out.append((kind, value))
        if (email := data.get("email")) is not None:
            out.append(("email", email.lower()))
        if (website := data.get("website")) is not None:
            host = website.lower().split("//", 1)[-1].split("/", 1)[0]
            if host:
                out.append(("domain", host.removeprefix("www.")))
    elif etype == "call":
        out.append((sender_kind(data["from"]), data["from"]))
    return out


@dataclass
class _Seen:
    first: datetime
    last: datetime
    count: int = 1

    def see(self, ts: datetime) -> None:
        self.first = min(self.first, ts)
        self.last = max(self.last, ts)
        self.count += 1


@dataclass
class RegistryBatch:
    """What one ingest batch adds to the registry, aggregated before it touches the database."""

    accounts: dict[str, _Seen] = field(default_factory=dict)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    entities: dict[tuple[str, str], _Seen] = field(default_factory=dict)
    links: dict[tuple[str, str, str], _Seen] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        account = event.account_id
        if account is None:
            return
        ts = event.ts
        seen = self.accounts.get(account)
        if seen is None:
            self.accounts[account] = _Seen(ts, ts)
        else:
            seen.see(ts)
        if event.type == "account":
            profile = self.profiles.setdefault(account, {})
            for name in ("email", "company", "country", "declared_use_case"):
                if (value := event.data.get(name)) is not None:
                    profile[name] = value
        for kind, value in entities_of(event):
            if len(value) > 512:
                continue
            ekey = (kind, value)
            eseen = self.entities.get(ekey)
            if eseen is None:
                self.entities[ekey] = _Seen(ts, ts)
            else:
                eseen.see(ts)
            lkey = (account, kind, value)
            lseen = self.links.get(lkey)
            if lseen is None:
                self.links[lkey] = _Seen(ts, ts)
            else:
                lseen.see(ts)

    def write(self, conn: Connection) -> None:
        if not self.accounts:
            return
        least, most = lesser(conn), greater(conn)
        insert_returning(
            conn,
            "accounts",
            ("account_id", "first_seen", "last_seen", "event_count", "status"),
            [(a, s.first, s.last, s.count, "active") for a, s in self.accounts.items()],
            conflict=(
                "ON CONFLICT (account_id) DO UPDATE SET "
                f"first_seen = {least}(accounts.first_seen, excluded.first_seen), "
                f"last_seen = {most}(accounts.last_seen, excluded.last_seen), "
                "event_count = accounts.event_count + excluded.event_count"
            ),
        )
        mark = _mark(conn)
        for account, profile in self.profiles.items():
            # Column names come from the fixed tuple in add(); values are parameters.
            sets = ", ".join(f"{name} = {mark}" for name in profile)
            conn.exec_driver_sql(
                f"UPDATE accounts SET {sets} WHERE account_id = {mark}",
                (*profile.values(), account),
            )
        if not self.entities:
            return
        rows = insert_returning(
            conn,
            "entities",
            ("kind", "value", "first_seen", "last_seen"),
            [(k, v, s.first, s.last) for (k, v), s in self.entities.items()],
            conflict=(
                "ON CONFLICT (kind, value) DO UPDATE SET "
                f"first_seen = {least}(entities.first_seen, excluded.first_seen), "
                f"last_seen = {most}(entities.last_seen, excluded.last_seen)"
            ),
            returning=("id", "kind", "value"),
        )
        ids = {(kind, value): entity_id for entity_id, kind, value in rows}
        insert_returning(
            conn,
            "account_entities",
            ("account_id", "entity_id", "first_seen", "last_seen", "event_count"),
            [
                (account, ids[(kind, value)], s.first, s.last, s.count)
                for (account, kind, value), s in self.links.items()
            ],
            conflict=(
                "ON CONFLICT (account_id, entity_id) DO UPDATE SET "
                f"first_seen = {least}(account_entities.first_seen, excluded.first_seen), "
                f"last_seen = {most}(account_entities.last_seen, excluded.last_seen), "
                "event_count = account_entities.event_count + excluded.event_count"
            ),
        )


def _mark(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"
