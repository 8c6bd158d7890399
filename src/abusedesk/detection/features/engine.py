"""FeatureEngine: one event in, the values of the features its type reads out.

Per event: compute the key of each `by` group, run the update steps planned for the event's
type (filters decide which apply), hand the batch to the store, then turn raw reads into
values. Updates come before reads, so an event counts itself. Time is whole epoch seconds.

By default every event reads every feature. Given read sets per event type (the detection
engine passes what its rules can use, see detection/feature_reads.py), an event reads only its
type's set: most of the feature cost is reads, and a delivery reads 11 of the playbook's 51.

That generic path works with any FeatureStore (one store call per event, or per batch with
observe_many). With a MemoryStore the engine instead runs the code fastpath.py generates from
the same plan, several times faster; tests check the two give identical values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from abusedesk.detection.features.compiled import CompiledFeature, Filter
from abusedesk.detection.features.fastpath import FastPath, Write
from abusedesk.detection.features.kinds import AGE, PLAIN, RATIO, SUM
from abusedesk.detection.features.memory import MemoryStore
from abusedesk.detection.features.plan import Reading, Step, build_plan
from abusedesk.detection.features.store import EventOps, FeatureStore, Key, Read, Update

_Steps = tuple[tuple[int, int, Filter | None, str | None, Update], ...]
_Outputs = tuple[tuple[str, int, int], ...]
_Derived = tuple[tuple[str, str, str], ...]
_Work = tuple[_Steps, tuple[Read, ...], _Outputs, _Derived]


class FeatureEngine:
    """`fast` (default) uses the generated hot path when the store is a MemoryStore.

    `reads_by_type` None: every event reads every feature. Else an event reads the set of its
    type (closed over the parts of ratios of features), and a type not in the mapping reads
    `reads_other` (None: every feature). Updates do not depend on it.
    """

    def __init__(
        self,
        features: Sequence[CompiledFeature],
        store: FeatureStore,
        *,
        fast: bool = True,
        reads_by_type: Mapping[str, Iterable[str]] | None = None,
        reads_other: Iterable[str] | None = None,
    ) -> None:
        self.features = tuple(features)
        self.store = store
        plan = build_plan(self.features, reads_by_type, reads_other)
        self.plan = plan
        store.bind(plan.tables)
        # Per event type, everything the generic path needs, found with one lookup.
        self._by_type = {
            event_type: _work(plan.steps.get(event_type, ()), plan.reading_for(event_type))
            for event_type in {*plan.steps, *plan.reading}
        }
        self._other = _work((), plan.other)
        # Single-column groups read the value directly (most features key on one column).
        self._groups = tuple((cols[0] if len(cols) == 1 else None, cols) for cols in plan.groups)
        self._writers: dict[str, Write] = {}
        self._writer_other: Write = self._write_generic
        # The names a row given to a writer() must hold.
        self.full_row_columns: frozenset[str] = frozenset()
        self._in_process = fast and isinstance(store, MemoryStore)
        # The generated code per event type (None: other types), for `abusedesk rules explain`;
        # empty without a fast path.
        self.sources: dict[str | None, str] = {}
        if self._in_process:
            assert isinstance(store, MemoryStore)
            path = FastPath(plan, store)
            self.sources = path.sources
            self._writers, self._writer_other = path.writers, path.writer_other
            self.full_row_columns = frozenset(path.columns)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.spec.name for f in self.features)

    def reads_for(self, event_type: str) -> frozenset[str]:
        """The features an event of this type reads (the keys of what observe() returns)."""
        return self.plan.reading_for(event_type).names

    def observe(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Update the state with `row` and return {feature: value} as seen by this event.
        (The detection engine uses writer() on full rows; this copies the row into one.)"""
        if not self._in_process:
            return self._observe_generic(row)
        full = dict.fromkeys(self.full_row_columns)
        full.update(row)
        event_type = row["type"]
        self.writer(event_type)(full)
        return {name: full[name] for name in self.read_names(event_type)}

    def writer(self, event_type: str) -> Write:
        """observe() for full rows of one event type, writing the values into the row
        (under the names of read_names(event_type)) instead of returning them. A full row
        holds every name of `full_row_columns`, None where a value is absent; the writer reads
        them as row[name], a third of the cost of a `get` call. That is a precondition, not a
        check: a row missing one raises KeyError, possibly after some of its updates.
        DetectionEngine builds every row from such a template."""
        return self._writers.get(event_type, self._writer_other)

    def read_names(self, event_type: str) -> tuple[str, ...]:
        """The features an event of this type reads, in the order observe() returns them."""
        reading = self.plan.reading_for(event_type)
        return tuple(name for name, _, _ in reading.outputs) + tuple(
            name for name, _, _ in reading.derived
        )

    def _write_generic(self, row: dict[str, Any]) -> None:
        row.update(self._observe_generic(row))

    def _observe_generic(self, row: Mapping[str, Any]) -> dict[str, Any]:
        steps, reads, outputs, derived = self._by_type.get(row["type"], self._other)
        ts, keys, updates = self._prepare(row, steps)
        raw = self.store.apply(ts, keys, updates, reads)
        return self._values(ts, raw, outputs, derived)

    def observe_many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """observe() for each row in order, with the store doing the batch in one go."""
        if self._in_process:  # nothing to batch in process: the fast path is per event
            return [self.observe(row) for row in rows]
        batch: list[EventOps] = []
        values: list[tuple[_Outputs, _Derived]] = []
        for row in rows:
            steps, reads, outputs, derived = self._by_type.get(row["type"], self._other)
            ts, keys, updates = self._prepare(row, steps)
            batch.append((ts, keys, updates, reads))
            values.append((outputs, derived))
        results = self.store.apply_many(batch)
        return [
            self._values(ops[0], raw, *how)
            for ops, raw, how in zip(batch, results, values, strict=True)
        ]

    def _prepare(
        self, row: Mapping[str, Any], steps: _Steps
    ) -> tuple[int, list[Key | None], list[Update]]:
        ts = epoch_seconds(row["ts"])
        keys: list[Key | None] = []
        for col, cols in self._groups:
            if col is not None:
                keys.append(row.get(col))
            else:
                values = tuple(row.get(c) for c in cols)
                keys.append(None if None in values else values)
        updates: list[Update] = []
        for table, group, where, of, op in steps:
            if keys[group] is None or (where is not None and where(row) is not True):
                continue
            if of is None:
                updates.append(op)
            else:
                value = row.get(of)
                if value is not None:
                    updates.append((table, group, value))
        return ts, keys, updates

    @staticmethod
    def _values(ts: int, raw: list[Any], outputs: _Outputs, derived: _Derived) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, code, i in outputs:
            value = raw[i]
            if code == PLAIN or value is None:
                out[name] = value
            elif code == SUM:
                out[name] = float(value)
            elif code == RATIO:
                den = raw[i + 1]
                out[name] = value / den if den else None
            elif code == AGE:
                out[name] = (ts - value) / 3600 if value <= ts else None
        for name, num_name, den_name in derived:
            num, den = out[num_name], out[den_name]
            out[name] = None if num is None or not den else num / den
        return out


def _work(steps: tuple[Step, ...], reading: Reading) -> _Work:
    return (
        tuple((s.table, s.group, s.where, s.of, s.op) for s in steps),
        reading.reads,
        reading.outputs,
        reading.derived,
    )


def epoch_seconds(ts: datetime) -> int:
    """Whole UTC epoch seconds (floor), the unit of buckets everywhere."""
    if ts.tzinfo is None:
        raise ValueError("event ts must be timezone-aware (UTC)")
    seconds = ts.timestamp()
    whole = int(seconds)
    return whole - 1 if whole > seconds else whole
