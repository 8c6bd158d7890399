"""CompiledFeature: a feature declaration joined with its compiled filters, the one contract
between the rule compiler (rules/pack.py makes them) and the feature engine (which runs them).

The rule compiler turns a feature's `where`/`over` SQL text into Python callables over a row
(True/False/None, SQL semantics). This package never parses SQL itself; it takes the callables,
so the engine can be tested with plain lambdas and the compiler can change without touching it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from abusedesk.detection.spec import FeatureSpec

Filter = Callable[[Mapping[str, Any]], Any]
"""A compiled SQL boolean: True, False or None (unknown). Only True passes."""


class InlineFilter:
    """A filter that can also be written into generated code: `expression` is Python reading
    `row[name]` for each name of `columns` (the fast path's rows hold all of them, None where
    absent), true exactly when `fn(row) is True` would be, naming only the constants in
    `consts` (names unique to this filter). The fast path (fastpath.py) inlines it instead of
    calling `fn`; everything else calls it like any filter."""

    __slots__ = ("columns", "consts", "expression", "fn")

    def __init__(
        self, fn: Filter, expression: str, consts: dict[str, Any], columns: frozenset[str]
    ) -> None:
        self.fn = fn
        self.expression = expression
        self.consts = consts
        self.columns = columns

    def __call__(self, row: Mapping[str, Any]) -> Any:
        return self.fn(row)


@dataclass(frozen=True, slots=True)
class CompiledFeature:
    """`spec` plus its compiled filters. None means "no filter": every event of `on` passes.

    `where_fn` decides whether an event (already of a type in `spec.on`) updates the feature
    (for a ratio: its numerator); `over_fn` is a ratio's denominator filter. Only True passes.
    Features with equal filter texts may share one function (the fast path then runs it once
    an event)."""

    spec: FeatureSpec
    where_fn: Filter | None = None
    over_fn: Filter | None = None

    def __post_init__(self) -> None:
        spec = self.spec
        if spec.where is not None and self.where_fn is None:
            raise ValueError(f"feature {spec.name!r} declares `where` but no where_fn was given")
        if spec.over is not None and self.over_fn is None:
            raise ValueError(f"feature {spec.name!r} declares `over` but no over_fn was given")

    @property
    def is_derived(self) -> bool:
        """A ratio of two other features: computed from their values, holds no state."""
        return self.spec.kind == "ratio" and self.spec.numerator is not None
