"""The adapter seam: what every format adapter takes and gives.

An adapter reads one binary stream and yields, in input order, either a `Record` (an object in
the canonical JSON shape of docs/events.md, not yet validated) or a `Rejected` (input it could not
turn into an event, with where and why). It never raises for bad input: the pipeline quarantines
rejections and keeps going. It must stay within `Limits` however hostile the input, because
reports and webhooks are written by people we are acting against.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar, Protocol


@dataclass(frozen=True, slots=True)
class Location:
    """Where an input came from: `source` plus a 1-based line and/or item index."""

    source: str
    line: int | None = None
    item: int | None = None

    def __str__(self) -> str:
        text = self.source
        if self.line is not None:
            text += f":{self.line}"
        if self.item is not None:
            text += f"#{self.item}"
        return text


@dataclass(frozen=True, slots=True)
class Limits:
    max_line_bytes: int = 1_048_576
    max_message_bytes: int = 10_485_760
    max_mime_parts: int = 100
    # Event-time sanity window around the ingest clock: later or earlier events are quarantined.
    max_future_s: int = 86_400
    max_past_days: int = 7_300
    # Rejected records stored per run; past it they are only counted.
    max_quarantine_rows: int = 100_000


@dataclass(slots=True)
class Record:
    """One event in canonical shape. `fallback`: the event to use instead when the pipeline
    cannot resolve a missing `account_id` (e.g. an ARF complaint becomes a `report`)."""

    raw: dict[str, Any]
    where: Location
    fallback: dict[str, Any] | None = None


@dataclass(slots=True)
class Rejected:
    where: Location
    reason: str
    excerpt: str = ""


Item = Record | Rejected


def excerpt(data: bytes | str, limit: int = 200) -> str:
    """A short printable piece of bad input for the quarantine (never the whole of it)."""
    if isinstance(data, bytes):
        data = data[: limit * 4].decode("utf-8", errors="replace")
    data = data[:limit]
    return "".join(ch if ch.isprintable() or ch == " " else "\ufffd" for ch in data)


class Adapter(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]

    def sniff(self, head: bytes, filename: str) -> bool:
        """True when the first bytes (up to 64 KiB) and the name look like this format."""
        ...

    def parse(self, stream: BinaryIO, source: str, limits: Limits) -> Iterator[Item]:
        """Yield records and rejections in input order; never raise for bad input."""
        ...
