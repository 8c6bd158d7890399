"""Whole-pack checks: names, expressions, feature wiring, test rows, and the advisory warnings.

The loader checked each entry's shape; this stage knows the whole pack (every feature of every
file), so it is where a rule's `when` meets the namespace and a feature's `by` meets the fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from abusedesk.detection.rules.diagnostics import (
    Diagnostic,
    error,
    sort_key,
    suggestion_hint,
    warning,
)
from abusedesk.detection.rules.expressions import Checked, check_expression
from abusedesk.detection.rules.kinds import describe_kind
from abusedesk.detection.rules.load import LoadedPack
from abusedesk.detection.rules.names import (
    FIELD_TYPES,
    MODEL_SCORES,
    Kind,
    Namespace,
    base_namespace,
)
from abusedesk.detection.rules.source import ExprSite
from abusedesk.detection.spec import FeatureSpec, RulePack, RuleSpec, Span
from abusedesk.events.schema import EVENT_TYPES, FIELDS


@dataclass(slots=True)
class Analysis:
    """A pack after every check; `checked` expressions are reused by the compiler."""

    loaded: LoadedPack
    namespace: Namespace
    diagnostics: list[Diagnostic]
    rules: dict[str, Checked] = field(default_factory=dict)  # rule id -> `when`
    features: dict[tuple[str, str], Checked] = field(default_factory=dict)  # (name, where|over)

    @property
    def pack(self) -> RulePack:
        return self.loaded.pack

    @property
    def sources(self) -> dict[str, str]:
        return self.loaded.sources

    @property
    def ok(self) -> bool:
        return not any(diag.is_error for diag in self.diagnostics)


def analyze(loaded: LoadedPack, models: Mapping[str, str] = MODEL_SCORES) -> Analysis:
    base = base_namespace(models)
    pack = loaded.pack
    namespace = base.with_features(f for f in pack.features if f.name not in base)
    result = Analysis(loaded, namespace, list(loaded.diagnostics))
    diags = result.diagnostics
    for spec in pack.features:
        _check_feature(result, spec, base)
    for rule in pack.rules:
        source = loaded.rules.get(rule.id)
        site = source.site if source else ExprSite.bare(rule.when)
        checked = check_expression(rule.when, namespace, site=site)
        result.rules[rule.id] = checked
        diags.extend(checked.diagnostics)
        diags.extend(_check_tests(rule, namespace, loaded))
        diags.extend(_advice(rule, loaded))
    diags.extend(_unused_features(pack, result.rules.values()))
    diags.sort(key=sort_key)
    return result


def _check_feature(result: Analysis, spec: FeatureSpec, base: Namespace) -> None:
    diags = result.diagnostics
    source = result.loaded.features.get(spec.name)
    spans = source.spans if source else {}
    if spec.name in base:
        diags.append(
            error(
                "name-clash",
                f"feature `{spec.name}` has the name of {base[spec.name].origin} `{spec.name}`",
                spec.span,
                "rename the feature; a rule could not tell the two apart",
            )
        )
    for i, key in enumerate(spec.by):
        kind = _row_name(diags, base, key, spans.get(f"by.{i}", spec.span), "a `by` key")
        if kind in ("strlist", "timestamp"):
            diags.append(
                error(
                    "bad-feature",
                    f"`{key}` is {describe_kind(kind)} and cannot be a `by` key",
                    spans.get(f"by.{i}", spec.span),
                )
            )
    if spec.of is not None:
        at = spans.get("of", spec.span)
        kind = _row_name(diags, base, spec.of, at, f"the field of `{spec.kind}`")
        if spec.kind == "sum" and kind not in (None, "int", "num"):
            diags.append(
                error(
                    "bad-feature", f"`sum` needs a number; `{spec.of}` is {describe_kind(kind)}", at
                )
            )
        if spec.kind == "distinct" and kind == "strlist":
            diags.append(
                error("bad-feature", f"`distinct` needs single values; `{spec.of}` is a list", at)
            )
    refs: set[str] = {*spec.by, *([spec.of] if spec.of else [])}
    for role, text in (("where", spec.where), ("over", spec.over)):
        if text is None:
            continue
        key = "ratio" if role == "where" and spec.kind == "ratio" else role
        site = source.sites.get(role) if source else None
        checked = check_expression(
            text,
            result.namespace,
            site=site or ExprSite.bare(text),
            features_allowed=False,
            what=f"`{key}` filter",
        )
        result.features[(spec.name, role)] = checked
        diags.extend(checked.diagnostics)
        refs |= checked.references
    diags.extend(_fields_not_on_types(spec, refs))


def _row_name(
    diags: list[Diagnostic], base: Namespace, name: str, at: Span | None, what: str
) -> Kind | None:
    entry = base.get(name)
    if entry is None:
        diags.append(
            error(
                "unknown-name",
                f"unknown field `{name}` as {what}",
                at,
                suggestion_hint(name, list(base)),
            )
        )
        return None
    return entry.kind


def _fields_not_on_types(spec: FeatureSpec, refs: set[str]) -> list[Diagnostic]:
    """Event fields that none of the feature's event types carry: always NULL there."""
    if not spec.on:
        return []
    out = []
    for name in sorted(refs):
        types = FIELD_TYPES.get(name)
        if types is None or set(types) & set(spec.on):
            continue
        out.append(
            warning(
                "field-not-on-type",
                f"feature `{spec.name}` reads `{name}`, which {', '.join(spec.on)} events "
                f"do not have (it is a field of {', '.join(types)})",
                spec.span,
                "it is always NULL there, so the feature never counts anything",
            )
        )
    return out


def _advice(rule: RuleSpec, loaded: LoadedPack) -> list[Diagnostic]:
    source = loaded.rules.get(rule.id)
    spans = source.spans if source else {}
    out = []
    if rule.mode == "live" and rule.verdict == "block" and rule.severity == "low":
        out.append(
            warning(
                "block-low-severity",
                f"rule `{rule.id}` blocks live traffic at severity low",
                spans.get("severity", rule.span),
                "raise the severity, lower the verdict to review/hold, or run it in shadow mode",
            )
        )
    if not rule.tests:
        out.append(
            warning(
                "no-tests",
                f"rule `{rule.id}` has no tests",
                spans.get("id", rule.span),
                "add `tests:` with a `given` row that should match and one that should not",
            )
        )
    return out


def _unused_features(pack: RulePack, checked: Iterable[Checked]) -> list[Diagnostic]:
    used: set[str] = set()
    for item in checked:
        used |= item.references
    by_name = {spec.name: spec for spec in pack.features}
    pending = [name for name in used if name in by_name]
    while pending:  # a used ratio_of uses its two parts
        spec = by_name[pending.pop()]
        for part in (spec.numerator, spec.denominator):
            if part and part in by_name and part not in used:
                used.add(part)
                pending.append(part)
    return [
        warning(
            "unused-feature",
            f"feature `{spec.name}` is not used by any rule",
            spec.span,
            "remove it, or use it in a rule's `when`: every feature costs memory per key",
        )
        for spec in pack.features
        if spec.name not in used
    ]


# -- test rows -------------------------------------------------------------------------------

_PY_KINDS: Final[dict[str, tuple[type, ...]]] = {
    "str": (str,),
    "int": (int,),
    "num": (int, float),
    "bool": (bool,),
    "timestamp": (datetime,),
}


def _choices() -> dict[str, frozenset[str]]:
    """Allowed values per field name, when every type that has the field restricts them."""
    found: dict[str, set[str] | None] = {}
    for fields in FIELDS.values():
        for spec in fields:
            if spec.name in found and found[spec.name] is None:
                continue
            if spec.choices is None:
                found[spec.name] = None
            else:
                found[spec.name] = (found.get(spec.name) or set()) | set(spec.choices)
    return {name: frozenset(values) for name, values in found.items() if values is not None}


CHOICES: Final = {**_choices(), "type": frozenset(EVENT_TYPES)}


def _check_tests(rule: RuleSpec, namespace: Namespace, loaded: LoadedPack) -> list[Diagnostic]:
    source = loaded.rules.get(rule.id)
    out: list[Diagnostic] = []
    for number, test in enumerate(rule.tests):
        spans = source.given[number] if source and number < len(source.given) else {}
        for name, value in test.row.items():
            key_at, value_at = spans.get(name, (test.span, test.span))
            entry = namespace.get(name)
            where = f"`given` of {test.name} of rule `{rule.id}`"
            if entry is None:
                hint = suggestion_hint(name, list(namespace))
                out.append(error("bad-test", f"unknown name `{name}` in {where}", key_at, hint))
                continue
            problem = _value_problem(name, entry.kind, value)
            if problem:
                hint = _choice_hint(name, value)
                out.append(error("bad-test", f"{problem} in {where}", value_at, hint))
    out += _check_case_bar(rule, namespace)
    return out


def _check_case_bar(rule: RuleSpec, namespace: Namespace) -> list[Diagnostic]:
    """`open_when: distinct:` names a row field, and case tests give only the fields counted."""
    routing = rule.case
    if routing is None:
        return []
    out: list[Diagnostic] = []
    counted = {name for name, _ in routing.bar.distinct}
    for name in sorted(counted):
        if namespace.get(name) is None:
            hint = suggestion_hint(name, list(namespace))
            out.append(
                error("unknown-name", f"`distinct: {name}` of rule `{rule.id}`", rule.span, hint)
            )
    for test in routing.tests:
        for _, values in test.matches:
            for name in sorted(set(values) - counted):
                out.append(
                    error(
                        "bad-test",
                        f"case test {test.name} of rule `{rule.id}` gives `{name}`, which its "
                        "bar does not count",
                        test.span,
                        "give `at` and the fields under `open_when: distinct:`",
                    )
                )
    return out


def _value_problem(name: str, kind: Kind, value: object) -> str | None:
    if value is None:
        return None
    if kind == "strlist":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return None if ok else f"`{name}` must be a list of text"
    wanted = _PY_KINDS[kind]
    if not isinstance(value, wanted) or (isinstance(value, bool) and kind in ("int", "num")):
        return f"`{name}` must be {describe_kind(kind)}, got {value!r}"
    allowed = CHOICES.get(name)
    if allowed is not None and value not in allowed:
        return f"`{name}` is {value!r}; expected one of {', '.join(sorted(allowed))}"
    return None


def _choice_hint(name: str, value: object) -> str | None:
    allowed = CHOICES.get(name)
    if allowed is None or not isinstance(value, str):
        return None
    return suggestion_hint(value, sorted(allowed))
