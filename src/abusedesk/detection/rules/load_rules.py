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
    CaseRouting,
    Mode,
    RuleSpec,
    RuleTest,
    Severity,
    Span,
    Verdict,
)
from abusedesk.events.schema import EventInvalid, parse_ts

RULE_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
REQUIRED: Final = ("id", "policy", "severity", "when", "verdict")
OPTIONAL: Final = ("description", "mode", "case", "source", "tests")
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
    reader.check_keys(entries, where, node, (), ("queue", "priority"))
    default = CaseRouting()
    queue = _text(reader, entries.get("queue"), where) or default.queue
    priority = _choice(reader, entries.get("priority"), where, PRIORITIES) or default.priority
    return CaseRouting(queue, priority)


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
