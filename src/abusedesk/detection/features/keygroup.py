"""In-process state layout: one row per key for all the tables keyed by the same `by` fields.

    KeyGroup.rows   {key: [state of table 0, state of table 1, ...]}   (None: no state)

A message event reads some twenty features but only three or four distinct keys (account,
prefix, account x prefix). One dict lookup per key, then a list index per table, costs about a
third of one lookup per table: each lookup compares the row's fresh key string with the stored
one and touches another dict's memory. Grouping is only a layout: which tables share a group
never changes a value. The price is a slot per table in every row, used or not.

The group also enforces the two memory bounds (see memory.py): a hard cap on keys, evicting the
least recently advanced sixteenth past it, and `purge_keys`, which drops the states of keys idle
for longer than their window, the lateness and a margin behind the group's clock, and the keys
left with none.

The clock is not the newest second seen: lateness is judged per key (store.py), so one event
dated far ahead must not make every other key look idle. It is the SWEEP_QUORUM-th newest of a
sample of each chunk swept (monotonic): at least that many keys of the group reached it.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from abusedesk.detection.features.store import Key, TableSpec

State = list[Any]
Row = list[State | None]

SWEEP_QUORUM = 4
"""Keys of a chunk's sample that must have reached a time before the sweep's clock moves to it."""
CLOCK_SAMPLE = 128
"""Keys of each chunk swept that the clock is taken from."""
_NEVER = -(1 << 62)


class KeyGroup:
    __slots__ = ("clock", "evictions", "max_keys", "rows", "tables")

    def __init__(self, max_keys: int) -> None:
        self.rows: dict[Key, Row] = {}
        self.tables: list[KeyedTable] = []
        self.max_keys = max_keys
        self.evictions = 0
        self.clock = _NEVER  # the sweep's notion of now, see the module docstring

    def row_for_insert(self, key: Key) -> Row:
        row = self.rows.get(key)
        if row is None:
            if len(self.rows) >= self.max_keys:
                self._evict()
            row = self.rows[key] = [None] * len(self.tables)
        return row

    def _evict(self) -> None:
        # A sixteenth at once: choosing victims is O(keys log k), so doing it per insert would
        # make every new key pay for a scan. Recency is when a key's newest head started:
        # coarse, but it costs nothing on the hot path.
        count = max(1, self.max_keys // 16)
        victims = heapq.nsmallest(count, self.rows.items(), key=self._recency)
        for key, _ in victims:
            del self.rows[key]
        self.evictions += len(victims)

    def _recency(self, item: tuple[Key, Row]) -> int:
        return max(
            (t.last_seen(st) for t, st in zip(self.tables, item[1], strict=True) if st),
            default=-1,
        )

    def purge_keys(self, keys: Sequence[Key], idle_s: int) -> int:
        """Drop the states whose window ended more than `idle_s` (lateness plus a margin)
        before the clock, and the keys left with none. Moves the clock first, by these keys.
        Returns the keys deleted; keys already gone are skipped."""
        rows = self.rows
        # A sample of the chunk moves the clock: a key's recency walks all its states, and the
        # clock only needs to follow the bulk of the keys, not each one.
        recent = heapq.nlargest(
            SWEEP_QUORUM,
            (self._recency((key, row)) for key in keys[:CLOCK_SAMPLE] if (row := rows.get(key))),
        )
        if len(recent) == SWEEP_QUORUM:
            self.clock = max(self.clock, recent[-1])
        if self.clock == _NEVER:
            return 0
        # The oldest head each slot can still need (None: never dead), computed once per chunk.
        limits = list(enumerate(t.oldest_live_head(self.clock - idle_s) for t in self.tables))
        deleted = 0
        for key in keys:
            row = rows.get(key)
            if row is None:
                continue
            alive = False
            for slot, limit in limits:
                st = row[slot]
                if st is not None:
                    if limit is not None and st[0] < limit:
                        row[slot] = None
                    else:
                        alive = True
            if not alive:
                del rows[key]
                deleted += 1
        return deleted


class KeyedTable:
    """One table's slot in a KeyGroup, and what every table kind provides."""

    __slots__ = ("bucket_s", "cap", "group", "integer", "late", "n", "rows", "slot", "spec")

    def __init__(self, spec: TableSpec, group: KeyGroup, lateness_s: int) -> None:
        self.spec = spec
        self.bucket_s = spec.bucket_s
        self.n = spec.n_buckets
        self.integer = spec.integer
        self.late = lateness_s
        # Most older buckets a key can need: the window's n - 1 plus the buckets an event
        # within lateness can reach back. Trimming waits until a key exceeds it, so a key
        # costs nothing on advance until then, and never holds more than cap + 1 buckets.
        self.cap = self.n - 1 + -(-lateness_s // self.bucket_s)
        self.group = group
        self.rows = group.rows  # the same dict object for the table's lifetime
        self.slot = len(group.tables)
        group.tables.append(self)

    def state(self, key: Key) -> State | None:
        row = self.rows.get(key)
        return None if row is None else row[self.slot]

    def _insert(self, key: Key, st: State) -> None:
        self.group.row_for_insert(key)[self.slot] = st

    def low(self, st: State) -> int:
        """The oldest bucket a window state can still be read at: bucket(W - lateness) - n + 1,
        W the key's watermark (st[5]). Reads are clipped there, so trimming below it, whenever
        it happens, changes no value (store.py)."""
        return int(st[5] - self.late) // self.bucket_s - self.n + 1

    def oldest_live_head(self, horizon: int) -> int | None:
        """A state whose head is below this has no bucket in a window ending at or after
        `horizon`; None when states never die."""
        return horizon // self.bucket_s - self.n + 1

    def last_seen(self, st: State) -> int:
        return int(st[0]) * self.bucket_s

    def __len__(self) -> int:
        slot = self.slot
        return sum(1 for row in self.rows.values() if row[slot] is not None)

    def stored_buckets(self) -> int:
        """Buckets held (the head counts as one): the figure the memory bound is about."""
        slot = self.slot
        return sum(len(st[3]) + 1 for row in self.rows.values() if (st := row[slot]) is not None)

    def add(self, key: Key, ts: int, arg: Any) -> bool:
        """Count an update; False when it is too late for the key's watermark (dropped)."""
        raise NotImplementedError

    def read(self, key: Key, ts: int) -> Any:
        """The window ending at ts's bucket, clipped at low() when ts is too late."""
        raise NotImplementedError

    def trim(self, st: State, lo: int) -> None:
        """Drop buckets below lo, keeping the running aggregate equal to what is kept."""
        raise NotImplementedError
