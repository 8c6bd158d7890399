"""The slice engine: events go into per-hour buckets, and each finished hour is written out.

Actors emit events at or after the start of the current hour (a delivery receipt or an opt-out
may land minutes or hours later, in a later bucket). After every actor has had its hour, the
buckets before the hour's end are sorted by (ts, sequence) and appended to the file. Memory is
therefore one hour of traffic plus what is still in flight, whatever the run's length or scale.
Ties in ts keep emission order (the sequence number), which is itself deterministic.
Appending to a bucket and sorting it once costs less than a heap push and pop per event.
"""

from __future__ import annotations

from collections import Counter
from typing import IO, Any

import orjson

from abusedesk.sim.fbl import EarlyComplaint
from abusedesk.sim.timeutil import HOUR, rfc3339

Pending = tuple[int, int, str, str | None, dict[str, Any]]


class EventSink:
    """Where actors put events. `floor` guards the one invariant the ordering relies on.

    `early` collects the FBL complaints that reach the desk before their message (sim/fbl.py):
    a share `early_share` of them, written to complaints.mbox instead of events.jsonl."""

    __slots__ = ("_buckets", "_pending", "_seq", "early", "early_share", "floor")

    def __init__(self, early_share: float = 0.0) -> None:
        self._buckets: dict[int, list[Pending]] = {}
        self._seq = 0
        self._pending = 0
        self.floor: int | None = None
        self.early_share = early_share
        self.early: list[EarlyComplaint] = []

    def emit(self, ts: int, etype: str, account_id: str | None, fields: dict[str, Any]) -> None:
        if self.floor is not None and ts < self.floor:
            raise AssertionError(f"{etype} event at {ts} is before the open slice {self.floor}")
        self._seq += 1
        self._pending += 1
        bucket = self._buckets.get(ts // HOUR)
        if bucket is None:
            bucket = self._buckets[ts // HOUR] = []
        bucket.append((ts, self._seq, etype, account_id, fields))

    def pop_before(self, limit: int) -> list[Pending]:
        """Every event with ts < limit (an hour boundary), in (ts, sequence) order."""
        if limit % HOUR:
            raise ValueError("slices end on whole hours")
        out: list[Pending] = []
        for hour in sorted(h for h in self._buckets if h < limit // HOUR):
            out += self._buckets.pop(hour)
        out.sort(key=_order)
        self._pending -= len(out)
        return out

    def __len__(self) -> int:
        return self._pending


def _order(event: Pending) -> tuple[int, int]:
    return event[0], event[1]


class JsonlWriter:
    """Numbers, formats and appends events; counts them by type for the summary."""

    def __init__(self, stream: IO[bytes], id_prefix: str) -> None:
        self._stream = stream
        self._prefix = id_prefix
        self._n = 0
        self.by_type: Counter[str] = Counter()

    def write(self, events: list[Pending]) -> None:
        # The envelope (id, type, ts, account_id: plain ASCII we generate, nothing to escape) is
        # spliced in front of orjson's encoding of the fields: a third faster than building one
        # merged dict per event, and the key order stays id, type, ts, account_id, fields.
        lines: list[bytes] = []
        dumps = orjson.dumps
        prefix = self._prefix.encode()
        n = self._n
        last_ts = -1
        stamp = b""
        for ts, _seq, etype, account_id, fields in events:
            n += 1
            if ts != last_ts:
                stamp, last_ts = rfc3339(ts).encode(), ts
            body = dumps(fields)[1:]
            if account_id is None:
                line = b'{"id":"%s%08d","type":"%s","ts":"%s",%s' % (
                    prefix, n, etype.encode(), stamp, body)  # fmt: skip
            else:
                line = b'{"id":"%s%08d","type":"%s","ts":"%s","account_id":"%s",%s' % (
                    prefix, n, etype.encode(), stamp, account_id.encode(), body)  # fmt: skip
            lines.append(line)
            self.by_type[etype] += 1
        self._n = n
        if lines:
            lines.append(b"")
            self._stream.write(b"\n".join(lines))

    @property
    def count(self) -> int:
        return self._n
