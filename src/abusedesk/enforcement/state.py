"""The account's state, derived from its active actions, and the restriction index that lets
the decision API honour actions without touching the database.

`account_state` is the one definition of "what state is this account in". `RestrictionIndex` is
the fast form: active restricting actions keyed by account (and blocked entities by value),
answered with a dict lookup per event. `RestrictionCache` rebuilds it in a thread every
ABUSEDESK_ENFORCEMENT_CACHE_S and at once when this process writes an action, so the request
path never waits on the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from abusedesk.clock import Clock
from abusedesk.enforcement.kinds import BLOCKING
from abusedesk.enrich.phone import classify_number
from abusedesk.storage.db import Store
from abusedesk.storage.models import Action

log = logging.getLogger("abusedesk.enforcement")

# Strongest first: the state an account shows is that of its strongest active action.
STATE_ORDER = (
    ("terminate", "terminated"),
    ("suspend", "suspended"),
    ("pause", "paused"),
    ("throttle", "throttled"),
    ("require_verification", "verification_required"),
)
_RANK = {kind: i for i, (kind, _) in enumerate(STATE_ORDER)}


@dataclass(frozen=True, slots=True)
class Restriction:
    action_id: int
    account_id: str
    kind: str
    scope: str
    target: str | None
    policy: str | None
    rate_per_min: float | None
    expires_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "kind": self.kind,
            "scope": self.scope,
            "target": self.target,
            "policy": self.policy,
            "rate_per_min": self.rate_per_min,
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
        }


def account_state(restrictions: Iterable[Restriction], now: datetime) -> str:
    """active, or the state of the strongest account-wide action in force."""
    best: int | None = None
    for r in restrictions:
        if r.scope != "account" or r.kind not in _RANK or _expired(r, now):
            continue
        rank = _RANK[r.kind]
        best = rank if best is None else min(best, rank)
    return "active" if best is None else STATE_ORDER[best][1]


def _expired(r: Restriction, now: datetime) -> bool:
    return r.expires_at is not None and r.expires_at <= now


@dataclass
class RestrictionIndex:
    by_account: dict[str, list[Restriction]] = field(default_factory=dict)
    blocked: dict[tuple[str, str], Restriction] = field(default_factory=dict)

    @classmethod
    def build(cls, restrictions: Iterable[Restriction]) -> RestrictionIndex:
        index = cls()
        for r in restrictions:
            if r.kind == "block" and r.target:
                index.blocked[(r.scope, r.target.lower())] = r
            else:
                index.by_account.setdefault(r.account_id, []).append(r)
        return index

    def status(self, account_id: str, now: datetime) -> dict[str, Any]:
        active = [r for r in self.by_account.get(account_id, ()) if not _expired(r, now)]
        return {
            "account_id": account_id,
            "state": account_state(active, now),
            "actions": [r.to_json() for r in active],
        }

    def check(
        self, account_id: str | None, data: dict[str, Any], now: datetime
    ) -> Restriction | None:
        """The restriction an event in `data` runs into: a block before a throttle."""
        hits: list[Restriction] = []
        if self.blocked:
            hits.extend(self._blocked_entities(data, now))
        mine = [
            r
            for r in self.by_account.get(account_id or "", ())
            if r.kind not in ("warn", "require_verification") and not _expired(r, now)
        ]
        # An account-wide block settles it: skip the scoped checks (a country scope classifies
        # the destination number, tens of microseconds).
        whole = [r for r in mine if r.scope == "account" and r.kind in BLOCKING]
        if whole:
            return min(whole, key=lambda r: _RANK.get(r.kind, len(_RANK)))
        hits.extend(r for r in mine if _in_scope(r, data))
        if not hits:
            return None
        blocking = [r for r in hits if r.kind in BLOCKING]
        if blocking:
            return min(blocking, key=lambda r: _RANK.get(r.kind, len(_RANK)))
        return min(hits, key=lambda r: r.rate_per_min or 0.0)

    def _blocked_entities(self, data: dict[str, Any], now: datetime) -> list[Restriction]:
        found = []
        sender = str(data.get("from") or "").lower()
        candidates = [
            ("number", sender),
            ("ip", str(data.get("sender_ip") or data.get("ip") or "")),
        ]
        if "@" in sender:
            candidates.append(("domain", sender.rsplit("@", 1)[1]))
        for key in candidates:
            r = self.blocked.get(key)
            if r is not None and not _expired(r, now):
                found.append(r)
        body = str(data.get("body") or "").lower()
        if body:
            for (scope, value), r in self.blocked.items():
                if scope in ("url", "domain") and value in body and not _expired(r, now):
                    found.append(r)
        return found

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_account.values()) + len(self.blocked)


def _in_scope(r: Restriction, data: dict[str, Any]) -> bool:
    if r.scope == "account":
        return True
    target = (r.target or "").lower()
    if r.scope == "sender":
        return str(data.get("from") or data.get("sender") or "").lower() == target
    if r.scope == "domain":
        sender = str(data.get("from") or "").lower()
        return sender.rsplit("@", 1)[-1] == target if "@" in sender else False
    if r.scope == "campaign":
        return str(data.get("campaign_id") or "").lower() == target
    if r.scope == "country":
        to = data.get("to")
        return bool(to) and (classify_number(str(to)).country or "").lower() == target
    return False


def load_restrictions(store: Store) -> list[Restriction]:
    """Every action in force (one indexed query on status)."""
    with store.sessions() as session:
        rows = session.execute(
            select(
                Action.id,
                Action.account_id,
                Action.kind,
                Action.scope,
                Action.target,
                Action.policy,
                Action.rate_per_min,
                Action.expires_at,
            ).where(Action.status == "active")
        ).all()
    return [Restriction(*row) for row in rows]


def account_status(store: Store, clock: Clock, account_id: str) -> dict[str, Any]:
    """The account's status straight from the store (the CLI; the API reads the cache)."""
    with store.sessions() as session:
        rows = session.execute(
            select(
                Action.id,
                Action.account_id,
                Action.kind,
                Action.scope,
                Action.target,
                Action.policy,
                Action.rate_per_min,
                Action.expires_at,
            ).where(Action.status == "active", Action.account_id == account_id)
        ).all()
    return RestrictionIndex.build(Restriction(*r) for r in rows).status(account_id, clock.now())


class RestrictionCache:
    """The current RestrictionIndex, rebuilt in a background thread between `start()` and
    `close()` (the API's lifespan), so an app that never serves starts no thread."""

    def __init__(self, store: Store, *, every_s: float) -> None:
        self.store = store
        self.every_s = every_s
        self.index = RestrictionIndex.build(load_restrictions(store))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="restrictions", daemon=True)

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def invalidate(self) -> None:
        """Rebuild now, in the caller's thread: a write through this server shows at once."""
        self.refresh()

    def refresh(self) -> None:
        try:
            self.index = RestrictionIndex.build(load_restrictions(self.store))
        except Exception:  # a failed reload keeps the last index; the log has why
            log.exception("reloading restrictions failed")

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.refresh()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


# Rule verdicts a throttle does not soften: a rule that blocks or holds still does.
_STRICTER_THAN_THROTTLE = frozenset({"block", "hold"})


def honour(answer: dict[str, Any], restriction: Restriction | None) -> dict[str, Any]:
    """A decision answer with the action in force applied: block for a blocking action in
    scope, throttle (with the rate) unless a rule already blocks or holds."""
    if restriction is None:
        return answer
    answer["enforcement"] = restriction.to_json()
    if restriction.kind in BLOCKING:
        answer["decision"] = "block"
    elif answer.get("decision") not in _STRICTER_THAN_THROTTLE:
        answer["decision"] = "throttle"
        answer["rate_per_min"] = restriction.rate_per_min
    return answer
