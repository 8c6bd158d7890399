"""The adapter loop: input streams -> batches of events, with bad items quarantined.

`BatchReader` reads one stream after another through its adapter, validates each object
against the event contract and collects events in a pending batch; every `batch_size` items it
calls `flush()`, which the pipeline implements (pipeline/ingest.py: de-duplicate, write the
lake and the registry, hand the batch on). Canonical JSON Lines take a fast path that skips the
adapter's per-line objects (docs/adr/0003); everything else goes through `Adapter.parse`.

Records that name no account but carry a `fallback` (complaints whose account is found from
the message they complain about) wait in `Pending.unresolved` for the flush to place them.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import orjson

from abusedesk.events import jsontext
from abusedesk.events.adapters.base import Adapter, Limits, Location, Record, Rejected, excerpt
from abusedesk.events.adapters.jsonl import JsonlAdapter, iter_line_batches
from abusedesk.events.decode import decode_line
from abusedesk.events.schema import Event, EventInvalid, validate_event
from abusedesk.events.summary import SAMPLE_SIZE, IngestSummary, ItemResult, QuarantinedItem

log = logging.getLogger("abusedesk.events.reading")

# Rejected records are written in batches of at most this many, whatever the event batch size:
# a file of nothing but bad lines must not pile them up in memory.
QUARANTINE_BATCH = 5_000


@dataclass
class Pending:
    """What a batch holds until it is flushed."""

    events: list[Event] = field(default_factory=list)
    unresolved: list[Record] = field(default_factory=list)
    quarantine: list[QuarantinedItem] = field(default_factory=list)
    # Index into summary.results for each pending event / unresolved record (API mode only).
    event_slots: list[int] = field(default_factory=list)
    unresolved_slots: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events) + len(self.unresolved)


class BatchReader(ABC):
    """Counters and the pending batch of one run; subclasses say what `flush()` does."""

    def __init__(
        self,
        summary: IngestSummary,
        *,
        limits: Limits,
        batch_size: int,
        now: datetime | None = None,
    ) -> None:
        self.summary = summary
        self.limits = limits
        self.batch_size = batch_size
        self.pending = Pending()
        now = now or datetime.now(UTC)
        # The event-time window: an event outside it is quarantined (docs/events.md).
        self.earliest = now - timedelta(days=limits.max_past_days)
        self.latest = now + timedelta(seconds=limits.max_future_s)

    def out_of_window(self, event: Event) -> str | None:
        """Why the event's time is refused, or None when it is within the window."""
        ts = event.ts
        if ts > self.latest:
            return (
                f"field 'ts' is more than {self.limits.max_future_s} s ahead of the ingest clock"
                " (ABUSEDESK_INGEST_MAX_FUTURE_S)"
            )
        if ts < self.earliest:
            return (
                f"field 'ts' is more than {self.limits.max_past_days} days before the ingest"
                " clock (ABUSEDESK_INGEST_MAX_PAST_DAYS)"
            )
        return None

    def fault(
        self, where: Location, exc: Exception, text_excerpt: str, *, slot: int | None = None
    ) -> None:
        """The defensive boundary: an unexpected error on one record quarantines that record
        (and is logged as the defect it is), never the run."""
        log.error(
            "ingest.record_failed",
            extra={"where": str(where), "error": type(exc).__name__},
            exc_info=exc,
        )
        reason = f"could not be processed ({type(exc).__name__})"
        self.reject(where, reason, text_excerpt, slot=slot)

    @abstractmethod
    def flush(self) -> None:
        """Take the pending batch (and leave an empty one in `self.pending`)."""

    @abstractmethod
    def flush_quarantine(self) -> None:
        """Store the pending rejected records alone (and empty `self.pending.quarantine`)."""

    def consume_stream(self, adapter: Adapter, stream: BinaryIO, source: str) -> None:
        if type(adapter) is JsonlAdapter and self.summary.results is None:
            self._consume_jsonl(stream, source)
        else:
            self.consume(adapter, adapter.parse(stream, source, self.limits))

    def _consume_jsonl(self, stream: BinaryIO, source: str) -> None:
        """The hot path: canonical lines straight to events, with no per-line wrapper objects
        (the general path's Record/Location pair costs about a tenth of the per-event budget)."""
        summary = self.summary
        pending = self.pending
        events = pending.events
        batch_size = self.batch_size
        loads = jsontext.loads
        decode_error = orjson.JSONDecodeError
        validate = validate_event
        decode = decode_line
        limit = self.limits.max_line_bytes
        earliest, latest = self.earliest, self.latest
        read = summary.read  # kept locally, written back before each flush and at the end
        for first, lines in iter_line_batches(stream, limit):
            number = first - 1
            for line in lines:
                number += 1
                read += 1
                if line is None:
                    self.reject(
                        Location(source, number),
                        f"line is longer than {limit} bytes (ABUSEDESK_MAX_LINE_BYTES)",
                        "",
                    )
                    continue
                if not line or line.isspace():  # a blank line is no event, and no error
                    read -= 1
                    continue
                try:
                    event = decode(line)
                    if event is None:
                        # The decoder declined: the reference validator accepts, or says why.
                        obj = loads(line)
                        if type(obj) is not dict:
                            raise EventInvalid("a line must hold one JSON object")
                        event = validate(obj)
                    ts = event.ts
                    if ts > latest or ts < earliest:
                        raise EventInvalid(self.out_of_window(event) or "")
                except decode_error as exc:
                    self.reject(Location(source, number), f"not valid JSON: {exc}", excerpt(line))
                    continue
                except EventInvalid as exc:
                    self.reject(Location(source, number), str(exc), excerpt(line))
                    continue
                except Exception as exc:  # one record never stops the run
                    self.fault(Location(source, number), exc, excerpt(line))
                    continue
                events.append(event)
                if len(events) >= batch_size:
                    summary.read = read
                    self.flush()
                    pending = self.pending
                    events = pending.events
        summary.read = read

    def consume(self, adapter: Adapter | None, items: Iterable[Record | Rejected]) -> None:
        summary = self.summary
        pending = self.pending
        results = summary.results
        batch_size = self.batch_size
        for item in items:
            summary.read += 1
            if type(item) is Record:
                raw = item.raw
                if item.fallback is not None and raw.get("account_id") is None:
                    pending.unresolved.append(item)
                    if results is not None:
                        pending.unresolved_slots.append(len(results))
                        results.append(ItemResult(item.where, "accepted"))
                else:
                    try:
                        event = validate_event(raw)
                        if (late := self.out_of_window(event)) is not None:
                            raise EventInvalid(late)
                    except EventInvalid as exc:
                        self.reject(item.where, str(exc), excerpt_obj(raw))
                    except Exception as exc:  # one record never stops the run
                        self.fault(item.where, exc, excerpt_obj(raw))
                    else:
                        pending.events.append(event)
                        if results is not None:
                            pending.event_slots.append(len(results))
                            results.append(ItemResult(item.where, "accepted", event.id))
            else:
                assert isinstance(item, Rejected)
                self.reject(item.where, item.reason, item.excerpt)
            if len(pending) >= batch_size:
                self.flush()
                pending = self.pending
        if adapter is not None:
            summary.skipped += int(getattr(adapter, "skipped", 0))

    def reject_file(self, path: Path, reason: str) -> None:
        self.summary.read += 1
        self.reject(Location(str(path)), reason.removeprefix(f"{path.name}: "), "")

    def reject(
        self, where: Location, reason: str, text_excerpt: str, *, slot: int | None = None
    ) -> None:
        """Quarantine one item; `slot` is its existing result row when it already has one."""
        summary = self.summary
        item = QuarantinedItem(where, reason, text_excerpt)
        summary.quarantined += 1  # exact, stored or not
        if summary.quarantined <= self.limits.max_quarantine_rows:
            quarantine = self.pending.quarantine
            quarantine.append(item)
            if len(quarantine) >= QUARANTINE_BATCH:
                self.flush_quarantine()
        if len(summary.quarantine_sample) < SAMPLE_SIZE:
            summary.quarantine_sample.append(item)
        if summary.results is not None:
            result = ItemResult(where, "rejected", reason=reason)
            if slot is None:
                summary.results.append(result)
            else:
                summary.results[slot] = result


def excerpt_obj(raw: object) -> str:
    try:
        return excerpt(jsontext.dumps(raw))
    except TypeError:
        try:
            return excerpt(repr(raw))
        except RecursionError:
            return f"<{type(raw).__name__} nested too deep to show>"
