"""Features -> tables, key groups and, per event type, the steps that update them.

Done once at engine construction so that observe() only runs precomputed lists: per event type
the updates that may apply, for every event the reads, and per feature how to turn raw store
values into its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from abusedesk.detection.features.compiled import CompiledFeature, Filter
from abusedesk.detection.features.store import Read, TableKind, TableSpec, Update
from abusedesk.detection.spec import FeatureSpec

# How a feature's value is made from its raw read(s).
PLAIN: Final = 0  # count, distinct: the read as is
SUM: Final = 1  # float of the read
RATIO: Final = 2  # read i / read i+1, None when the denominator is 0
AGE: Final = 3  # hours from the first-seen second to the event's second

_KIND_CODE: Final = {"count": PLAIN, "distinct": PLAIN, "sum": SUM, "ratio": RATIO, "age": AGE}


@dataclass(frozen=True, slots=True)
class Step:
    """Update `table` for key group `group` when `where` passes. `of` names the field whose
    value is the argument (sum, distinct); without it `op` is the prebuilt update."""

    table: int
    group: int
    where: Filter | None
    of: str | None
    op: Update


@dataclass(frozen=True, slots=True)
class Plan:
    tables: tuple[TableSpec, ...]
    groups: tuple[tuple[str, ...], ...]
    steps: dict[str, tuple[Step, ...]]
    reads: tuple[Read, ...]
    outputs: tuple[tuple[str, int, int], ...]  # (feature, value code, index of first read)
    derived: tuple[tuple[str, str, str], ...]  # (feature, numerator, denominator), in order


def build_plan(features: Sequence[CompiledFeature]) -> Plan:
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
        outputs.append((spec.name, _KIND_CODE[spec.kind], len(reads)))
        for suffix, where, of in _parts(feature):
            table = len(tables)
            tables.append(replace(_table_spec(spec, spec.name + suffix), group=group))
            reads.append((table, group))
            step = Step(table, group, where, of, (table, group, 1))
            for event_type in spec.on:
                steps.setdefault(event_type, []).append(step)
    return Plan(
        tables=tuple(tables),
        groups=tuple(groups),
        steps={t: tuple(s) for t, s in steps.items()},
        reads=tuple(reads),
        outputs=tuple(outputs),
        derived=_derived_in_order(features),
    )


def _parts(feature: CompiledFeature) -> list[tuple[str, Filter | None, str | None]]:
    """(table-name suffix, filter, argument field) for each table the feature keeps."""
    spec = feature.spec
    if spec.kind == "ratio":
        return [(".num", feature.where_fn, None), (".den", feature.over_fn, None)]
    of = spec.of if spec.kind in ("sum", "distinct") else None
    return [("", feature.where_fn, of)]


def _table_spec(spec: FeatureSpec, name: str) -> TableSpec:
    if spec.kind == "age":
        return TableSpec(name, "age")
    bucket_s, n = spec.bucket_s, spec.n_buckets
    assert bucket_s is not None  # checked by _check
    assert n is not None
    kind: TableKind = "distinct" if spec.kind == "distinct" else "window"
    return TableSpec(name, kind, bucket_s, n, integer=spec.kind in ("count", "ratio"))


def _check(spec: FeatureSpec) -> None:
    if spec.kind != "age" and spec.window_s is None:
        raise ValueError(f"feature {spec.name!r}: a {spec.kind} needs a window")
    if spec.kind in ("sum", "distinct") and not spec.of:
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
