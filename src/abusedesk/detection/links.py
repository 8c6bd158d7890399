"""Links between accounts through what they share: the related-account (ban evasion) signal.

Accounts that share a device or a card fingerprint with an account detection has flagged are
"linked to a flagged account" (DOMAIN.md E15: SES acts on a Related Account). IPs are not used:
carrier NAT and cloud egress put strangers on one address, which would link the innocent.

The state is bounded: at most MAX_ACCOUNTS accounts are remembered per entity and MAX_ENTITIES
entities per account (a card used by thousands of accounts is a platform's own test card, not a
ring). It lives in process; a restarted process relearns links from the events it sees.
"""

from __future__ import annotations

from typing import Final

from abusedesk.events.schema import Event

LINK_FIELDS: Final = (("device_id", "device"), ("payment_fingerprint", "payment"))
OBSERVED_TYPES: Final = frozenset({"account"})  # the events observe() learns from
MAX_ACCOUNTS: Final = 64
MAX_ENTITIES: Final = 32


class LinkState:
    def __init__(self) -> None:
        self._accounts_of: dict[tuple[str, str], set[str]] = {}
        self._entities_of: dict[str, set[tuple[str, str]]] = {}
        self._flagged: set[str] = set()
        # linked_flagged() per account, asked on every event and changed only by a new flag
        # or a new link: each of those empties it.
        self._linked: dict[str, int] = {}

    def observe(self, event: Event) -> None:
        account = event.account_id
        if account is None or event.type not in OBSERVED_TYPES:
            return
        data = event.data
        for name, kind in LINK_FIELDS:
            value = data.get(name)
            if value is None:
                continue
            entity = (kind, value)
            accounts = self._accounts_of.setdefault(entity, set())
            if len(accounts) < MAX_ACCOUNTS and account not in accounts:
                accounts.add(account)
                self._linked.clear()
            entities = self._entities_of.setdefault(account, set())
            if len(entities) < MAX_ENTITIES and entity not in entities:
                entities.add(entity)
                self._linked.clear()

    def flag(self, account: str) -> None:
        if account not in self._flagged:
            self._flagged.add(account)
            self._linked.clear()

    def linked_flagged(self, account: str | None) -> int:
        """How many other flagged accounts share a device or card with this one."""
        if account is None or not self._flagged:
            return 0
        known = self._linked.get(account)
        if known is not None:
            return known
        found: set[str] = set()
        for entity in self._entities_of.get(account, ()):
            for other in self._accounts_of.get(entity, ()):
                if other != account and other in self._flagged:
                    found.add(other)
        self._linked[account] = len(found)
        return len(found)
