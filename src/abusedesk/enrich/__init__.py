"""ENRICH: pure functions that add derived fields (country, prefix, domains, fingerprints) to events.

`enrich(event)` returns the fields of enrich.fields.ENRICHED_FIELDS that apply to the event
(absent = NULL). The detection engine calls it for every event, so it is built for throughput:
every parse is cached on its raw string (numbers, senders, hosts, bodies repeat), a number's
fields on its 10,000-block where every number of the block has them (number_blocks.py), a
body with its digits masked (body.py), and each event type does only its own work.
docs/enrichment.md describes every field.

    enricher = Enricher(load_risk_table(path))  # at start-up: loads every data file
    enricher.enrich(event)                      # per event: no I/O, never raises
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from phonenumbers import PhoneMetadata
from phonenumbers.tzdata import TIMEZONE_DATA

from abusedesk.enrich import body_cache, email, number_blocks, phone, urls
from abusedesk.enrich import time as clock
from abusedesk.enrich.body_cache import text_fields
from abusedesk.enrich.brand_index import default_brand_index
from abusedesk.enrich.content import default_content_rules
from abusedesk.enrich.delivery import delivery_fields
from abusedesk.enrich.email import (
    default_freemail,
    recipient_fields,
    sender_fields,
    shared_header_fields,
)
from abusedesk.enrich.fields import ENRICHED_FIELDS
from abusedesk.enrich.fingerprint import default_otp_keywords
from abusedesk.enrich.number_blocks import BLOCK_DIGITS, block_shares
from abusedesk.enrich.phone import CALLING_CODE_REGIONS, classify_e164, e164_digits, sender_kind
from abusedesk.enrich.risk_table import RiskTable, load_risk_table
from abusedesk.enrich.urls import default_shorteners, extractor, find_links, link_fields
from abusedesk.events.schema import Event
from abusedesk.logs import fields

__all__ = ["Enricher", "cache_clear", "default_enricher", "enrich", "load_risk_table", "warm_up"]

_Fields = dict[str, Any]
_QUIET_BEFORE = clock.QUIET_BEFORE
_QUIET_FROM = clock.QUIET_FROM
_HEADER_TYPES = (dict, list)  # a tuple constant: `dict | list` would build a union per call
_Handler = Callable[[dict[str, Any], datetime, _Fields], None]
_Destination = tuple[_Fields, ZoneInfo | None]
_NOT_A_NUMBER: Final[_Destination] = ({"to_valid": False}, None)
# Enrichment failures logged one by one, then one line every LOG_EVERY (see _log_failure).
LOG_FIRST: Final = 10
LOG_EVERY: Final = 1000
log = logging.getLogger("abusedesk.enrich")


def warm_up() -> None:
    """Load everything enrichment reads from disk, so that no event pays for it: phonenumbers
    metadata (imported lazily per region otherwise) and the rules and block proofs built from
    it, time zones, the suffix list, the lexicons."""
    PhoneMetadata.load_all()
    phone.compile_all()
    number_blocks.compile_all()
    for zones in TIMEZONE_DATA.values():
        for name in zones:
            clock.zone(name)
    clock.primary_time_zones()
    extractor()("example.com")
    default_shorteners()
    default_brand_index()
    default_freemail()
    default_content_rules()
    default_otp_keywords()


def cache_clear() -> None:
    """Empty the module-level parse caches (benchmarks and tests that measure cold paths)."""
    body_cache.cache_clear()
    clock.cache_clear()
    email.cache_clear()
    default_brand_index().cache_clear()
    for cached in (
        urls.parse_host,
        urls.host_lookalike,
        phone.parse_number,
    ):
        cached.cache_clear()


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:  # the schema never makes these; read as UTC rather than guess
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


class Enricher:
    """enrich() with its configuration (the risk table) and its caches."""

    def __init__(self, risk_table: RiskTable | None = None, *, cache_size: int = 65536) -> None:
        warm_up()
        self.risk_table = risk_table if risk_table is not None else load_risk_table()
        self.failures = 0  # events whose enrichment hit a bug (see enrich)
        self._destination = lru_cache(maxsize=cache_size)(self._destination_uncached)
        # Destination fields by 10,000-block (to_prefix), for blocks proven to share them.
        self._blocks: dict[str, _Destination] = {}
        self._blocks_size = cache_size
        # Destination fields of plain addresses ("local@domain") by domain (_plain_domain).
        self._domains: dict[str, _Destination] = {}
        self._sender = lru_cache(maxsize=cache_size)(self._sender_uncached)
        self._target = lru_cache(maxsize=cache_size)(self._target_uncached)
        self._handlers: dict[str, _Handler] = {
            "message": self._message,
            "delivery": self._delivery,
            "complaint": self._complaint,
            "opt_out": self._opt_out,
            "verification": self._verification,
            "call": self._call,
            "account": self._account,
            "report": self._report,
        }

    def cache_clear(self) -> None:
        """Empty this enricher's caches and the module-level ones."""
        self._destination.cache_clear()
        self._blocks.clear()
        self._domains.clear()
        self._sender.cache_clear()
        self._target.cache_clear()
        cache_clear()

    def enrich(self, event: Event) -> dict[str, Any]:
        """The enrichment fields of one event. Never raises: enrichment is an annotation, and a
        bug on one odd event must not stop the detection pipeline; such events get hour_utc
        only (when their timestamp is usable) and are counted in `failures`."""
        out: _Fields = {}
        self.enrich_into(event, out)
        return out

    def enrich_into(self, event: Event, out: dict[str, Any]) -> None:
        """enrich(), written straight into `out` (the detection engine's row, which holds the
        event's own fields: no enrichment field has the name of one, see fields.py). On a
        failure the keys it added are taken out again and enrichment fields the row already
        held (as None: the engine's rows hold every name its rules read) are None again,
        leaving hour_utc as enrich() would."""
        ts = event.ts
        size = len(out)
        try:
            if ts.tzinfo is not UTC:
                ts = _utc(ts)
            out["hour_utc"] = ts.hour
            handler = self._handlers.get(event.type)
            if handler is not None:
                handler(event.data, ts, out)
        except Exception as exc:  # see the docstring: degrade, count, log, go on
            self.failures += 1
            _log_failure(self.failures, event, exc)
            for key in list(out)[size:]:
                del out[key]
            for key in ENRICHED_FIELDS:
                if key in out:
                    out[key] = None
            if isinstance(ts, datetime):
                out["hour_utc"] = ts.hour

    __call__ = enrich

    # --- cached parses, by raw string -----------------------------------------------------

    def _destination_uncached(self, raw: str) -> _Destination:
        """to_* fields of a destination (number or address) and its time zone. Shared: do
        not mutate."""
        if "@" in raw:
            result = recipient_fields(raw), None
            domain = _plain_domain(raw)
            if domain is not None:
                if len(self._domains) >= self._blocks_size:
                    self._domains.clear()  # bounded; hostile traffic sprays domains
                self._domains[domain] = result
            return result
        digits = e164_digits(raw)
        if digits is None:
            return _NOT_A_NUMBER
        # Most first-seen numbers lie in a block seen before: to_prefix is the block, and
        # the other fields are the block's where number_blocks proves it (see _number).
        shared = self._blocks.get(digits[:-BLOCK_DIGITS])
        return shared if shared is not None else self._number(digits)

    def _number(self, digits: str) -> _Destination:
        """to_* fields and time zone of "+digits", remembered for its block when every number
        of the block has them: the same classification (number_blocks), and no risk-table
        row or time-zone prefix that reaches into the last 4 digits. to_prefix is the block
        itself, so then the whole result is the block's."""
        info = classify_e164(digits)
        fields: _Fields = {"to_valid": info.valid, "to_type": info.number_type}
        if info.country is not None:
            fields["to_country"] = info.country
        prefix = info.prefix
        if prefix is not None:
            fields["to_prefix"] = prefix
        fields["to_cost_tier"] = self.risk_table.tier(info.digits, info.country, info.number_type)
        name = clock.zone_name(info)
        result = fields, clock.zone(name) if name else None
        block = digits[:-BLOCK_DIGITS]
        if (
            block
            and info.digits == digits  # not repaired by phonenumbers.parse
            and self.risk_table.decided_by(block)
            and clock.zone_decided_by(block)
            and block_shares(info, CALLING_CODE_REGIONS.get(info.calling_code or 0, ()))
        ):
            if len(self._blocks) >= self._blocks_size:
                self._blocks.clear()  # bounded; hostile traffic sprays blocks
            self._blocks[block] = result
        return result

    def _sender_uncached(self, raw: str) -> _Fields:
        kind = sender_kind(raw)
        if kind == "email":
            return sender_fields(raw)
        if kind == "e164":
            # classify_number(raw).country, through the destination caches: a sending number
            # is often a destination too, and its block is shared with its neighbours.
            country = self._destination(raw)[0].get("to_country")
            return (
                {"from_kind": kind}
                if country is None
                else {"from_kind": kind, "from_country": country}
            )
        return {} if kind is None else {"from_kind": kind}

    def _target_uncached(self, raw: str) -> _Fields:
        """A report target or an account website: number, address, URL or bare domain."""
        text = raw.strip()[:2048]
        if not text:
            return {}
        if "@" in text and "/" not in text:
            return sender_fields(text)
        kind = sender_kind(text)
        if kind in ("e164", "short_code"):
            return self._sender(text)
        if "." not in text:
            return {} if kind is None else {"from_kind": kind}
        # A target names one place; read it as a link even without a scheme.
        candidate = text if "://" in text else f"http://{text}"
        shorteners = default_shorteners()
        links = find_links(candidate, shorteners)[:1]
        return dict(link_fields(links, shorteners)) if links else {}

    # --- per type -------------------------------------------------------------------------

    def _known(self, raw: str) -> _Destination | None:
        """What _destination returns for `raw`, when it needs neither the LRU (most
        destinations are seen once) nor parsing: a canonical E.164 number of a block proven
        to share its fields, or a plain address at a domain seen before (_plain_domain)."""
        if raw[:1] == "+":
            digits = raw[1:]
            if digits.isdigit() and digits.isascii() and len(digits) <= 17:
                return self._blocks.get(digits[:-BLOCK_DIGITS])
            return None
        domain = _plain_domain(raw)
        return None if domain is None else self._domains.get(domain)

    def _to(self, raw: Any, ts: datetime, out: _Fields, local_time: bool) -> None:
        if type(raw) is not str:
            return
        fields, zone = self._known(raw) or self._destination(raw)
        out.update(fields)
        if local_time and zone is not None:
            hour = ts.astimezone(zone).hour
            out["local_hour"] = hour
            out["is_quiet_hours"] = hour < _QUIET_BEFORE or hour >= _QUIET_FROM

    def _recipient(self, raw: Any, out: _Fields) -> None:
        """A delivery/complaint recipient: to_* only when it is a number or an address."""
        if type(raw) is not str:
            return
        shared = self._known(raw)
        if shared is not None:
            out.update(shared[0])
            out["counterparty"] = raw
            return
        if "@" in raw or e164_digits(raw) is not None:
            out.update(self._destination(raw)[0])
            out["counterparty"] = raw

    def _message(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        # The hot path: most events are messages. Written for CPython's interpreter (bound
        # lookups, no helper calls): each removed operation is a few percent of the budget.
        get = data.get
        to = get("to")
        if to.__class__ is str:
            fields, zone = self._known(to) or self._destination(to)
            out.update(fields)
            if zone is not None:
                hour = ts.astimezone(zone).hour
                out["local_hour"] = hour
                out["is_quiet_hours"] = hour < _QUIET_BEFORE or hour >= _QUIET_FROM
        sender = get("from")
        if sender.__class__ is str:
            out.update(self._sender(sender))
        party = sender if get("direction") == "inbound" else to
        if party.__class__ is str:
            out["counterparty"] = party
        text = get("body")
        if text.__class__ is not str:
            text = ""
        subject = get("subject")
        if subject and subject.__class__ is str:
            text = f"{subject}\n{text}"
        if text:
            fields = text_fields(text)
            out.update(fields)
            out["url_domains"] = list(fields["url_domains"])
        headers = get("headers")
        if headers and isinstance(headers, _HEADER_TYPES):
            out.update(shared_header_fields(headers))

    def _delivery(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        out.update(
            delivery_fields(data.get("status"), data.get("error_code"), data.get("bounce_type"))
        )
        self._recipient(data.get("recipient"), out)

    def _complaint(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        self._recipient(data.get("recipient"), out)

    def _opt_out(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        self._to(data.get("recipient"), ts, out, False)
        _party(data.get("recipient"), out)
        sender = data.get("sender")
        if type(sender) is str:
            out.update(self._sender(sender))

    def _verification(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        self._to(data.get("to"), ts, out, True)
        _party(data.get("to"), out)

    def _call(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        self._to(data.get("to"), ts, out, True)
        _party(data.get("to"), out)
        sender = data.get("from")
        if type(sender) is str:
            out.update(self._sender(sender))

    def _account(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        """The account holder's email as from_* (the address the account will send as, and
        the one vetting looks at), and the declared website as link fields."""
        address = data.get("email")
        if type(address) is str:
            out.update(sender_fields(address))
        website = data.get("website")
        if type(website) is str:
            self._links_of(self._target(website), out)

    def _report(self, data: dict[str, Any], ts: datetime, out: _Fields) -> None:
        target = data.get("target")
        if type(target) is str:
            self._links_of(self._target(target), out)

    @staticmethod
    def _links_of(fields: _Fields, out: _Fields) -> None:
        out.update(fields)
        domains = fields.get("url_domains")
        if domains is not None:
            out["url_domains"] = list(domains)


def _log_failure(count: int, event: Event, exc: Exception) -> None:
    """One line for each of the first failures, then one every LOG_EVERY with the count: a bug
    that hits every event of a kind must not flood the log. The line names the event and the
    exception's type, not the event's content."""
    if count <= LOG_FIRST or count % LOG_EVERY == 0:
        log.warning(
            "enrich.failed",
            extra=fields(
                event_id=event.id, type=event.type, error=type(exc).__name__, failures=count
            ),
        )


def failure_count() -> int:
    """Events the process-wide enricher failed on so far (0 if it was never built; asking
    does not build it)."""
    return default_enricher().failures if default_enricher.cache_info().currsize else 0


@cache
def default_enricher() -> Enricher:
    """The process-wide Enricher with the shipped risk table (built on first use)."""
    return Enricher()


def enrich(event: Event) -> dict[str, Any]:
    """Enrichment fields of one event, with the shipped tables (see Enricher)."""
    return default_enricher().enrich(event)


def _plain_domain(address: str) -> str | None:
    """The text after the last "@" of an address without "<" (an angle address would be
    searched for), leading whitespace (stripping could leave the local part empty) or an
    empty local part: recipient_fields of such an address depends on that text alone (it
    strips, lower-cases and checks it), so every such address with the same text after its
    last "@" has the same fields."""
    at = address.rfind("@")
    if at <= 0 or "<" in address or address[0].isspace():
        return None
    return address[at + 1 :]


def _party(value: Any, out: _Fields) -> None:
    if type(value) is str:
        out["counterparty"] = value
