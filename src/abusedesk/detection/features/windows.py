"""In-process window tables: per key, a head bucket with a running total and a few older buckets.

State per key is a list (lists index faster than attribute access and cost less memory than an
object per key; this is the hottest code in detection):

    [head, total, current, older, trimmed_below, watermark]

head           the newest bucket the total is kept for (moved forward by updates and reads)
total          the aggregate over buckets head-n+1 .. head
current        the head bucket's own value (kept apart so the common update touches no dict)
older          {bucket: value} for buckets before head that may still be read
trimmed_below  every bucket below it has been removed from `older`
watermark      the newest second counted for this key (store.py: lateness is judged against it)

A read at the head is a list index once the key's row is found (keygroup.py). Moving the head
forward costs O(buckets that leave the window) for counts. Float sums are instead recomputed in
ascending bucket order on every move, because subtracting floats leaves residues
(0.1 + 0.2 - 0.1 - 0.2 != 0) and the Redis script must reproduce every value bit for bit; it
costs O(n) per move of a sum's head.

Retention: buckets below `lo = bucket(W - lateness) - n + 1`, W the key's watermark, can never
be read again (see store.py). Trimming waits until a key holds more than `cap` older buckets, so moving a head
costs nothing extra until then; a key never holds more than n + ceil(lateness / bucket_s).
"""

from __future__ import annotations

from typing import Any

from abusedesk.detection.features.keygroup import KeyedTable, State
from abusedesk.detection.features.store import Key


def drop_below(st: State, lo: int) -> None:
    """Remove buckets below lo from `older` (callers first account for what they held)."""
    tb = st[4]
    if lo <= tb:
        return
    older = st[3]
    if lo - tb <= len(older):
        for bucket in range(tb, lo):
            if bucket in older:
                del older[bucket]
    else:  # a long jump: filtering the (small) dict beats walking the range
        st[3] = {b: v for b, v in older.items() if b >= lo}
    st[4] = lo


class WindowTable(KeyedTable):
    """count / sum / ratio halves: a windowed sum of numeric contributions."""

    __slots__ = ()

    def add(self, key: Key, ts: int, value: Any) -> bool:
        b = ts // self.bucket_s
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            self._insert(key, [b, value, value, {}, b, ts])
            return True
        wm = st[5]
        if ts > wm:
            st[5] = wm = ts
        elif ts < wm - self.late:
            return False  # too late for this key: dropped
        head = st[0]
        if b == head:
            st[1] += value
            st[2] += value
        elif b > head:
            self._advance(st, b)
            st[1] += value
            st[2] = value
        else:  # out of order but within lateness: its own, older bucket
            older = st[3]
            older[b] = older.get(b, 0) + value
            st[4] = min(st[4], b)
            if b > head - self.n:
                st[1] += value
            if len(older) > self.cap:
                self.trim(st, self.low(st))
        return True

    def trim(self, st: State, lo: int) -> None:
        if self.integer and lo > st[4]:
            # Keep the exact total equal to the kept part of the head's window, so moving
            # the head can always subtract. (A float total is recomputed on every move.)
            older = st[3]
            for bucket in range(max(st[0] - self.n + 1, st[4]), lo):
                st[1] -= older.get(bucket, 0)
        drop_below(st, lo)

    def read(self, key: Key, ts: int) -> Any:
        row = self.rows.get(key)
        st = None if row is None else row[self.slot]
        if st is None:
            return 0
        b = ts // self.bucket_s
        head = st[0]
        if b == head:
            # Never clipped: the head is at or after the key's watermark's bucket.
            return st[1]
        if b > head:
            # Reads move the head too (the Redis script does the same, so float totals
            # are rebuilt at the same moments): later reads in this bucket are then O(1).
            self._advance(st, b)
            return st[1]
        # Too late for this key: only the buckets it still keeps (from low()) are read.
        return _range_sum(st, max(b - self.n + 1, self.low(st)), b)

    def _advance(self, st: State, b: int) -> None:
        """Move the head forward to b (the new bucket starts empty)."""
        head = st[0]
        older = st[3]
        if st[2]:
            older[head] = st[2]
        n = self.n
        start = b - n + 1
        if start > head:  # the whole old window left
            st[1] = 0
        elif self.integer:
            # Exact: subtract what leaves, walking whichever is shorter, the dict or the range.
            total = st[1]
            first = head - n + 1
            if len(older) < start - first:
                for bucket, value in older.items():
                    if first <= bucket < start:
                        total -= value
            else:
                for bucket in range(first, start):
                    value = older.get(bucket)
                    if value:
                        total -= value
            st[1] = total
        else:
            st[1] = _range_sum(st, start, b - 1, check_head=False)
        st[0] = b
        st[2] = 0
        if len(older) > self.cap:
            # Only buckets below the new window go, so the new total needs no correction.
            drop_below(st, self.low(st))


def _range_sum(st: State, start: int, end: int, *, check_head: bool = True) -> Any:
    """Sum of buckets start..end in ascending order (the order the Redis script uses)."""
    if end < start:
        return 0
    head, _, current, older, *_ = st
    total: Any = 0
    if len(older) < end - start:
        for bucket in sorted(older):
            if start <= bucket <= end:
                value = older[bucket]
                if value:
                    total += value
    else:
        for bucket in range(start, end + 1):
            value = older.get(bucket)
            if value:
                total += value
    if check_head and start <= head <= end and current:
        # head is newer than every bucket in `older`, so adding it last keeps the order.
        total += current
    return total
