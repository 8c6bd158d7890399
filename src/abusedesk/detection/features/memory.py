"""MemoryStore: feature state in this process, bounded by keys x buckets, not by events.

State lives in key groups (keygroup.py): one row per key for the tables keyed alike. Two
mechanisms keep it bounded:
- an incremental sweep: every `sweep_every` updates it checks one chunk of one group's keys
  and drops the states idle for longer than window + lateness + `purge_margin_s` behind the
  group's clock (keygroup.py), and keys left with none, round robin over groups. (A live key
  trims its own old buckets past `cap` as its head moves, see windows.py.) Chunks are taken
  from a snapshot of the group's keys, so the cost per update stays constant instead of a full
  pass stalling one event; the price is that a dead key can live for up to two full cycles.
  Like RedisStore's TTLs (the same span, measured here in event time rather than wall-clock
  time) this forgets: an event of a purged key later than lateness + margin behind the clock
  reads from empty state, where the state kept would have been read.
- a hard cap of `max_keys_per_group` keys per group: past it, the least recently advanced
  sixteenth is evicted (counted in `evictions`). Eviction changes results (the key starts
  again from zero), so the cap is a safety valve sized well above the expected key count.

Not thread-safe: one store per detection worker (or per thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from abusedesk.detection.features.distinct import AgeTable, DistinctTable
from abusedesk.detection.features.keygroup import KeyedTable, KeyGroup
from abusedesk.detection.features.store import (
    DEFAULT_LATENESS_S,
    EventOps,
    Key,
    Read,
    TableSpec,
    Update,
)
from abusedesk.detection.features.windows import WindowTable

_TABLES: dict[str, type[WindowTable | DistinctTable | AgeTable]] = {
    "window": WindowTable,
    "distinct": DistinctTable,
    "age": AgeTable,
}


class MemoryStore:
    def __init__(
        self,
        *,
        lateness_s: int = DEFAULT_LATENESS_S,
        max_keys_per_group: int = 1_000_000,
        sweep_every: int = 16384,
        sweep_chunk: int = 1024,
        purge_margin_s: int = 3600,
    ) -> None:
        if lateness_s < 0 or purge_margin_s < 0:
            raise ValueError("lateness_s and purge_margin_s must be >= 0")
        if max_keys_per_group < 1 or sweep_every < 1 or sweep_chunk < 1:
            raise ValueError("the sweep and cap settings must be >= 1")
        self._lateness = lateness_s
        self._idle_s = lateness_s + purge_margin_s
        self._max_keys = max_keys_per_group
        self._sweep_every = sweep_every
        self._sweep_chunk = sweep_chunk
        self._tables: list[KeyedTable] = []
        self._groups: list[KeyGroup] = []
        # A one-element list so the generated fast path (fastpath.py) shares it.
        self.dropped_cell = [0]
        self._until_sweep = sweep_every
        self._sweep_group = 0
        self._sweep_keys: list[Key] = []
        self.purged = 0

    @property
    def lateness_s(self) -> int:
        return self._lateness

    @property
    def dropped_late(self) -> int:
        return self.dropped_cell[0]

    @property
    def evictions(self) -> int:
        return sum(group.evictions for group in self._groups)

    def bind(self, tables: Sequence[TableSpec]) -> None:
        groups = {spec.group: KeyGroup(self._max_keys) for spec in tables}
        self._groups = list(groups.values())
        self._tables = [
            _TABLES[spec.kind](spec, groups[spec.group], self._lateness) for spec in tables
        ]
        self._sweep_group = 0
        self._sweep_keys = []

    def apply(
        self,
        ts: int,
        keys: Sequence[Key | None],
        updates: Sequence[Update],
        reads: Sequence[Read],
    ) -> list[Any]:
        tables = self._tables
        if updates:
            # Lateness is judged per (table, key) against that key's watermark (store.py).
            counted = [tables[t].add(keys[g], ts, arg) for t, g, arg in updates]
            if not all(counted):
                self.dropped_cell[0] += 1
            self.note_updates(len(updates))
        return [None if (key := keys[g]) is None else tables[t].read(key, ts) for t, g in reads]

    def apply_many(self, events: Sequence[EventOps]) -> list[list[Any]]:
        return [self.apply(ts, keys, updates, reads) for ts, keys, updates, reads in events]

    @property
    def tables(self) -> tuple[KeyedTable, ...]:
        return tuple(self._tables)

    # -- bounds ---------------------------------------------------------------------------

    def note_updates(self, count: int) -> None:
        """Account for `count` updates; runs a sweep step when one is due."""
        self._until_sweep -= count
        if self._until_sweep <= 0:
            self._sweep_step()

    def _sweep_step(self) -> None:
        self._until_sweep = self._sweep_every
        if not self._groups:
            return
        if not self._sweep_keys:
            self._sweep_group = (self._sweep_group + 1) % len(self._groups)
            self._sweep_keys = list(self._groups[self._sweep_group].rows)
        chunk = self._sweep_keys[-self._sweep_chunk :]
        del self._sweep_keys[-self._sweep_chunk :]
        self.purged += self._groups[self._sweep_group].purge_keys(chunk, self._idle_s)

    def sweep(self) -> int:
        """Purge every group now (tests, shutdown); returns the keys deleted."""
        deleted = sum(group.purge_keys(list(group.rows), self._idle_s) for group in self._groups)
        self.purged += deleted
        return deleted

    def stored_buckets(self) -> dict[str, int]:
        """Buckets held per table: what the memory bound (keys x buckets) is stated about."""
        return {table.spec.name: table.stored_buckets() for table in self._tables}

    @property
    def groups(self) -> tuple[KeyGroup, ...]:
        return tuple(self._groups)

    def key_counts(self) -> dict[str, int]:
        """Keys holding state, per table."""
        return {table.spec.name: len(table) for table in self._tables}
