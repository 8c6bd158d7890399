"""The stores against a brute-force reading of the plain definitions (features/kinds.py).

The oracle keeps every counted event and, for each event, applies its kind's `meaning` to those
in the window: no buckets, no running totals, no trimming. It covers what the DuckDB comparison cannot: out-of-order and too-late
events, whose values only the streaming stores define.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from featstream import agreement_features, stream

from abusedesk.detection.features import CompiledFeature, FeatureEngine, MemoryStore
from abusedesk.detection.features.engine import epoch_seconds
from abusedesk.detection.features.kinds import KINDS, Counted, in_window

LATENESS_S = 1800


class Oracle:
    """Lateness per (table, key): a table's watermark for a key is the newest second it counted
    for that key (a ratio keeps two tables, numerator and denominator, so two watermarks)."""

    def __init__(self, features: list[CompiledFeature], lateness_s: int) -> None:
        self.features = features
        self.lateness = lateness_s
        # feature name -> key -> its counted events
        self.counted: dict[str, dict[Any, list[Counted]]] = defaultdict(lambda: defaultdict(list))
        # (feature name, part: "where" or "over") -> key -> newest counted second
        self.watermark: dict[tuple[str, str], dict[Any, int]] = defaultdict(dict)
        self.dropped = 0  # events with an update too late for its key

    def observe(self, row: dict[str, Any]) -> dict[str, Any]:
        ts = epoch_seconds(row["ts"])
        dropped = False
        for f in self.features:
            dropped |= self._update(f, row, ts)
        self.dropped += dropped
        out: dict[str, Any] = {}
        for f in self.features:
            if f.spec.numerator is None:
                out[f.spec.name] = self._read(f, row, ts)
        for f in self.features:
            if f.spec.numerator is not None:
                num, den = out[f.spec.numerator], out[f.spec.denominator or ""]
                out[f.spec.name] = None if num is None or not den else num / den
        return out

    def _key(self, f: CompiledFeature, row: dict[str, Any]) -> Any:
        values = tuple(row.get(c) for c in f.spec.by)
        return None if None in values else values

    def _count(self, name: str, part: str, key: Any, ts: int) -> bool:
        """Whether a part's update counts (not too late for the key); moves its watermark."""
        marks = self.watermark[name, part]
        wm = marks.get(key)
        if wm is not None and ts < wm - self.lateness:
            return False
        marks[key] = ts if wm is None else max(wm, ts)
        return True

    def _update(self, f: CompiledFeature, row: dict[str, Any], ts: int) -> bool:
        """Counts the event; returns whether an update was dropped as too late."""
        spec, key = f.spec, self._key(f, row)
        if spec.numerator is not None or key is None or row["type"] not in spec.on:
            return False
        where = f.where_fn is None or f.where_fn(row) is True
        over = spec.kind == "ratio" and (f.over_fn is None or f.over_fn(row) is True)
        value = row.get(spec.of) if KINDS[spec.kind].argument and spec.of else None
        if KINDS[spec.kind].argument and value is None:
            return False
        counted_where = where and self._count(spec.name, "where", key, ts)
        counted_over = over and self._count(spec.name, "over", key, ts)
        if counted_where or counted_over:
            self.counted[spec.name][key].append(Counted(ts, counted_where, counted_over, value))
        return (where and not counted_where) or (over and not counted_over)

    def _read(self, f: CompiledFeature, row: dict[str, Any], ts: int) -> Any:
        spec, key = f.spec, self._key(f, row)
        if key is None:
            return None
        kind = KINDS[spec.kind]
        events = self.counted[spec.name][key]
        if not kind.windowed:
            return kind.meaning(events, ts)
        bucket_s, n = spec.bucket_s or 1, spec.n_buckets or 1
        # Too late for a part's watermark: only what a store still keeps is read, the buckets
        # from bucket(watermark - lateness) - n + 1 on (for an event in time that cuts nothing).
        lo = {}
        for part in ("where", "over"):
            wm = self.watermark[spec.name, part].get(key)
            lo[part] = None if wm is None else (wm - self.lateness) // bucket_s - n + 1
        kept = [
            Counted(
                e.ts,
                e.where and (lo["where"] is None or e.ts // bucket_s >= lo["where"]),
                e.over and (lo["over"] is None or e.ts // bucket_s >= lo["over"]),
                e.value,
            )
            for e in events
            if in_window(e.ts, ts, bucket_s, n)
        ]
        return kind.meaning(kept, ts)


def test_memory_store_follows_the_documented_semantics_on_a_disordered_stream() -> None:
    events = stream(1500, seed=31, days=1.5)
    features = agreement_features()
    engine = FeatureEngine(features, MemoryStore(lateness_s=LATENESS_S))
    oracle = Oracle(features, LATENESS_S)
    for row in events:
        want, have = oracle.observe(row), engine.observe(row)
        for name, value in want.items():
            assert _same(value, have[name]), (
                f"{row['id']} {row['ts']} {name}: {have[name]} != {value}"
            )
    assert engine.store.dropped_late == oracle.dropped > 0


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
