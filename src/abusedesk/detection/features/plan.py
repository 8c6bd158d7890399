"""Features -> tables, key groups and, per event type, the steps that update them and the reads.

Done once at engine construction so that observe() only runs precomputed lists: per event type
the updates that may apply, the reads, and per feature read how to turn raw store values into
its value. By default every type reads every feature; given read sets per type, a type reads
only its set (closed over the parts of ratios of features, whose values are computed from them).

Reads are not free of effects: a read moves its table's head (windows.py), and float sums are
recomputed when a head moves, so the generic path, the generated fast path and the Redis script
must all use this one plan's reads per type to keep every value identical between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from abusedesk.detection.features.compiled import CompiledFeature, Filter
from abusedesk.detection.features.kinds import KINDS, RATIO
from abusedesk.detection.features.store import Read, TableSpec, Update
from abusedesk.detection.spec import FeatureSpec


@dataclass(frozen=True, slots=True)
class Step:
    """Update `table` for key group `group` when `where` passes. `of` names the field whose
    value is the argument (sum, distinct); without it `op` is the prebuilt update. `feature`
    and `condition` (the filter's SQL text) name what the step implements, for generated code."""

    table: int
    group: int
    where: Filter | None
    of: str | None
    op: Update
    feature: str = ""
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """What an event of one type reads, in feature order: the store reads, how each feature's
    value comes out of them, and the ratios of features computed from those values."""

    names: frozenset[str]
    reads: tuple[Read, ...]
    outputs: tuple[tuple[str, int, int], ...]  # (feature, value code, index of first read)
    derived: tuple[tuple[str, str, str], ...]  # (feature, numerator, denominator), in order


@dataclass(frozen=True, slots=True)
class Plan:
    tables: tuple[TableSpec, ...]
    groups: tuple[tuple[str, ...], ...]
    steps: dict[str, tuple[Step, ...]]
    reading: dict[str, Reading]  # per event type given a read set
    other: Reading  # every other type

    def reading_for(self, event_type: str) -> Reading:
        return self.reading.get(event_type, self.other)


def build_plan(
    features: Sequence[CompiledFeature],
    reads_by_type: Mapping[str, Iterable[str]] | None = None,
    reads_other: Iterable[str] | None = None,
) -> Plan:
    """`reads_by_type` None: every type reads every feature. Else a type reads its set, and a
    type not in it reads `reads_other` (None: every feature)."""
    names = [f.spec.name for f in features]
    if len(set(names)) != len(names):
        raise ValueError(f"feature names must be unique: {sorted(names)}")
    tables: list[TableSpec] = []
    groups: list[tuple[str, ...]] = []
    steps: dict[str, list[Step]] = {}
    reads: list[Read] = []
    outputs: list[tuple[str, int, int]] = []
    for feature in features:
        spec = feature.spec
        if feature.is_derived:
            continue
        _check(spec)
        if spec.by not in groups:
            groups.append(spec.by)
        group = groups.index(spec.by)
        outputs.append((spec.name, KINDS[spec.kind].value, len(reads)))
        for suffix, where, condition, of in _parts(feature):
            table = len(tables)
            tables.append(replace(_table_spec(spec, spec.name + suffix), group=group))
            reads.append((table, group))
            step = Step(table, group, where, of, (table, group, 1), spec.name, condition)
            for event_type in spec.on:
                steps.setdefault(event_type, []).append(step)
    everything = Reading(
        frozenset(names), tuple(reads), tuple(outputs), _derived_in_order(features)
    )
    specs = [f.spec for f in features]

    def reading(wanted: Iterable[str] | None) -> Reading:
        return everything if wanted is None else _subset(everything, with_parts(wanted, specs))

    return Plan(
        tables=tuple(tables),
        groups=tuple(groups),
        steps={t: tuple(s) for t, s in steps.items()},
        reading={t: reading(wanted) for t, wanted in (reads_by_type or {}).items()},
        other=reading(None if reads_by_type is None else reads_other),
    )


def with_parts(names: Iterable[str], specs: Iterable[FeatureSpec]) -> frozenset[str]:
    """`names` and, recursively, the numerator and denominator of each ratio of features among
    them: the values a ratio of features is computed from must be read with it."""
    parts = {s.name: (s.numerator, s.denominator) for s in specs}
    out: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in out:
            continue
        if name not in parts:
            raise ValueError(f"a read set names an unknown feature {name!r}")
        out.add(name)
        pending += [part for part in parts[name] if part is not None]
    return frozenset(out)


def _subset(everything: Reading, names: frozenset[str]) -> Reading:
    """The reads, outputs and derived ratios of `everything` for `names` only, same order."""
    reads: list[Read] = []
    outputs: list[tuple[str, int, int]] = []
    for name, code, i in everything.outputs:
        if name in names:
            outputs.append((name, code, len(reads)))
            reads += everything.reads[i : i + (2 if code == RATIO else 1)]
    derived = tuple(d for d in everything.derived if d[0] in names)
    return Reading(names, tuple(reads), tuple(outputs), derived)


def _parts(
    feature: CompiledFeature,
) -> list[tuple[str, Filter | None, str | None, str | None]]:
    """(table-name suffix, filter, its text, argument field) for each table the feature keeps:
    the numerator's with `where`, a ratio's denominator's with `over`."""
    spec = feature.spec
    kind = KINDS[spec.kind]
    of = spec.of if kind.argument else None
    filters = [(feature.where_fn, spec.where), (feature.over_fn, spec.over)]
    return [(suffix, fn, text, of) for suffix, (fn, text) in zip(kind.parts, filters, strict=False)]


def _table_spec(spec: FeatureSpec, name: str) -> TableSpec:
    kind = KINDS[spec.kind]
    if not kind.windowed:
        return TableSpec(name, kind.table)
    bucket_s, n = spec.bucket_s, spec.n_buckets
    assert bucket_s is not None  # checked by _check
    assert n is not None
    return TableSpec(name, kind.table, bucket_s, n, integer=kind.integer)


def _check(spec: FeatureSpec) -> None:
    kind = KINDS.get(spec.kind)
    if kind is None:
        raise ValueError(f"feature {spec.name!r}: unknown kind {spec.kind!r}")
    if kind.windowed and spec.window_s is None:
        raise ValueError(f"feature {spec.name!r}: a {spec.kind} needs a window")
    if kind.argument and not spec.of:
        raise ValueError(f"feature {spec.name!r}: a {spec.kind} needs `of`")
    if not spec.on:
        raise ValueError(f"feature {spec.name!r}: `on` names no event type")


def _derived_in_order(features: Sequence[CompiledFeature]) -> tuple[tuple[str, str, str], ...]:
    """Derived ratios ordered so that one built on another comes after it; cycles rejected."""
    known = {f.spec.name for f in features}
    pending: dict[str, tuple[str, str]] = {}
    for feature in features:
        if feature.is_derived:
            spec = feature.spec
            if spec.denominator is None or spec.numerator is None:
                raise ValueError(f"feature {spec.name!r}: a ratio of features needs both parts")
            for part in (spec.numerator, spec.denominator):
                if part not in known:
                    raise ValueError(f"feature {spec.name!r} refers to unknown feature {part!r}")
            pending[spec.name] = (spec.numerator, spec.denominator)
    ordered: list[tuple[str, str, str]] = []
    while pending:
        ready = [n for n, parts in pending.items() if not any(p in pending for p in parts)]
        if not ready:
            raise ValueError(f"ratio features refer to each other in a cycle: {sorted(pending)}")
        for name in ready:
            ordered.append((name, *pending.pop(name)))
    return tuple(ordered)
