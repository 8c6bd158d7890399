"""Linked accounts: accounts that share an entity with this one, up to two hops away.

Hop 1 shares an entity with the account itself; hop 2 shares one with a hop-1 account (and is
shown with the account it came through). Each link lists the shared values, strongest links
(most shared values) first. An entity used by more than `common` accounts (a carrier's NAT
address, a public mail domain) would link half the platform: it is listed as too common and
not followed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from abusedesk.errors import NotFoundError
from abusedesk.storage.db import Store
from abusedesk.storage.models import Account, AccountEntity, Entity

MAX_LINKED = 2000  # links held per search; beyond this the list says it was cut


def linked_accounts(store: Store, account_id: str, *, common: int) -> dict[str, Any]:
    """{account_id, linked: [...], too_common: [...], truncated}, the whole list; the API and
    CLI page through it."""
    with store.sessions() as session:
        if session.get(Account, account_id) is None:
            raise NotFoundError(f"no account {account_id!r} in the registry")
        usable, too_common = _shared_entities(session, [account_id], common)
        hop1 = _sharers(session, set(usable), exclude={account_id})
        seen = {account_id} | set(hop1)
        hop1_ids = sorted(hop1)[:MAX_LINKED]
        usable2, common2 = _shared_entities(session, hop1_ids, common) if hop1_ids else ({}, {})
        for entity in usable:
            usable2.pop(entity, None)
        for entity in too_common:
            common2.pop(entity, None)
        too_common |= common2
        holders = _sharers(session, set(usable2), exclude=set())
        via: dict[int, set[str]] = defaultdict(set)
        hop2: dict[str, set[int]] = defaultdict(set)
        for acc, entities in holders.items():
            for entity in entities:
                if acc in hop1:
                    via[entity].add(acc)
                elif acc not in seen:
                    hop2[acc].add(entity)
        names = _names(session, set(usable) | set(usable2) | set(too_common))
    linked: list[dict[str, Any]] = []
    for acc, shared in hop1.items():
        linked.append({"account_id": acc, "hops": 1, "via": None, "shared": _shown(shared, names)})
    for acc, shared in hop2.items():
        through = sorted({b for e in shared for b in via[e]})
        linked.append(
            {"account_id": acc, "hops": 2, "via": through[:5], "shared": _shown(shared, names)}
        )
    linked.sort(key=lambda r: (r["hops"], -len(r["shared"]), r["account_id"]))
    return {
        "account_id": account_id,
        "linked": linked[:MAX_LINKED],
        "truncated": len(linked) > MAX_LINKED,
        "too_common": sorted(
            (
                {"kind": names[e][0], "value": names[e][1], "accounts": n}
                for e, n in too_common.items()
            ),
            key=lambda r: (-int(r["accounts"]), str(r["value"])),
        ),
    }


def _shared_entities(
    session: Session, accounts: list[str], common: int
) -> tuple[dict[int, int], dict[int, int]]:
    """Entities of `accounts` that another account uses too: ({id: accounts} usable,
    {id: accounts} too common). One statement per chunk of accounts: an account with 50,000
    entities of its own (a sender pool) costs one indexed join, not 100 round trips."""
    usable: dict[int, int] = {}
    too_common: dict[int, int] = {}
    for start in range(0, len(accounts), 500):
        own = (
            select(AccountEntity.entity_id)
            .where(AccountEntity.account_id.in_(accounts[start : start + 500]))
            .distinct()
            .subquery()
        )
        counted = (
            select(AccountEntity.entity_id, func.count())
            .join(own, own.c.entity_id == AccountEntity.entity_id)
            .group_by(AccountEntity.entity_id)
            .having(func.count() > 1)
        )
        for entity, n in session.execute(counted):
            (too_common if n > common else usable)[entity] = n
    return usable, too_common


def _sharers(session: Session, entities: set[int], *, exclude: set[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    for chunk in _chunks(entities):
        for acc, entity in session.execute(
            select(AccountEntity.account_id, AccountEntity.entity_id).where(
                AccountEntity.entity_id.in_(chunk)
            )
        ):
            if acc not in exclude:
                out[acc].add(entity)
    return dict(out)


def _names(session: Session, entities: Iterable[int]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(set(entities)):
        for eid, kind, value in session.execute(
            select(Entity.id, Entity.kind, Entity.value).where(Entity.id.in_(chunk))
        ):
            out[eid] = (kind, value)
    return out


def _shown(shared: set[int], names: dict[int, tuple[str, str]]) -> list[dict[str, str]]:
    return sorted(
        ({"kind": names[e][0], "value": names[e][1]} for e in shared),
        key=lambda r: (r["kind"], r["value"]),
    )


def _chunks(values: set[int], size: int = 500) -> Iterable[list[int]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
