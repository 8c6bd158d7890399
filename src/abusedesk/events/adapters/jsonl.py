"""The canonical JSON Lines format (docs/events.md): the fast path of ingest.

Lines are split on b"\n" from a buffered binary stream and decoded with orjson; nothing but the
current chunk is held, so memory stays flat however large the file. A line longer than the limit
is skipped to its end without being kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import orjson

from abusedesk.events.adapters.base import Item, Limits, Location, Record, Rejected, excerpt

_CHUNK = 1 << 20


def iter_lines(stream: BinaryIO, max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line; None stands for a line over the limit."""
    number = 0
    pending = b""
    oversize = False
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not oversize:
                    pending += chunk[start:]
                    if len(pending) > max_line_bytes:
                        oversize, pending = True, b""
                break
            number += 1
            if oversize:
                yield number, None
                oversize = False
            else:
                line = pending + chunk[start:end] if pending else chunk[start:end]
                pending = b""
                yield number, (line if len(line) <= max_line_bytes else None)
            start = end + 1
    if oversize:
        yield number + 1, None
    elif pending:
        yield number + 1, pending


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
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield Rejected(Location(source, number), f"not valid JSON: {exc}", excerpt(line))
                continue
            if type(obj) is not dict:
                yield Rejected(
                    Location(source, number), "a line must hold one JSON object", excerpt(line)
                )
                continue
            yield Record(obj, Location(source, number))
