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

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from abusedesk.events.adapters.base import Adapter, Limits, Location, Record, Rejected, excerpt
from abusedesk.events.adapters.jsonl import JsonlAdapter, iter_line_batches
from abusedesk.events.decode import decode_line
from abusedesk.events.schema import Event, EventInvalid, validate_event
from abusedesk.events.summary import SAMPLE_SIZE, IngestSummary, ItemResult, QuarantinedItem


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

    def __init__(self, summary: IngestSummary, *, limits: Limits, batch_size: int) -> None:
        self.summary = summary
        self.limits = limits
        self.batch_size = batch_size
        self.pending = Pending()

    @abstractmethod
    def flush(self) -> None:
        """Take the pending batch (and leave an empty one in `self.pending`)."""

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
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        validate = validate_event
        decode = decode_line
        limit = self.limits.max_line_bytes
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
                event = decode(line)
                if event is None:
                    # The decoder declined: the reference validator accepts, or says why not.
                    try:
                        obj = loads(line)
                        if type(obj) is not dict:
                            raise EventInvalid("a line must hold one JSON object")
                        event = validate(obj)
                    except decode_error as exc:
                        if not line.strip():  # a blank line is no event, and no error either
                            read -= 1
                            continue
                        self.reject(
                            Location(source, number), f"not valid JSON: {exc}", excerpt(line)
                        )
                        continue
                    except EventInvalid as exc:
                        self.reject(Location(source, number), str(exc), excerpt(line))
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
                    except EventInvalid as exc:
                        self.reject(item.where, str(exc), excerpt_obj(raw))
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
        self.pending.quarantine.append(item)
        summary.quarantined += 1
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
        return excerpt(orjson.dumps(raw))
    except TypeError:
        return excerpt(repr(raw))
