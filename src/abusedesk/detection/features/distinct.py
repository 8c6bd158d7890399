"""In-process distinct and age tables.

Distinct keeps exact per-bucket sets plus, for the window ending at the head bucket, how many of
its buckets hold each member: the read at the head is then len(counts), O(1), and moving the
head costs O(members of the buckets that leave). State per key (see windows.py for the layout):

    [head, current_set, counts, older, trimmed_below]

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

    def add(self, key: Key, ts: int, member: Any, wl: int) -> None:
        b = ts // self.bucket_s
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            self._insert(key, [b, {member}, {member: 1}, {}, b])
            return
        head = st[0]
        if b > head:
            self._advance(st, b, wl)
            head = b
        if b == head:
            current = st[1]
            if member not in current:
                current.add(member)
                counts = st[2]
                counts[member] = counts.get(member, 0) + 1
            return
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
            self.trim(st, wl // self.bucket_s - self.n + 1)

    def trim(self, st: State, lo: int) -> None:
        if lo > st[4]:  # keep counts equal to the kept part of the head's window
            older, counts = st[3], st[2]
            for bucket in range(max(st[0] - self.n + 1, st[4]), lo):
                members = older.get(bucket)
                if members:
                    _forget(counts, members)
        drop_below(st, lo)

    def read(self, key: Key, ts: int, wl: int) -> int:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            return 0
        b = ts // self.bucket_s
        head = st[0]
        if b == head:
            return len(st[2])
        if b > head:
            self._advance(st, b, wl)
            return len(st[2])
        return _union_size(st, b - self.n + 1, b)

    def read_late(self, key: Key, ts: int, wl: int) -> int:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            return 0
        b = ts // self.bucket_s
        return _union_size(st, max(b - self.n + 1, wl // self.bucket_s - self.n + 1), b)

    def _advance(self, st: State, b: int, wl: int) -> None:
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
            drop_below(st, wl // self.bucket_s - n + 1)


def _forget(counts: dict[Any, int], members: set[Any]) -> None:
    for member in members:
        left = counts[member] - 1
        if left:
            counts[member] = left
        else:
            del counts[member]


def _union_size(st: State, start: int, end: int) -> int:
    head, current, _, older, _ = st
    seen: set[Any] = set()
    for bucket in range(start, end + 1):
        members = current if bucket == head else older.get(bucket)
        if members:
            seen |= members
    return len(seen)


class AgeTable(KeyedTable):
    """First (earliest) counted event per key; state [first_ts, last_ts], no window."""

    __slots__ = ()

    def add(self, key: Key, ts: int, _arg: Any, _wl: int) -> None:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            self._insert(key, [ts, ts])
            return
        st[0] = min(st[0], ts)
        st[1] = max(st[1], ts)

    def read(self, key: Key, _ts: int, _wl: int) -> int | None:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        return None if st is None else int(st[0])

    def read_late(self, key: Key, ts: int, wl: int) -> int | None:
        return self.read(key, ts, wl)  # no window, so nothing is out of reach

    def oldest_live_head(self, wl: int) -> int | None:
        return None  # no window: an age is kept until the key cap evicts it

    def last_seen(self, st: State) -> int:
        return int(st[1])

    def stored_buckets(self) -> int:
        return len(self)
