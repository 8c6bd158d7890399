"""What each feature kind means: the one plain definition of count, sum, distinct, ratio, age.

Read this first. Every other module of this package is a faster way to compute these values:
the plan (plan.py) takes each kind's state table, value code and parts from KINDS below, the
in-process tables (windows.py, distinct.py) and the generated code (fastpath.py) keep that
state incrementally, the Redis script (redis_lua.py) keeps it on the server, and backtest_sql.py
computes it in DuckDB. tests/detection/features checks them all against `Kind.meaning` (the
oracle there keeps every counted event and applies it) and against each other.

An event *counts* for a feature when its type is in `on`, every `by` field is non-NULL, and
its `where` is TRUE (a ratio counts its numerator with `where` and its denominator with `over`;
a sum or distinct also needs `of` non-NULL). A feature's value for an event is `meaning` of the
counted events of the event's key whose bucket (epoch second // bucket_s) lies in the event's
window: the event's own bucket and the n - 1 before it. An event counts itself (updates come
before reads). An age has no window: it looks at every counted event of the key. An update more
than the lateness behind the newest event its table counted for the key is dropped, and a read
then sees only what the key still keeps (store.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from abusedesk.detection.features.store import TableKind

# How a feature's value is made from its raw read(s) of the state tables.
PLAIN: Final = 0  # count, distinct: the read as is
SUM: Final = 1  # float of the read
RATIO: Final = 2  # read i / read i+1, None when the denominator is 0
AGE: Final = 3  # hours from the first-seen second to the event's second


class Counted(NamedTuple):
    """A counted event of a key: its epoch second, whether it counts in the numerator (`where`)
    and in a ratio's denominator (`over`), and its `of` value (sum, distinct)."""

    ts: int
    where: bool
    over: bool
    value: Any


def count(counted: Sequence[Counted], _ts: int) -> int:
    return sum(1 for c in counted if c.where)


def total(counted: Sequence[Counted], _ts: int) -> float:
    """A sum: 0.0 with nothing counted."""
    return float(sum(c.value for c in counted if c.where))


def distinct(counted: Sequence[Counted], _ts: int) -> int:
    return len({c.value for c in counted if c.where})


def ratio(counted: Sequence[Counted], _ts: int) -> float | None:
    """Numerator count over denominator count; None when the denominator is 0."""
    den = sum(1 for c in counted if c.over)
    return count(counted, _ts) / den if den else None


def age(counted: Sequence[Counted], ts: int) -> float | None:
    """Hours since the key's first counted second; None before it or without one."""
    first = min((c.ts for c in counted if c.where), default=None)
    return None if first is None or first > ts else (ts - first) / 3600


def in_window(counted_ts: int, ts: int, bucket_s: int, n_buckets: int) -> bool:
    """Whether a counted second lies in the window of an event at second `ts`."""
    b = ts // bucket_s
    return b - n_buckets < counted_ts // bucket_s <= b


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    meaning: Callable[[Sequence[Counted], int], Any]  # counted events in the window, the second
    table: TableKind  # how its state is kept per key
    value: int  # how raw reads become the value (PLAIN, SUM, RATIO, AGE)
    parts: tuple[str, ...] = ("",)  # one table per part (a ratio: numerator, denominator)
    integer: bool = False  # every contribution is an int (the total can be kept exactly)
    windowed: bool = True
    argument: bool = False  # reads the value of `of`


KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind("count", count, "window", PLAIN, integer=True),
        Kind("sum", total, "window", SUM, argument=True),
        Kind("distinct", distinct, "distinct", PLAIN, argument=True),
        Kind("ratio", ratio, "window", RATIO, parts=(".num", ".den"), integer=True),
        Kind("age", age, "age", AGE, windowed=False),
    )
}
"""A ratio of two other features (`numerator`/`denominator` naming features) keeps no state:
its value is theirs divided, None when either is None or the denominator is 0 (plan.py)."""
