"""A rule pack end to end: load -> analyze -> compile, and the compiled pack the engines run.

`CompiledPack.load` only returns a pack without errors (else PackInvalid), so a half-valid pack
never reaches the streaming engine. It holds one compiled `when` per rule and, per feature, the
feature engine's CompiledFeature (features/compiled.py) with its `where`/`over` compiled.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abusedesk.detection.features.compiled import CompiledFeature, InlineFilter
from abusedesk.detection.rules.compile import (
    CompiledExpression,
    Row,
    compile_checked,
    condition_source,
    generated_function,
)
from abusedesk.detection.rules.diagnostics import Diagnostic
from abusedesk.detection.rules.expressions import Checked
from abusedesk.detection.rules.lint import Analysis, analyze
from abusedesk.detection.rules.load import LoadedPack, load, load_text
from abusedesk.detection.rules.names import MODEL_SCORES
from abusedesk.detection.spec import FeatureSpec, RulePack, RuleSpec
from abusedesk.errors import InputError
from abusedesk.events.schema import EVENT_TYPES


class PackInvalid(InputError):  # noqa: N818 - reads as a verdict, like EventInvalid
    """A pack with errors was given to the compiler; `diagnostics` says what is wrong."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0].message if errors else "invalid pack"
        super().__init__(
            f"rule pack has {len(errors)} error(s), first: {first}",
            details=[d.to_dict() for d in errors],
        )
        self.diagnostics = diagnostics


class RuleFailed(InputError):  # noqa: N818 - reads as a verdict
    """A rule raised on a row (a value of the wrong type: the row did not match the schema)."""


def analyze_path(path: Path, models: Mapping[str, str] = MODEL_SCORES) -> Analysis:
    return analyze(load(path), models)


def load_pack_text(text: str, file: str = "<pack>") -> Analysis:
    """Analyze a pack given as text (API uploads, tests)."""
    return analyze(load_text(text, file))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    spec: RuleSpec
    condition: CompiledExpression

    @property
    def live(self) -> bool:
        return self.spec.mode == "live"


class CompiledPack:
    """Every expression of a valid pack compiled once, ready to run many times."""

    __slots__ = (
        "_by_type",
        "_matchers",
        "_pairs",
        "columns",
        "features",
        "pack",
        "rule_types",
        "rules",
    )

    def __init__(
        self, pack: RulePack, features: dict[str, CompiledFeature], rules: tuple[CompiledRule, ...]
    ) -> None:
        self.pack = pack
        self.features = features
        self.rules = rules
        # (spec, test) pairs: the hot loop in `match` avoids two attribute lookups per rule.
        self._pairs = tuple((rule.spec, rule.condition.test) for rule in rules)
        # Rules whose `when` requires `type = '…'` (or `type IN (…)`) at its top level cannot
        # match other types; skipping them is exact and saves most of the rule time.
        admits = [event_types(rule.spec.when) for rule in rules]
        # Per rule id, the event types it can match (None: any); the feature engine reads, per
        # type, only what these rules can use (detection/feature_reads.py).
        self.rule_types = {rule.spec.id: types for rule, types in zip(rules, admits, strict=True)}
        self._by_type = {
            etype: tuple(
                pair
                for pair, types in zip(self._pairs, admits, strict=True)
                if types is None or etype in types
            )
            for etype in EVENT_TYPES
        }
        # Per type, one generated function that tests its rules in order on full rows (every
        # name of `columns`, see matcher()): one call an event instead of one per rule (the
        # per-rule loop stays, for any row and to name a rule that fails).
        admitted = {
            etype: [
                rule
                for rule, types in zip(rules, admits, strict=True)
                if types is None or etype in types
            ]
            for etype in EVENT_TYPES
        }
        self._matchers = {etype: _matcher(chosen, etype) for etype, chosen in admitted.items()}
        # Every name a rule reads: what a full row must hold.
        self.columns: frozenset[str] = frozenset().union(
            *(rule.condition.references for rule in rules)
        )

    @classmethod
    def from_analysis(cls, analysis: Analysis) -> CompiledPack:
        if not analysis.ok:
            raise PackInvalid(analysis.diagnostics)
        pack = analysis.pack
        # One filter per distinct text: the generated fast path runs each distinct filter once
        # an event (six playbook features count only `direction = 'outbound'`). Filters are
        # pure functions of the row, so sharing them is exact.
        filters: dict[str, InlineFilter] = {}

        def compiled(spec: FeatureSpec, part: str) -> InlineFilter | None:
            text = spec.where if part == "where" else spec.over
            checked = analysis.features.get((spec.name, part))
            if text is None or checked is None:
                return None
            if text not in filters:
                filters[text] = _filter(checked)
            return filters[text]

        features = {
            spec.name: CompiledFeature(spec, compiled(spec, "where"), compiled(spec, "over"))
            for spec in pack.features
        }
        rules = tuple(
            CompiledRule(rule, compile_checked(analysis.rules[rule.id])) for rule in pack.rules
        )
        return cls(pack, features, rules)

    @classmethod
    def from_pack(cls, pack: RulePack, models: Mapping[str, str] = MODEL_SCORES) -> CompiledPack:
        """Check and compile a RulePack built in code (positions are then within each string)."""
        return cls.from_analysis(analyze(LoadedPack(pack, [], {}), models))

    @classmethod
    def load(cls, path: Path) -> CompiledPack:
        return cls.from_analysis(analyze_path(path))

    def match(self, row: Row) -> list[RuleSpec]:
        """Every rule (live and shadow) whose `when` is TRUE for the row, in pack order.
        Raises RuleFailed, naming the rule, on a row of the wrong shape."""
        return self._match_each(row)

    def matcher(self, event_type: str) -> Callable[[Row], list[RuleSpec]]:
        """match() for full rows of one event type: rows that hold every name of `columns`
        (None where a value is absent), as the detection engine builds them. The rules then
        read `row[name]`, cheaper than a `get` call; a row missing a name raises KeyError, a
        row of the wrong shape TypeError, AttributeError or ValueError (match() of that row
        then names the rule)."""
        return self._matchers.get(event_type) or self._match_each

    def source(self, event_type: str) -> str:
        """The generated matcher of an event type (`abusedesk rules explain`)."""
        return _matcher_source(self.rules, event_type)[0]

    def _match_each(self, row: Row) -> list[RuleSpec]:
        matched: list[RuleSpec] = []
        spec: RuleSpec | None = None
        etype = row.get("type")
        pairs = self._by_type.get(etype, self._pairs) if isinstance(etype, str) else self._pairs
        try:
            for spec, test in pairs:
                if test(row):
                    matched.append(spec)
        except (TypeError, AttributeError, ValueError) as exc:
            rule = spec.id if spec else "?"
            raise RuleFailed(f"rule `{rule}` failed on this row: {exc}") from exc
        return matched

    def values(self, row: Row) -> dict[str, Any]:
        """Each rule's SQL value (True / False / None) for the row: for traces and explanations."""
        return {rule.spec.id: rule.condition.evaluate(row) for rule in self.rules}


def _matcher(rules: list[CompiledRule], event_type: str) -> Callable[[Row], list[RuleSpec]]:
    source, consts = _matcher_source(rules, event_type)
    matcher: Callable[[Row], list[RuleSpec]] = generated_function(source, "_match", consts)
    return matcher


def _matcher_source(rules: Iterable[CompiledRule], event_type: str) -> tuple[str, dict[str, Any]]:
    """The rules' tests for full rows of `event_type`, in order, as one function. Their tests
    of `type` are decided as it is generated (most rules start `type = '…' AND`); a rule that
    cannot match the type is left out. Each test is headed by its rule's id, as a comment."""
    lines = ["def _match(row):", f"    # rules for events of type {event_type!r}", "    out = []"]
    consts: dict[str, Any] = {}
    for i, rule in enumerate(rules):
        expression, names = condition_source(
            rule.condition.checked, f"r{i}_", event_type, full_rows=True
        )
        if expression == "False":
            continue
        consts.update(names)
        consts[f"RULE_{i}"] = rule.spec
        lines.append(f"    # rule {rule.spec.id!r}: {' '.join(rule.spec.when.split())!r}")
        if expression == "True":
            lines.append(f"    out.append(RULE_{i})")
        else:
            lines += [f"    if {expression}:", f"        out.append(RULE_{i})"]
    lines.append("    return out")
    return "\n".join(lines), consts


_serial = itertools.count()


def _filter(checked: Checked) -> InlineFilter:
    """A feature filter: the compiled test, with its source for the fast path to inline."""
    expression, consts = condition_source(checked, f"f{next(_serial)}_", full_rows=True)
    return InlineFilter(compile_checked(checked).test, expression, consts, checked.references)


def event_types(when: str) -> frozenset[str] | None:
    """The event types a `when` can match, from a top-level `type = '…'` or `type IN (…)`
    conjunct; None when it does not say (the rule is tried on every type)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(when, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    conjuncts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    for node in conjuncts:
        if isinstance(node, exp.Paren):
            node = node.unnest()  # noqa: PLW2901 - look through the brackets
        if (
            isinstance(node, exp.EQ)
            and isinstance(node.this, exp.Column)
            and node.this.name == "type"
            and isinstance(node.expression, exp.Literal)
            and node.expression.is_string
        ):
            return frozenset({node.expression.this})
        if (
            isinstance(node, exp.In)
            and isinstance(node.this, exp.Column)
            and node.this.name == "type"
            and all(isinstance(e, exp.Literal) and e.is_string for e in node.expressions)
        ):
            return frozenset(e.this for e in node.expressions)
    return None
