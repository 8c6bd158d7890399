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
    def __init__(self, features: list[CompiledFeature], lateness_s: int) -> None:
        self.features = features
        self.lateness = lateness_s
        self.watermark: int | None = None
        # feature name -> key -> its counted events
        self.counted: dict[str, dict[Any, list[Counted]]] = defaultdict(lambda: defaultdict(list))

    def observe(self, row: dict[str, Any]) -> dict[str, Any]:
        ts = epoch_seconds(row["ts"])
        self.watermark = ts if self.watermark is None else max(self.watermark, ts)
        late = ts < self.watermark - self.lateness
        if not late:
            for f in self.features:
                self._update(f, row, ts)
        out: dict[str, Any] = {}
        for f in self.features:
            if f.spec.numerator is None:
                out[f.spec.name] = self._read(f, row, ts, late)
        for f in self.features:
            if f.spec.numerator is not None:
                num, den = out[f.spec.numerator], out[f.spec.denominator or ""]
                out[f.spec.name] = None if num is None or not den else num / den
        return out

    def _key(self, f: CompiledFeature, row: dict[str, Any]) -> Any:
        values = tuple(row.get(c) for c in f.spec.by)
        return None if None in values else values

    def _update(self, f: CompiledFeature, row: dict[str, Any], ts: int) -> None:
        spec, key = f.spec, self._key(f, row)
        if spec.numerator is not None or key is None or row["type"] not in spec.on:
            return
        where = f.where_fn is None or f.where_fn(row) is True
        over = spec.kind == "ratio" and (f.over_fn is None or f.over_fn(row) is True)
        value = row.get(spec.of) if KINDS[spec.kind].argument and spec.of else None
        if (where or over) and (not KINDS[spec.kind].argument or value is not None):
            self.counted[spec.name][key].append(Counted(ts, where, over, value))

    def _read(self, f: CompiledFeature, row: dict[str, Any], ts: int, late: bool) -> Any:
        spec, key = f.spec, self._key(f, row)
        if key is None:
            return None
        kind = KINDS[spec.kind]
        events = self.counted[spec.name][key]
        if not kind.windowed:
            return kind.meaning(events, ts)
        bucket_s, n = spec.bucket_s or 1, spec.n_buckets or 1
        if late:  # only what a store still keeps is read
            assert self.watermark is not None
            lo = (self.watermark - self.lateness) // bucket_s - n + 1
            events = [e for e in events if e.ts // bucket_s >= lo]
        return kind.meaning([e for e in events if in_window(e.ts, ts, bucket_s, n)], ts)


def test_memory_store_follows_the_documented_semantics_on_a_disordered_stream() -> None:
    events = stream(1500, seed=31, days=1.5)
    features = agreement_features()
    engine = FeatureEngine(features, MemoryStore(lateness_s=LATENESS_S))
    oracle = Oracle(features, LATENESS_S)
    late = 0
    for row in events:
        want, have = oracle.observe(row), engine.observe(row)
        for name, value in want.items():
            assert _same(value, have[name]), (
                f"{row['id']} {row['ts']} {name}: {have[name]} != {value}"
            )
        late += oracle.watermark is not None and epoch_seconds(row["ts"]) < (
            oracle.watermark - LATENESS_S
        )
    assert late > 0
    assert 0 < engine.store.dropped_late <= late  # only those that had updates count


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
