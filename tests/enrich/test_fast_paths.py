"""Every enrichment fast path gives its reference's answer, event by event, on the simulator's
traffic: destinations by 10,000-block, senders through the destination caches, look-alike
brands by index, address fields by domain, delivery fields by value."""

from __future__ import annotations

from typing import Any

import pytest

from abusedesk import enrich as enrich_pkg
from abusedesk.enrich import Enricher
from abusedesk.enrich.delivery import delivery_fields
from abusedesk.enrich.email import recipient_fields, sender_fields
from abusedesk.events.schema import Event

from .conftest import unvalidated
from .reference import (
    ReferenceEnricher,
    delivery_fields_uncached,
    recipient_fields_reference,
    reference_paths,
    sender_fields_reference,
)


def test_enrichment_equals_the_reference_on_simulated_traffic(
    sim_traffic: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    with reference_paths(monkeypatch) as reference:
        expected = [reference.enrich(event) for event in sim_traffic]
    fast = Enricher()
    got = [fast.enrich(event) for event in sim_traffic]
    enrich_pkg.cache_clear()
    differences = [
        (event.type, event.data, mine, theirs)
        for event, mine, theirs in zip(sim_traffic, got, expected, strict=True)
        if mine != theirs or list(mine) != list(theirs)  # the same fields, in the same order
    ]
    assert differences == []
    assert fast.failures == reference.failures == 0
    # The traffic exercises what it is meant to: numbers shared by block, look-alike hosts.
    assert len(fast._blocks) > 100
    assert sum("lookalike_brand" in fields for fields in got) > 50
    assert {event.type for event in sim_traffic} >= {"message", "call", "account", "delivery"}


ADDRESSES = [
    "jane@gmail.com",
    "JANE@GMAIL.COM",
    "Jane Doe <jane@Gmail.com>",
    '"Doe, Jane" <jane@mail.example.co.uk.>',
    "jane@gmail.com.",
    "<jane@yahoo.fr>",
    "jane@yahoo.co.jp",
    "a@b@c.example",
    "@gmail.com",
    "jane@",
    "jane@exa mple.com",
    "jane@-example.com",
    "jane@bücher.de",
    "jane@xn--bcher-kva.de",
    "<>",
    "<@>",
    "a <b> c@d.example",
    "",
    "x" * 300 + "@" + "y" * 300 + ".com",
]


@pytest.mark.parametrize("value", ADDRESSES)
def test_address_fields_by_domain(value: str) -> None:
    for _ in range(2):  # the second time from the caches
        assert sender_fields(value) == sender_fields_reference(value)
        assert recipient_fields(value) == recipient_fields_reference(value)


PLAIN_LOOKALIKES = [
    " jane@gmail.com",
    "  @gmail.com",
    "@gmail.com",
    "jane@gmail.com ",
    "jane@gmail.com.",
    "jane@GMAIL.com",
    "<a@yahoo.fr> jane@gmail.com",
    "a <b> c@gmail.com",
    "Jane <jane@gmail.com",
    "a@b@gmail.com",
    "\tjane@gmail.com",
    "jane@gmail.co",
]


@pytest.mark.parametrize("value", ADDRESSES + PLAIN_LOOKALIKES)
def test_a_message_to_an_address_at_a_domain_seen_before(value: str) -> None:
    """A plain address at a domain seen before takes the domain's fields without the caches
    (Enricher._known); addresses that only look plain must not."""
    fast = Enricher()
    fast.enrich(_message("someone@gmail.com"))
    fast.enrich(_message("someone@example.com"))
    assert "gmail.com" in fast._domains  # the shortcut is there to be taken
    for event in (_message(value), unvalidated("delivery", status="bounced", recipient=value)):
        expected = ReferenceEnricher().enrich(event)
        for _ in range(2):
            assert fast.enrich(event) == expected, value


def _message(to: str) -> Event:
    return unvalidated(
        "message", channel="email", direction="outbound", to=to, **{"from": "a@x.io"}
    )


DELIVERIES: list[tuple[Any, Any, Any]] = [
    ("delivered", None, None),
    ("undelivered", "30007", None),
    ("failed", "21614", None),
    ("bounced", "5.1.1", "permanent"),
    ("bounced", "4.7.28", "transient"),
    ("bounced", "smtp; 550 5.1.1 <jane@example.com>... User unknown", None),
    ("bounced", "smtp; 421 4.7.0 " + "x" * 600 + " 5.1.1", None),
    ("bounced", None, None),
    ("sent", "", ""),
    (None, None, None),
    (1, 30007, True),
    (["failed"], ["30007"], {"type": "permanent"}),
    ("failed", " 30007 ", None),
    ("undelivered", "99999", None),
]


@pytest.mark.parametrize(("status", "code", "bounce"), DELIVERIES)
def test_delivery_fields_by_value(status: Any, code: Any, bounce: Any) -> None:
    for _ in range(2):
        assert delivery_fields(status, code, bounce) == delivery_fields_uncached(
            status, code, bounce
        )
