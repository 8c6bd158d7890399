"""The enrichment paths as they were before their fast versions, kept to test against.

Each fast path must give exactly these answers: the destination fields of a number classified
on its own (not through its 10,000-block), the sender country from classify_number, the
look-alike brand from every token on every reading (lookalike.lookalike_brand_reference),
e164_digits without its canonical-form shortcut, address fields from the address (not cached
by domain), delivery fields computed for each event (not cached by value).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from abusedesk import enrich as enrich_pkg
from abusedesk.enrich import Enricher, urls
from abusedesk.enrich import time as clock
from abusedesk.enrich.delivery import _fields as delivery_fields_uncached
from abusedesk.enrich.email import address_domain, default_freemail
from abusedesk.enrich.lookalike import default_brands, lookalike_brand_reference
from abusedesk.enrich.phone import _SCHEMES, _SEPARATORS, classify_number, sender_kind


def e164_digits_reference(raw: str) -> str | None:
    text = raw.strip()
    lowered = text[:9].lower()
    for scheme in _SCHEMES:
        if lowered.startswith(scheme):
            text = text[len(scheme) :].strip()
            break
    if not text.startswith("+"):
        return None
    digits = text[1:]
    if not digits.isdigit():
        digits = digits.translate(_SEPARATORS)
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 17 or digits[0] == "0":
        return None
    return digits


def sender_fields_reference(value: str) -> dict[str, Any]:
    domain = address_domain(value)
    if domain is None:
        return {"from_kind": "email"}
    return {
        "from_kind": "email",
        "from_domain": domain,
        "from_registered_domain": urls.parse_host(domain).registered,
        "from_freemail": domain in default_freemail(),
    }


def recipient_fields_reference(value: str) -> dict[str, Any]:
    domain = address_domain(value)
    if domain is None:
        return {}
    return {"to_domain": domain, "to_freemail": domain in default_freemail()}


def destination_reference(enricher: Enricher, raw: str) -> tuple[dict[str, Any], ZoneInfo | None]:
    """to_* fields and time zone of one destination, classified on its own."""
    if "@" in raw:
        return recipient_fields_reference(raw), None
    info = classify_number(raw)
    if not info.e164:
        return {"to_valid": False}, None
    fields: dict[str, Any] = {"to_valid": info.valid, "to_type": info.number_type}
    if info.country is not None:
        fields["to_country"] = info.country
    prefix = info.prefix
    if prefix is not None:
        fields["to_prefix"] = prefix
    fields["to_cost_tier"] = enricher.risk_table.tier(info.digits, info.country, info.number_type)
    name = clock.zone_name(info)
    return fields, clock.zone(name) if name else None


class ReferenceEnricher(Enricher):
    """Enricher with every number classified on its own and senders by classify_number."""

    def _destination_uncached(self, raw: str) -> tuple[dict[str, Any], ZoneInfo | None]:
        return destination_reference(self, raw)

    def _sender_uncached(self, raw: str) -> dict[str, Any]:
        kind = sender_kind(raw)
        if kind == "email":
            return sender_fields_reference(raw)
        if kind == "e164":
            country = classify_number(raw).country
            return (
                {"from_kind": kind}
                if country is None
                else {"from_kind": kind, "from_country": country}
            )
        return {} if kind is None else {"from_kind": kind}


@lru_cache(maxsize=65536)  # as urls.host_lookalike: cache_clear() expects one
def host_lookalike_reference(host: str) -> str | None:
    parts = urls.parse_host(host)
    return lookalike_brand_reference(parts.subdomain, parts.domain, parts.suffix, default_brands())


@contextmanager
def reference_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReferenceEnricher]:
    """A ReferenceEnricher, with every path above in place of its fast version, from empty
    caches (the module caches hold results of the fast paths otherwise)."""
    enrich_pkg.cache_clear()
    with monkeypatch.context() as patched:
        patched.setattr(urls, "host_lookalike", host_lookalike_reference)
        patched.setattr(enrich_pkg, "sender_fields", sender_fields_reference)
        patched.setattr(enrich_pkg, "recipient_fields", recipient_fields_reference)
        patched.setattr(enrich_pkg, "delivery_fields", delivery_fields_uncached)
        yield ReferenceEnricher()
        enrich_pkg.cache_clear()
