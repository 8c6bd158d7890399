"""In-process distinct and age tables.

Distinct keeps exact per-bucket sets plus, for the window ending at the head bucket, how many of
its buckets hold each member: the read at the head is then len(counts), O(1), and moving the
head costs O(members of the buckets that leave). State per key (see windows.py for the layout):

    [head, current_set, counts, older, trimmed_below, watermark]

Memory is the distinct values inside the retained buckets; no sketch (HyperLogLog) is used,
because rules compare against small thresholds ("more than 20 recipients") where an estimate's
error would flip decisions, and the backtest must match exactly.
"""

from __future__ import annotations

from typing import Any

from abusedesk.detection.features.keygroup import KeyedTable, State
from abusedesk.detection.features.store import Key
from abusedesk.detection.features.windows import drop_below


class DistinctTable(KeyedTable):
    __slots__ = ()

    def add(self, key: Key, ts: int, member: Any) -> bool:
        b = ts // self.bucket_s
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            self._insert(key, [b, {member}, {member: 1}, {}, b, ts])
            return True
        wm = st[5]
        if ts > wm:
            st[5] = ts
        elif ts < wm - self.late:
            return False  # too late for this key: dropped
        head = st[0]
        if b > head:
            self._advance(st, b)
            head = b
        if b == head:
            current = st[1]
            if member not in current:
                current.add(member)
                counts = st[2]
                counts[member] = counts.get(member, 0) + 1
            return True
        older = st[3]  # out of order but within lateness
        bucket = older.get(b)
        if bucket is None:
            older[b] = bucket = set()
            st[4] = min(st[4], b)
        if member not in bucket:
            bucket.add(member)
            if b > head - self.n:
                counts = st[2]
                counts[member] = counts.get(member, 0) + 1
        if len(older) > self.cap:
            self.trim(st, self.low(st))
        return True

    def trim(self, st: State, lo: int) -> None:
        if lo > st[4]:  # keep counts equal to the kept part of the head's window
            older, counts = st[3], st[2]
            for bucket in range(max(st[0] - self.n + 1, st[4]), lo):
                members = older.get(bucket)
                if members:
                    _forget(counts, members)
        drop_below(st, lo)

    def read(self, key: Key, ts: int) -> int:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            return 0
        b = ts // self.bucket_s
        head = st[0]
        if b == head:
            return len(st[2])
        if b > head:
            self._advance(st, b)
            return len(st[2])
        return _union_size(st, max(b - self.n + 1, self.low(st)), b)

    def _advance(self, st: State, b: int) -> None:
        head = st[0]
        older = st[3]
        if st[1]:
            older[head] = st[1]
        n = self.n
        start = b - n + 1
        if start > head:
            st[2] = {}
        else:
            counts = st[2]
            first = head - n + 1
            if len(older) < start - first:
                for bucket, members in older.items():
                    if first <= bucket < start:
                        _forget(counts, members)
            else:
                for bucket in range(first, start):
                    members = older.get(bucket)
                    if members:
                        _forget(counts, members)
        st[0] = b
        st[1] = set()
        if len(older) > self.cap:
            drop_below(st, self.low(st))


def _forget(counts: dict[Any, int], members: set[Any]) -> None:
    for member in members:
        left = counts[member] - 1
        if left:
            counts[member] = left
        else:
            del counts[member]


def _union_size(st: State, start: int, end: int) -> int:
    head, current, _, older, *_ = st
    seen: set[Any] = set()
    for bucket in range(start, end + 1):
        members = current if bucket == head else older.get(bucket)
        if members:
            seen |= members
    return len(seen)


class AgeTable(KeyedTable):
    """First (earliest) counted event per key; state [first_ts, last_ts], no window. The last
    counted second is the key's watermark."""

    __slots__ = ()

    def add(self, key: Key, ts: int, _arg: Any) -> bool:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            self._insert(key, [ts, ts])
            return True
        last = st[1]
        if ts > last:
            st[1] = ts
        elif ts < last - self.late:
            return False  # too late for this key: dropped
        st[0] = min(st[0], ts)
        return True

    def read(self, key: Key, _ts: int) -> int | None:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        return None if st is None else int(st[0])  # no window, so nothing is out of reach

    def oldest_live_head(self, clock: int) -> int | None:
        return None  # no window: an age is kept until the key cap evicts it

    def last_seen(self, st: State) -> int:
        return int(st[1])

    def stored_buckets(self) -> int:
        return len(self)
