"""`rules:` entries -> RuleSpec (with their embedded tests).

A rule with a bad field is still returned, with a placeholder in that field, as long as its
`when` could be read: the pack is refused anyway (there is an error), but lint goes on to check
the expression and the tests, so one run reports everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal, cast

import yaml

from abusedesk.detection.rules.source import ExprSite
from abusedesk.detection.rules.yamlread import Entry, Reader, is_null
from abusedesk.detection.spec import (
    PRIORITIES,
    SEVERITIES,
    VERDICTS,
    CaseBar,
    CaseRouting,
    CaseTest,
    Mode,
    RuleSpec,
    RuleTest,
    Severity,
    Span,
    Verdict,
    parse_window,
)
from abusedesk.events.schema import EventInvalid, parse_ts

RULE_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
REQUIRED: Final = ("id", "policy", "severity", "when", "verdict")
OPTIONAL: Final = ("description", "mode", "confidence", "case", "source", "tests")
MODES: Final = ("live", "shadow")
EXPECTS: Final = ("match", "no_match")


@dataclass(slots=True)
class RuleSource:
    """Positions the later stages need for one rule."""

    site: ExprSite
    spans: dict[str, Span] = field(default_factory=dict)  # "id", "severity", "verdict", ...
    # per test: name -> (span of the name, span of its value)
    given: list[dict[str, tuple[Span, Span]]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReadRule:
    id: str | None
    id_span: Span
    spec: RuleSpec | None  # None when the rule has no readable `when`
    source: RuleSource | None


def read_rule(reader: Reader, node: yaml.Node, number: int) -> ReadRule | None:
    entries = reader.mapping(node, f"rule {number}")
    if entries is None:
        return None
    rule_id = _rule_id(reader, entries.get("id"))
    what = f"rule `{rule_id}`" if rule_id else f"rule {number}"
    reader.check_keys(entries, what, node, REQUIRED, OPTIONAL)
    spans = {key: reader.span(entry.node) for key, entry in entries.items()}
    when_entry = entries.get("when")
    when = reader.expression(when_entry.node, f"`when` of {what}") if when_entry else None
    policy = _text(reader, entries.get("policy"), what) or ""
    severity = _choice(reader, entries.get("severity"), what, SEVERITIES) or "medium"
    verdict = _choice(reader, entries.get("verdict"), what, VERDICTS) or "review"
    mode = _choice(reader, entries.get("mode"), what, MODES) or "live"
    description = _text(reader, entries.get("description"), what) or ""
    source_text = _text(reader, entries.get("source"), what) or ""
    case = _case(reader, entries.get("case"), what)
    confidence = _confidence(reader, entries.get("confidence"), what)
    tests, given_spans = _tests(reader, entries.get("tests"), what)
    id_span = spans.get("id", reader.span(node))
    if when is None:
        return ReadRule(rule_id, id_span, None, None)
    text, site = when
    spec = RuleSpec(
        id=rule_id or f"rule-{number}",
        description=description,
        policy=policy,
        severity=cast(Severity, severity),
        when=text,
        verdict=cast(Verdict, verdict),
        mode=cast(Mode, mode),
        confidence=confidence,
        case=case,
        source=source_text,
        tests=tuple(tests),
        span=id_span,
        when_span=site.span(0),
    )
    return ReadRule(rule_id, id_span, spec, RuleSource(site, spans, given_spans))


def _rule_id(reader: Reader, entry: Entry | None) -> str | None:
    if entry is None:
        return None
    value = reader.text(entry.node, "rule `id`")
    if value is not None and not RULE_ID.match(value):
        reader.error(
            "bad-name",
            f"rule id `{value}` has characters other than letters, digits, -, _ and .",
            entry.node,
            "ids appear in URLs, audit rows and file names: use e.g. sms-pumping-burst",
        )
    return value


def _text(reader: Reader, entry: Entry | None, what: str) -> str | None:
    return None if entry is None else reader.text(entry.node, f"`{entry.key}` of {what}")


def _choice(reader: Reader, entry: Entry | None, what: str, choices: tuple[str, ...]) -> str | None:
    if entry is None:
        return None
    return reader.choice(entry.node, f"`{entry.key}` of {what}", choices)


def _case(reader: Reader, entry: Entry | None, what: str) -> CaseRouting | None:
    if entry is None:
        return CaseRouting()
    node = entry.node
    if is_null(node) or (isinstance(node, yaml.ScalarNode) and node.value == "none"):
        return None  # a verdict-only rule: no case is opened
    where = f"`case` of {what}"
    entries = reader.mapping(node, where)
    if entries is None:
        return CaseRouting()
    reader.check_keys(entries, where, node, (), ("queue", "priority", "open_when", "tests"))
    default = CaseRouting()
    queue = _text(reader, entries.get("queue"), where) or default.queue
    priority = _choice(reader, entries.get("priority"), where, PRIORITIES) or default.priority
    bar = _bar(reader, entries.get("open_when"), f"`open_when` of {what}")
    tests = _case_tests(reader, entries.get("tests"), f"case tests of {what}")
    return CaseRouting(queue, priority, bar, tuple(tests))


BAR_KEYS: Final = ("matches", "within", "distinct", "persist", "score")


def _confidence(reader: Reader, entry: Entry | None, what: str) -> float:
    if entry is None:
        return 1.0
    ok, value = reader.value(entry.node, f"`confidence` of {what}")
    if (
        not ok
        or isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (0 < value <= 1)
    ):
        reader.error("bad-value", f"`confidence` of {what} must be a number in (0, 1]", entry.node)
        return 1.0
    return float(value)


def _number(reader: Reader, entry: Entry, where: str, lo: float, hi: float) -> float | None:
    ok, value = reader.value(entry.node, f"`{entry.key}` of {where}")
    if (
        not ok
        or isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (lo <= value <= hi)
    ):
        reader.error(
            "bad-value", f"`{entry.key}` of {where} must be a number from {lo:g} to {hi:g}",
            entry.node,
        )  # fmt: skip
        return None
    return float(value)


def _duration(reader: Reader, entry: Entry, where: str) -> int | None:
    text = reader.text(entry.node, f"`{entry.key}` of {where}")
    if text is None:
        return None
    try:
        return parse_window(text)
    except ValueError as exc:
        reader.error("bad-window", f"`{entry.key}` of {where}: {exc}", entry.node)
        return None


def _bar(reader: Reader, entry: Entry | None, where: str) -> CaseBar:
    if entry is None:
        return CaseBar()
    entries = reader.mapping(entry.node, where)
    if entries is None:
        return CaseBar()
    reader.check_keys(entries, where, entry.node, (), BAR_KEYS)
    matches, within, persist, score = 1, 86_400, 0, None
    distinct: list[tuple[str, int]] = []
    if "matches" in entries:
        matches = int(_number(reader, entries["matches"], where, 1, 1_000_000) or 1)
    if "within" in entries:
        within = _duration(reader, entries["within"], where) or within
    if "persist" in entries:
        persist = _duration(reader, entries["persist"], where) or 0
    if "score" in entries:
        score = _number(reader, entries["score"], where, 0.01, 1.0)
    if "distinct" in entries:
        fields = reader.mapping(entries["distinct"].node, f"`distinct` of {where}") or {}
        for name, field_entry in fields.items():
            need = _number(reader, field_entry, f"`distinct` of {where}", 1, 1_000_000)
            if need is not None:
                distinct.append((name, int(need)))
    if persist >= within:
        reader.error("bad-value", f"`persist` of {where} must be shorter than `within`", entry.node)
    evidence = any(key in entries for key in ("matches", "distinct", "persist"))
    return CaseBar(matches, within, tuple(distinct), persist, score, evidence)


def _case_tests(reader: Reader, entry: Entry | None, what: str) -> list[CaseTest]:
    """`tests:` of a case block: `matches` is a list of offsets ("0m", "2h") or of mappings
    with `at` and the row values the bar counts; `expect` is `open` or `no_case`."""
    if entry is None or is_null(entry.node):
        return []
    if not isinstance(entry.node, yaml.SequenceNode):
        reader.error("wrong-type", f"{what} must be a list", entry.node)
        return []
    out: list[CaseTest] = []
    for number, node in enumerate(entry.node.value, start=1):
        where = f"test {number} of {what}"
        entries = reader.mapping(node, where)
        if entries is None:
            continue
        reader.check_keys(entries, where, node, ("matches", "expect"), ("name",))
        name = _text(reader, entries.get("name"), where) or f"case test {number}"
        expect = _choice(reader, entries.get("expect"), where, ("open", "no_case")) or "open"
        matches: list[tuple[int, dict[str, object]]] = []
        listed = entries.get("matches")
        if listed is None or not isinstance(listed.node, yaml.SequenceNode):
            reader.error("wrong-type", f"`matches` of {where} must be a list", node)
            continue
        for item in listed.node.value:
            values: dict[str, object]
            if isinstance(item, yaml.ScalarNode):
                at, values = item.value, {}
            else:
                fields = reader.mapping(item, f"a match in {where}") or {}
                values = {}
                at = "0m"
                for key, field_entry in fields.items():
                    ok, value = reader.value(field_entry.node, f"`{key}` in {where}")
                    if key == "at":
                        at = str(value)
                    elif ok:
                        values[key] = value
            offset = 0 if at.strip() in ("0", "0m", "0h") else _offset(reader, item, at, where)
            matches.append((offset, values))
        out.append(
            CaseTest(name, tuple(matches), cast(Literal["open", "no_case"], expect),
                     reader.span(node))
        )  # fmt: skip
    return out


def _offset(reader: Reader, node: yaml.Node, text: str, where: str) -> int:
    try:
        return parse_window(text)
    except ValueError as exc:
        reader.error("bad-window", f"an offset in {where}: {exc}", node)
        return 0


def _tests(
    reader: Reader, entry: Entry | None, what: str
) -> tuple[list[RuleTest], list[dict[str, tuple[Span, Span]]]]:
    if entry is None or is_null(entry.node):
        return [], []
    if not isinstance(entry.node, yaml.SequenceNode):
        reader.error("wrong-type", f"`tests` of {what} must be a list", entry.node)
        return [], []
    tests: list[RuleTest] = []
    spans: list[dict[str, tuple[Span, Span]]] = []
    for number, node in enumerate(entry.node.value, start=1):
        read = _test(reader, node, f"test {number} of {what}", number)
        if read is not None:
            tests.append(read[0])
            spans.append(read[1])
    return tests, spans


def _test(
    reader: Reader, node: yaml.Node, what: str, number: int
) -> tuple[RuleTest, dict[str, tuple[Span, Span]]] | None:
    entries = reader.mapping(node, what)
    if entries is None:
        return None
    reader.check_keys(entries, what, node, ("given", "expect"), ("name",))
    name = _text(reader, entries.get("name"), what) or f"test {number}"
    expect = _choice(reader, entries.get("expect"), what, EXPECTS)
    given = entries.get("given")
    row: dict[str, object] = {}
    spans: dict[str, tuple[Span, Span]] = {}
    if given is not None:
        fields = reader.mapping(given.node, f"`given` of {what}")
        for key, field_entry in (fields or {}).items():
            ok, value = reader.value(field_entry.node, f"`{key}` in {what}")
            if not ok:
                continue
            if key == "ts":
                value = _timestamp(reader, field_entry.node, value, what)
            row[key] = value
            spans[key] = (reader.span(field_entry.key_node), reader.span(field_entry.node))
    if given is None:
        return None
    # With a bad `expect` the test is kept (the pack is refused anyway) so its row is checked.
    expected = cast(Literal["match", "no_match"], expect or "match")
    test = RuleTest(name, row, expected, reader.span(node))
    return test, spans


def _timestamp(reader: Reader, node: yaml.Node, value: object, what: str) -> object:
    """`ts` as an aware UTC datetime: given as an RFC 3339 string (YAML may have parsed it)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            reader.error("bad-test", f"`ts` in {what} has no UTC offset", node, "end it with Z")
            return None
        return value.astimezone(UTC)
    try:
        return parse_ts(value)
    except EventInvalid as exc:
        reader.error("bad-test", f"{exc} in {what}", node, "e.g. 2024-05-01T12:00:00Z")
        return None
