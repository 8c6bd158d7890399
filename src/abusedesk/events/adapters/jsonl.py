"""The canonical JSON Lines format (docs/events.md): the fast path of ingest.

Lines are split on b"\n" from a buffered binary stream and decoded with orjson; nothing but the
current chunk is held, so memory stays flat however large the file. A line longer than the limit
is skipped to its end without being kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import orjson

from abusedesk.events import jsontext
from abusedesk.events.adapters.base import Item, Limits, Location, Record, Rejected, excerpt

_CHUNK = 1 << 20


def iter_lines(stream: BinaryIO, max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line; None stands for a line over the limit."""
    for first, lines in iter_line_batches(stream, max_line_bytes):
        yield from enumerate(lines, first)


def iter_line_batches(
    stream: BinaryIO, max_line_bytes: int
) -> Iterator[tuple[int, list[bytes | None]]]:
    """The lines of each chunk read, as (number of the first, lines): each chunk is split in C,
    and the caller loops over a list instead of resuming a generator per line (the ingest hot
    path). A line over the limit is None; one that runs across chunks is carried over, and
    dropped as soon as it passes the limit, so memory holds one chunk and one line at most."""
    number = 0
    pending = b""
    oversize = False
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        parts = chunk.split(b"\n")
        tail = parts.pop()
        lines: list[bytes | None] = [*parts]  # None will mark a line over the limit
        if lines:
            head = lines[0]
            assert head is not None
            if oversize:
                lines[0] = None
                oversize = False
            elif pending:
                joined = pending + head
                lines[0] = joined if len(joined) <= max_line_bytes else None
            elif len(head) > max_line_bytes:
                lines[0] = None
            if len(chunk) > max_line_bytes:  # else no whole line of the chunk can be over
                lines[1:] = [
                    x if x is None or len(x) <= max_line_bytes else None for x in lines[1:]
                ]
            yield number + 1, lines
            number += len(lines)
            pending = b""
        if not oversize:
            pending += tail
            if len(pending) > max_line_bytes:
                oversize, pending = True, b""
    if oversize:
        yield number + 1, [None]
    elif pending:
        yield number + 1, [pending]


class JsonlAdapter:
    name: ClassVar[str] = "jsonl"
    description: ClassVar[str] = "canonical events, one JSON object per line (docs/events.md)"

    def sniff(self, head: bytes, filename: str) -> bool:
        base = filename.lower().removesuffix(".gz")
        if base.endswith((".jsonl", ".ndjson")):
            return True
        first = head.lstrip()[:1]
        return first == b"{" and b'"type"' in head[:4096] and b'"ts"' in head[:4096]

    def parse(self, stream: BinaryIO, source: str, limits: Limits) -> Iterator[Item]:
        for number, line in iter_lines(stream, limits.max_line_bytes):
            if line is None:
                yield Rejected(
                    Location(source, number),
                    f"line is longer than {limits.max_line_bytes} bytes (ABUSEDESK_MAX_LINE_BYTES)",
                )
                continue
            if not line.strip():
                continue
            try:
                obj = jsontext.loads(line)
            except orjson.JSONDecodeError as exc:
                yield Rejected(Location(source, number), f"not valid JSON: {exc}", excerpt(line))
                continue
            if type(obj) is not dict:
                yield Rejected(
                    Location(source, number), "a line must hold one JSON object", excerpt(line)
                )
                continue
            yield Record(obj, Location(source, number))
