"""The account and entity registry, kept up to date by ingest.

Every event names its account; many also name things the account uses: the numbers and
addresses it sends from, its IPs, devices, cards, API keys, the domains in its links. The
registry records when each was first and last seen and links it to the account, so an analyst
(or a rule) can go from any entity to every account that used it. Recipients are not entities
of the sender: they are in the lake, where a query finds who sent to a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection

from abusedesk.events.schema import UNATTRIBUTED, Event
from abusedesk.storage.bulk import clean_text, greater, insert_returning, lesser, ts_param

_URL_HOST: Final = re.compile(r"(?i)\b(?:https?://|www\.)([a-z0-9.-]+\.[a-z]{2,})")
_MAX_BODY_SCAN: Final = 4096


def sender_kind(value: str) -> str:
    if "@" in value:
        return "email"
    if value.startswith(("+", "whatsapp:+")):
        return "phone"
    return "sender_id"


# The event types entities_of names anything for; RegistryBatch.add skips the rest early.
_LINKING_TYPES: Final = frozenset({"message", "account", "call"})


def entities_of(event: Event) -> list[tuple[str, str]]:
    """(kind, value) pairs this event links to its account (none for a type outside
    _LINKING_TYPES)."""
    data = event.data
    etype = event.type
    if etype == "message":
        if data.get("direction") == "inbound":
            return []
        out = sender_entities(data["from"], data.get("sender_ip"), data.get("api_key_id"))
        body = data.get("body")
        if body and ("http" in body or "www." in body):
            out += [("domain", host.lower()) for host in _URL_HOST.findall(body[:_MAX_BODY_SCAN])]
        return out
    out = []
    if etype == "account":
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


def sender_entities(sender: str, ip: str | None, api_key: str | None) -> list[tuple[str, str]]:
    """What an outbound message links to its account, its body's links aside."""
    kind = sender_kind(sender)
    out = [(kind, sender.lower() if kind == "email" else sender)]
    if kind == "email" and "@" in sender:
        out.append(("domain", sender.rsplit("@", 1)[1].lower().strip(">")))
    if ip is not None:
        out.append(("ip", ip))
    if api_key is not None:
        out.append(("api_key", api_key))
    return out


# [first_seen, last_seen, count]: plain lists, because a small object per entity costs more
# than the rest of the registry's per-event work together.
_Agg = list[Any]


def _merge(table: dict[Any, _Agg], key: Any, first: datetime, last: datetime, count: int) -> None:
    agg = table.get(key)
    if agg is None:
        table[key] = [first, last, count]
        return
    agg[0] = min(agg[0], first)
    agg[1] = max(agg[1], last)
    agg[2] += count


def _see(table: dict[Any, _Agg], key: Any, ts: datetime) -> None:
    agg = table.get(key)
    if agg is None:
        table[key] = [ts, ts, 1]
        return
    if ts < agg[0]:
        agg[0] = ts
    elif ts > agg[1]:
        agg[1] = ts
    agg[2] += 1


@dataclass
class RegistryBatch:
    """What one ingest batch adds to the registry, aggregated before it touches the database.

    Messages, most of the traffic, repeat their account's few senders, IPs and API keys, so
    they are first counted per (account, from, sender_ip, api_key_id) in `senders`, one lookup
    an event, and only expanded into links (`sender_entities`) once per batch. `links` is then
    exactly what adding each event's `entities_of` one by one would give (tested)."""

    accounts: dict[str, _Agg] = field(default_factory=dict)
    profiles: dict[str, dict[str, str | None]] = field(default_factory=dict)
    senders: dict[tuple[str, str, str | None, str | None], _Agg] = field(default_factory=dict)
    links: dict[tuple[str, str, str], _Agg] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        self.add_all((event,))

    def add_all(self, events: Iterable[Event]) -> None:
        """Add each event; one loop with the tables in locals (this runs for every event
        ingested, and a method call an event cost a tenth of it)."""
        accounts = self.accounts
        senders = self.senders
        for event in events:
            account = event.account_id
            if account is None or account == UNATTRIBUTED:  # no customer to link anything to
                continue
            ts = event.ts
            # _see() inlined for the account and the sender.
            agg = accounts.get(account)
            if agg is None:
                accounts[account] = [ts, ts, 1]
            else:
                if ts < agg[0]:
                    agg[0] = ts
                elif ts > agg[1]:
                    agg[1] = ts
                agg[2] += 1
            data = event.data
            etype = event.type
            if etype == "message":
                if data.get("direction") == "inbound":
                    continue
                combo = (account, data["from"], data.get("sender_ip"), data.get("api_key_id"))
                agg = senders.get(combo)
                if agg is None:
                    senders[combo] = [ts, ts, 1]
                else:
                    if ts < agg[0]:
                        agg[0] = ts
                    elif ts > agg[1]:
                        agg[1] = ts
                    agg[2] += 1
                body = data.get("body")
                if body and ("http" in body or "www." in body):
                    for host in _URL_HOST.findall(body[:_MAX_BODY_SCAN]):
                        self._link(account, "domain", host.lower(), ts)
                continue
            if etype not in _LINKING_TYPES:  # most of the rest (deliveries): nothing to link
                continue
            if etype == "account":
                profile = {
                    n: clean_text(data[n]) for n in _PROFILE_FIELDS if data.get(n) is not None
                }
                if profile:
                    self.profiles.setdefault(account, {}).update(profile)
            for kind, value in entities_of(event):
                self._link(account, kind, value, ts)

    def _link(self, account: str, kind: str, value: str, ts: datetime) -> None:
        if len(value) <= 512:
            _see(self.links, (account, kind, clean_text(value) or ""), ts)

    def expand_senders(self) -> None:
        """Move the sender counts into `links` (write() and entities() do it first)."""
        for (account, sender, ip, key), (first, last, count) in self.senders.items():
            for kind, value in sender_entities(sender, ip, key):
                if len(value) <= 512:
                    _merge(self.links, (account, kind, clean_text(value) or ""), first, last, count)
        self.senders.clear()

    def entities(self) -> dict[tuple[str, str], _Agg]:
        self.expand_senders()
        out: dict[tuple[str, str], _Agg] = {}
        for (_account, kind, value), (first, last, count) in self.links.items():
            _merge(out, (kind, value), first, last, count)
        return out

    def write(self, conn: Connection) -> None:
        if not self.accounts:
            return
        least, most, ts = lesser(conn), greater(conn), ts_param(conn)
        insert_returning(
            conn,
            "accounts",
            ("account_id", "first_seen", "last_seen", "event_count", "status"),
            [(a, ts(f), ts(last), n, "active") for a, (f, last, n) in self.accounts.items()],
            conflict=(
                "ON CONFLICT (account_id) DO UPDATE SET "
                f"first_seen = {least}(accounts.first_seen, excluded.first_seen), "
                f"last_seen = {most}(accounts.last_seen, excluded.last_seen), "
                "event_count = accounts.event_count + excluded.event_count"
            ),
        )
        mark = _mark(conn)
        for account, profile in self.profiles.items():
            # Column names come from _PROFILE_FIELDS; values are parameters.
            sets = ", ".join(f"{name} = {mark}" for name in profile)
            conn.exec_driver_sql(
                f"UPDATE accounts SET {sets} WHERE account_id = {mark}",
                (*profile.values(), account),
            )
        entities = self.entities()
        if not entities:
            return
        rows = insert_returning(
            conn,
            "entities",
            ("kind", "value", "first_seen", "last_seen"),
            [(k, v, ts(first), ts(last)) for (k, v), (first, last, _n) in entities.items()],
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
                (account, ids[(kind, value)], ts(first), ts(last), n)
                for (account, kind, value), (first, last, n) in self.links.items()
            ],
            conflict=(
                "ON CONFLICT (account_id, entity_id) DO UPDATE SET "
                f"first_seen = {least}(account_entities.first_seen, excluded.first_seen), "
                f"last_seen = {most}(account_entities.last_seen, excluded.last_seen), "
                "event_count = account_entities.event_count + excluded.event_count"
            ),
        )


_PROFILE_FIELDS: Final = ("email", "company", "country", "declared_use_case")


def _mark(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"
