"""Related accounts: shared devices and cards link accounts, and an account linked to a flagged
one says how many. The answer is cached per account; every new flag or link must show."""

from __future__ import annotations

from datetime import UTC, datetime

from abusedesk.detection.links import MAX_ACCOUNTS, LinkState
from abusedesk.events.schema import Event

TS = datetime(2026, 3, 1, tzinfo=UTC)


def signup(account: str, **data: str) -> Event:
    return Event(f"e-{account}-{len(data)}", "account", TS, account, {"action": "signup", **data})


def test_shared_device_or_card_links_accounts_to_flagged_ones() -> None:
    links = LinkState()
    links.observe(signup("A", device_id="d1", ip="203.0.113.1"))
    links.observe(signup("B", device_id="d1"))
    links.observe(signup("C", payment_fingerprint="card9", ip="203.0.113.1"))
    assert links.linked_flagged("B") == 0  # nothing flagged yet
    links.flag("A")
    assert links.linked_flagged("B") == 1
    assert links.linked_flagged("A") == 0  # an account is not linked to itself
    assert links.linked_flagged("C") == 0  # a shared IP is no link
    # A new link after the answer was cached: C takes B's device; B is then flagged too.
    links.observe(signup("C", device_id="d1"))
    assert links.linked_flagged("C") == 1
    links.flag("B")
    assert links.linked_flagged("C") == 2
    links.flag("B")  # again: nothing changes
    assert links.linked_flagged("C") == 2
    assert links.linked_flagged(None) == 0
    assert links.linked_flagged("unknown") == 0


def test_accounts_beyond_the_cap_of_an_entity_are_not_remembered_on_it() -> None:
    links = LinkState()
    for i in range(MAX_ACCOUNTS + 10):
        links.observe(signup(f"A{i}", payment_fingerprint="test-card"))
    links.flag(f"A{MAX_ACCOUNTS + 5}")  # past the cap: the card does not list it
    assert links.linked_flagged("A1") == 0
    links.flag("A0")
    assert links.linked_flagged("A1") == 1
