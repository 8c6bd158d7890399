"""The feature-state seam: what a store must do, independent of where the state lives.

The engine turns features into *tables* (a ratio feature is two count tables, a derived ratio
none) and, for each event, into one batch of operations: updates to apply, then reads to return.
A store executes a whole batch at once, so the Redis store answers an event in one round trip
and `apply_many` answers a list of events in one. Every store must return exactly what
MemoryStore returns for the same calls; tests/detection/features check it against Redis.

Raw read values, per table kind:
    window    the window's sum of contributions (int for an `integer` table, else int or float)
    distinct  the number of distinct members in the window (int)
    age       epoch seconds of the earliest counted update, or None when there is none
A read whose key is None returns None. The engine turns raw values into feature values.

Lateness is judged per (table, key): each table keeps, per key, a watermark W, the newest `ts`
it has counted for that key. An update with ts < W - lateness_s is *too late*: it is dropped
(`dropped_late` counts the events with at least one dropped update). A read of that key is
clipped to the buckets the key still keeps, >= bucket(W - lateness_s) - n + 1 (which cuts the
window only of an event too late for it), and that makes the result independent of when old
buckets happen to be trimmed. With no store-wide watermark, an event dated far ahead moves only
its own keys' clock. (Forgetting whole idle keys is a memory policy: memory.py, redis_store.py.)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

TableKind = Literal["window", "distinct", "age"]

Key = Hashable
"""The `by` values of a row: the value itself for one column, a tuple for several."""

Update = tuple[int, int, Any]
"""(table index, key-group index, argument): the number to add for a window table, the member
for a distinct table; ignored for an age table (the event's ts is what counts)."""

Read = tuple[int, int]
"""(table index, key-group index)."""

EventOps = tuple[int, Sequence[Key | None], Sequence[Update], Sequence[Read]]
"""(epoch seconds, key per key group, updates, reads): one event's work for a store."""

DEFAULT_LATENESS_S = 3600


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One piece of state per key. `name` is unique within a binding and safe in a Redis key."""

    name: str
    kind: TableKind
    bucket_s: int = 1
    n_buckets: int = 1
    integer: bool = False  # contributions are always ints (a count): reads return int
    group: int = 0  # tables with the same group are keyed by the same fields (a layout hint)


class FeatureStore(Protocol):
    """Windowed state for the feature engine. See the module docstring for the semantics."""

    @property
    def lateness_s(self) -> int: ...

    @property
    def dropped_late(self) -> int:
        """Events with at least one update too late for its key (which was dropped)."""
        ...

    def bind(self, tables: Sequence[TableSpec]) -> None:
        """Declare the tables; indices in later operations refer to this sequence."""
        ...

    def apply(
        self,
        ts: int,
        keys: Sequence[Key | None],
        updates: Sequence[Update],
        reads: Sequence[Read],
    ) -> list[Any]:
        """Apply one event's updates, then return its reads (one value per read, in order)."""
        ...

    def apply_many(self, events: Sequence[EventOps]) -> list[list[Any]]:
        """`apply` for each event in order; same results as calling it one by one."""
        ...
