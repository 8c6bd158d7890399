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
        own = _entities_of(session, [account_id])
        usable, too_common = _split_common(session, {e for _a, e in own}, common)
        hop1 = _sharers(session, usable, exclude={account_id})
        seen = {account_id} | set(hop1)
        hop1_entities = _entities_of(session, list(hop1)[:MAX_LINKED])
        fresh = {e for _a, e in hop1_entities} - usable
        usable2, common2 = _split_common(session, fresh, common)
        too_common |= common2
        via: dict[int, set[str]] = defaultdict(set)
        for acc, entity in hop1_entities:
            if entity in usable2:
                via[entity].add(acc)
        hop2 = _sharers(session, usable2, exclude=seen)
        names = _names(session, usable | usable2 | too_common.keys())
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


def _entities_of(session: Session, accounts: list[str]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for start in range(0, len(accounts), 500):
        chunk = accounts[start : start + 500]
        out += [
            (a, e)
            for a, e in session.execute(
                select(AccountEntity.account_id, AccountEntity.entity_id).where(
                    AccountEntity.account_id.in_(chunk)
                )
            )
        ]
    return out


def _split_common(
    session: Session, entities: set[int], common: int
) -> tuple[set[int], dict[int, int]]:
    usable: set[int] = set()
    too_common: dict[int, int] = {}
    for chunk in _chunks(entities):
        for entity, n in session.execute(
            select(AccountEntity.entity_id, func.count())
            .where(AccountEntity.entity_id.in_(chunk))
            .group_by(AccountEntity.entity_id)
        ):
            if n > common:
                too_common[entity] = n
            else:
                usable.add(entity)
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
