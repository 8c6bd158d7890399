"""Linked accounts (two hops, shared values shown, common entities skipped) and entity pivots."""

from __future__ import annotations

import pytest

from abusedesk.errors import InputError
from abusedesk.investigate.linked import linked_accounts
from abusedesk.investigate.pivot import entity_pivot
from abusedesk.workspace import Workspace

from .conftest import SENDER, A, B, C, E


def test_two_hops_with_the_shared_values(world: Workspace) -> None:
    result = linked_accounts(world.store, A, common=2)
    by_account = {r["account_id"]: r for r in result["linked"]}
    assert set(by_account) == {B, C}
    assert by_account[B]["hops"] == 1
    assert by_account[B]["shared"] == [{"kind": "device", "value": "dev-1"}]
    assert by_account[C]["hops"] == 2
    assert by_account[C]["via"] == [B]
    assert by_account[C]["shared"] == [{"kind": "payment", "value": "pay-2"}]
    # The IP three accounts share is too common (limit 2) to link A with E and F.
    assert result["too_common"] == [{"kind": "ip", "value": "203.0.113.9", "accounts": 3}]


def test_a_looser_limit_follows_the_common_entity(world: Workspace) -> None:
    result = linked_accounts(world.store, A, common=3)
    hop1 = {r["account_id"] for r in result["linked"] if r["hops"] == 1}
    assert E in hop1
    assert result["too_common"] == []


def test_pivot_on_a_sender_number(world: Workspace) -> None:
    lake = world.account_lake()
    result = entity_pivot(world.store, lake, "number", SENDER, days=30, sample=5)
    assert [a["account_id"] for a in result["accounts"]] == [A]
    assert len(result["messages"]) == 5
    assert all(m["from"] == SENDER for m in result["messages"])
    assert [r["report_id"] for r in result["reports"]] == ["rep-1"]
    assert result["reports"][0]["account_id"] == A


def test_pivot_on_a_url_finds_its_domain_and_the_messages_carrying_it(world: Workspace) -> None:
    url = "http://parcel-fee.example/p/1"
    lake = world.account_lake()
    result = entity_pivot(world.store, lake, "url", url, days=30, sample=50)
    assert result["kind"] == "domain"
    assert result["value"] == "parcel-fee.example"
    assert [a["account_id"] for a in result["accounts"]] == [A]
    assert len(result["messages"]) == 10


def test_pivot_on_device_and_ip_pages_through_accounts(world: Workspace) -> None:
    lake = world.account_lake()
    device = entity_pivot(world.store, lake, "device", "dev-1", days=30, sample=5)
    first = entity_pivot(world.store, lake, "ip", "203.0.113.9", days=30, sample=0, limit=2)
    rest = entity_pivot(
        world.store, lake, "ip", "203.0.113.9", days=30, sample=0, limit=2,
        after=first["next_after"],
    )  # fmt: skip
    assert [a["account_id"] for a in device["accounts"]] == [A, B]
    assert device["messages"] == []
    assert first["accounts_total"] == 3
    assert [a["account_id"] for a in first["accounts"] + rest["accounts"]] == [A, "ACe", "ACf"]
    assert rest["next_after"] is None


def test_unknown_values_and_kinds(world: Workspace) -> None:
    lake = world.account_lake()
    nothing = entity_pivot(world.store, lake, "ip", "192.0.2.200", days=30, sample=5)
    assert nothing["entity"] is None
    assert nothing["accounts"] == []
    with pytest.raises(InputError, match="unknown entity kind"):
        entity_pivot(world.store, lake, "planet", "mars", days=30, sample=5)
    assert C
