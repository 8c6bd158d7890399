"""The slice engine: events go into a time-ordered heap, and each finished hour is written out.

Actors emit events at or after the start of the current hour (a delivery receipt or an opt-out
may land minutes or hours later, in a later slice). After every actor has had its hour, all
events before the hour's end are popped in (ts, sequence) order and appended to the file. Memory
is therefore one hour of traffic plus what is still in flight, whatever the run's length or scale.
Ties in ts keep emission order (the sequence number), which is itself deterministic.
"""

from __future__ import annotations

import heapq
from collections import Counter
from typing import IO, Any

import orjson

from abusedesk.sim.timeutil import rfc3339

Pending = tuple[int, int, str, str | None, dict[str, Any]]


class EventSink:
    """Where actors put events. `floor` guards the one invariant the ordering relies on."""

    __slots__ = ("_heap", "_seq", "floor")

    def __init__(self) -> None:
        self._heap: list[Pending] = []
        self._seq = 0
        self.floor: int | None = None

    def emit(self, ts: int, etype: str, account_id: str | None, fields: dict[str, Any]) -> None:
        if self.floor is not None and ts < self.floor:
            raise AssertionError(f"{etype} event at {ts} is before the open slice {self.floor}")
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, etype, account_id, fields))

    def pop_before(self, limit: int) -> list[Pending]:
        heap = self._heap
        out: list[Pending] = []
        while heap and heap[0][0] < limit:
            out.append(heapq.heappop(heap))
        return out

    def __len__(self) -> int:
        return len(self._heap)


class JsonlWriter:
    """Numbers, formats and appends events; counts them by type for the summary."""

    def __init__(self, stream: IO[bytes], id_prefix: str) -> None:
        self._stream = stream
        self._prefix = id_prefix
        self._n = 0
        self.by_type: Counter[str] = Counter()

    def write(self, events: list[Pending]) -> None:
        lines: list[bytes] = []
        dumps = orjson.dumps
        prefix = self._prefix
        n = self._n
        last_ts = -1
        stamp = ""
        for ts, _seq, etype, account_id, fields in events:
            n += 1
            if ts != last_ts:
                stamp, last_ts = rfc3339(ts), ts
            head: dict[str, Any] = {"id": f"{prefix}{n:08d}", "type": etype, "ts": stamp}
            if account_id is not None:
                head["account_id"] = account_id
            head.update(fields)
            lines.append(dumps(head))
            self.by_type[etype] += 1
        self._n = n
        if lines:
            lines.append(b"")
            self._stream.write(b"\n".join(lines))

    @property
    def count(self) -> int:
        return self._n
