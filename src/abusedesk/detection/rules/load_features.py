"""`features:` entries -> FeatureSpec, one form each (count, sum, distinct, ratio, ratio_of, age).

Only the shape is checked here (keys, types, windows, event types); whether `by`, `of` and the
filters name real fields is checked by lint, which knows every feature of every file.
`ratio_of` features are completed by `resolve_ratio_of` once all files are read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import yaml

from abusedesk.detection.rules.diagnostics import Diagnostic, error, suggestion_hint
from abusedesk.detection.rules.source import ExprSite
from abusedesk.detection.rules.yamlread import Entry, Reader
from abusedesk.detection.spec import FeatureKind, FeatureSpec, Span, parse_window
from abusedesk.events.schema import EVENT_TYPES

FEATURE_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]*$")

# form key -> (kind, required keys, optional keys)
FORMS: Final[dict[str, tuple[FeatureKind, tuple[str, ...], tuple[str, ...]]]] = {
    "count": ("count", ("count", "by", "window"), ("where",)),
    "sum": ("sum", ("sum", "on", "by", "window"), ("where",)),
    "distinct": ("distinct", ("distinct", "on", "by", "window"), ("where",)),
    # `ratio:` is the numerator filter (FeatureSpec.where); a second `where` would be ambiguous.
    "ratio": ("ratio", ("ratio", "over", "on", "by", "window"), ()),
    "ratio_of": ("ratio", ("ratio_of",), ()),
    "age": ("age", ("age", "by"), ("where",)),
}


@dataclass(slots=True)
class FeatureSource:
    """Positions the later stages need for one feature."""

    sites: dict[str, ExprSite] = field(default_factory=dict)  # "where" / "over"
    spans: dict[str, Span] = field(default_factory=dict)  # "by.0", "of", "on.1", "ratio_of.0"


def read_feature(
    reader: Reader, name: str, key_node: yaml.Node, node: yaml.Node
) -> tuple[FeatureSpec, FeatureSource] | None:
    what = f"feature `{name}`"
    if not FEATURE_NAME.match(name):
        reader.error(
            "bad-name",
            f"feature name `{name}` is not a lowercase identifier",
            key_node,
            "use lowercase letters, digits and _ (it becomes a column name in SQL)",
        )
    entries = reader.mapping(node, what)
    if entries is None:
        return None
    forms = [key for key in FORMS if key in entries]
    if len(forms) != 1:
        if forms:
            reader.error(
                "bad-feature",
                f"{what} has {' and '.join(f'`{f}`' for f in forms)}; a feature has one form",
                node,
            )
            return None
        # With no form key, check the keys against every form so `cout:` gets its did-you-mean.
        every = tuple(dict.fromkeys(key for form in FORMS.values() for key in form[1] + form[2]))
        before = len(reader.diags)
        reader.check_keys(entries, what, node, (), every)
        if len(reader.diags) == before:
            reader.error(
                "missing-key",
                f"{what} has no form",
                node,
                "start it with one of: " + ", ".join(f"`{k}`" for k in FORMS),
            )
        return None
    form = forms[0]
    kind, required, optional = FORMS[form]
    reader.check_keys(entries, what, node, required, optional)
    source = FeatureSource()
    spec = FeatureSpec(name, kind, (), (), None, span=reader.span(key_node))
    if form == "ratio_of":
        return _ratio_of(reader, spec, entries[form], source), source
    # `count: TYPE` and `age: TYPE` name the types themselves; the other forms say `on: TYPE`.
    on = _types(reader, entries[form] if form in ("count", "age") else entries.get("on"))
    by = _by(reader, entries.get("by"), what, source)
    window_s = _window(reader, entries.get("window"), what) if form != "age" else None
    where = _filter(reader, entries.get("ratio" if form == "ratio" else "where"), what)
    over = _filter(reader, entries.get("over"), what)
    of: str | None = None
    if form in ("sum", "distinct"):
        of = reader.text(entries[form].node, f"`{form}` of {what}")
        if of is not None:
            source.spans["of"] = reader.span(entries[form].node)
    if where:
        source.sites["where"] = where[1]
    if over:
        source.sites["over"] = over[1]
    spec = replace(
        spec,
        on=tuple(on),
        by=tuple(by),
        window_s=window_s,
        where=where[0] if where else None,
        over=over[0] if over else None,
        of=of,
    )
    return spec, source


def _types(reader: Reader, entry: Entry | None) -> list[str]:
    if entry is None:
        return []
    found = reader.names(entry.node, f"`{entry.key}`") or []
    types: list[str] = []
    for etype, node in found:
        if etype not in EVENT_TYPES:
            reader.error(
                "unknown-event-type",
                f"unknown event type `{etype}`",
                node,
                suggestion_hint(etype, EVENT_TYPES) or "types: " + ", ".join(EVENT_TYPES),
            )
        elif etype not in types:
            types.append(etype)
    return types


def _by(reader: Reader, entry: Entry | None, what: str, source: FeatureSource) -> list[str]:
    if entry is None:
        return []
    if not isinstance(entry.node, yaml.SequenceNode):
        reader.error("wrong-type", f"`by` of {what} must be a list of names", entry.node)
        return []
    found = reader.names(entry.node, f"`by` of {what}") or []
    if not found:
        reader.error("wrong-type", f"`by` of {what} is empty; name at least one key", entry.node)
    for i, (_, node) in enumerate(found):
        source.spans[f"by.{i}"] = reader.span(node)
    return [name for name, _ in found]


def _window(reader: Reader, entry: Entry | None, what: str) -> int | None:
    if entry is None:
        return None
    text = reader.text(entry.node, f"`window` of {what}")
    if text is None:
        return None
    try:
        return parse_window(text)
    except ValueError as exc:
        reader.error(
            "bad-window",
            str(exc),
            entry.node,
            "a number followed by m, h or d, from 1m to 30d: 5m, 1h, 24h, 7d",
        )
        return None


def _filter(reader: Reader, entry: Entry | None, what: str) -> tuple[str, ExprSite] | None:
    if entry is None:
        return None
    return reader.expression(entry.node, f"`{entry.key}` of {what}")


def _ratio_of(
    reader: Reader, spec: FeatureSpec, entry: Entry, source: FeatureSource
) -> FeatureSpec:
    found = reader.names(entry.node, f"`ratio_of` of feature `{spec.name}`")
    if found is None:
        return spec
    if len(found) != 2 or not isinstance(entry.node, yaml.SequenceNode):
        reader.error(
            "wrong-type",
            f"`ratio_of` of feature `{spec.name}` must list two features: [numerator, denominator]",
            entry.node,
        )
        return spec
    for i, (_, node) in enumerate(found):
        source.spans[f"ratio_of.{i}"] = reader.span(node)
    return replace(spec, numerator=found[0][0], denominator=found[1][0])


def resolve_ratio_of(
    features: Sequence[FeatureSpec], spans: dict[str, dict[str, Span]]
) -> tuple[list[FeatureSpec], list[Diagnostic]]:
    """Give each `ratio_of` feature the `by` and window of its parts, after checking they agree.

    `on` stays empty: a derived ratio is never updated itself, only its two parts are.
    """
    by_name = {spec.name: spec for spec in features}
    diags: list[Diagnostic] = []
    out: list[FeatureSpec] = []
    for spec in features:
        if spec.numerator is None or spec.denominator is None:
            out.append(spec)
            continue
        parts: list[FeatureSpec] = []
        for i, part_name in enumerate((spec.numerator, spec.denominator)):
            at = spans.get(spec.name, {}).get(f"ratio_of.{i}", spec.span)
            part = by_name.get(part_name)
            if part is None or part_name == spec.name:
                hint = suggestion_hint(part_name, [n for n in by_name if n != spec.name])
                message = f"`{part_name}` is not a feature of this pack"
                if part_name == spec.name:
                    message, hint = f"feature `{spec.name}` cannot be a ratio of itself", None
                diags.append(error("unknown-name", message, at, hint))
            elif part.kind not in ("count", "sum", "distinct"):
                diags.append(
                    error(
                        "bad-feature",
                        f"`ratio_of` needs count, sum or distinct features; `{part_name}` is "
                        f"{part.kind}",
                        at,
                    )
                )
            else:
                parts.append(part)
        if len(parts) == 2:
            num, den = parts
            if num.by != den.by or num.window_s != den.window_s:
                diags.append(
                    error(
                        "bad-feature",
                        f"`{num.name}` and `{den.name}` must have the same `by` and window to "
                        f"make a ratio",
                        spec.span,
                        f"`{num.name}`: by {list(num.by)}, window {_fmt_window(num.window_s)}; "
                        f"`{den.name}`: by {list(den.by)}, window {_fmt_window(den.window_s)}",
                    )
                )
            else:
                out.append(replace(spec, by=num.by, window_s=num.window_s))
                continue
        out.append(spec)
    return out, diags


def _fmt_window(seconds: int | None) -> str:
    if seconds is None:
        return "none"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
