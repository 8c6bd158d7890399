"""Run the tests embedded in rules, and explain failures operand by operand.

A test gives a row and says whether the rule should match it. When it fails, the analyst needs
to see *which* part of the condition went the wrong way; the trace evaluates each top-level
AND/OR operand on its own and shows its value (TRUE / FALSE / NULL) with the row values it read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlglot import exp

from abusedesk.detection.case_bar import AccountCases
from abusedesk.detection.rules.compile import compile_checked
from abusedesk.detection.rules.expressions import Checked
from abusedesk.detection.rules.names import Namespace, pack_namespace
from abusedesk.detection.rules.pack import CompiledPack, CompiledRule
from abusedesk.detection.spec import CaseTest, RuleSpec, RuleTest


@dataclass(frozen=True, slots=True)
class Step:
    """One operand of the condition's top-level AND/OR, with its value on the test row."""

    sql: str
    value: Any
    inputs: tuple[tuple[str, Any], ...]  # the names it read and their values


@dataclass(frozen=True, slots=True)
class TestOutcome:
    __test__ = False  # not a pytest test class, despite the name

    rule: RuleSpec
    test: RuleTest
    value: Any  # the condition's SQL value: True / False / None
    passed: bool
    joiner: Literal["AND", "OR"] | None = None
    trace: tuple[Step, ...] = ()  # filled in on failure
    error: str | None = None

    @property
    def matched(self) -> bool:
        return self.value is True


def prepare_row(given: Mapping[str, object], namespace: Namespace) -> dict[str, object]:
    """A test's `given` as the engine would see it: `num` values as floats (as the validator
    stores them), everything not given is NULL (absent)."""
    row = dict(given)
    for name, value in given.items():
        entry = namespace.get(name)
        if entry is not None and entry.kind == "num" and type(value) is int:
            row[name] = float(value)
    return row


def run_tests(compiled: CompiledPack, namespace: Namespace | None = None) -> list[TestOutcome]:
    """Every test of every rule, in pack order. `namespace` defaults to the pack's own."""
    namespace = namespace or pack_namespace(compiled.pack.features)
    outcomes = [
        run_test(rule, test, namespace) for rule in compiled.rules for test in rule.spec.tests
    ]
    for rule in compiled.rules:
        routing = rule.spec.case
        for case_test in routing.tests if routing is not None else ():
            outcomes.append(run_case_test(rule.spec, case_test))
    return outcomes


CASE_TEST_ACCOUNT = "ACcasetest"
CASE_TEST_START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def run_case_test(spec: RuleSpec, test: CaseTest) -> TestOutcome:
    """Feed the test's matches to a fresh `AccountCases` (as if the rule were live); passed when
    a case opens exactly when `open` is expected. Reported as a test of the rule named
    "case: <name>", match meaning "a case opens"."""
    live = replace(spec, mode="live")
    cases = AccountCases()
    opened = False
    for offset, values in sorted(test.matches, key=lambda m: m[0]):
        [call] = cases.observe(
            [live], CASE_TEST_ACCOUNT, CASE_TEST_START + timedelta(seconds=offset), values
        )
        opened = opened or (call is not None and call.opened)
    expect: Literal["match", "no_match"] = "match" if test.expect == "open" else "no_match"
    shown = RuleTest(f"case: {test.name}", {}, expect, test.span)
    return TestOutcome(spec, shown, opened, opened == (test.expect == "open"))


def run_test(rule: CompiledRule, test: RuleTest, namespace: Namespace) -> TestOutcome:
    row = prepare_row(test.row, namespace)
    try:
        value = rule.condition.evaluate(row)
    except (TypeError, AttributeError, ValueError) as exc:
        return TestOutcome(rule.spec, test, None, False, error=f"evaluation failed: {exc}")
    passed = (value is True) == (test.expect == "match")
    if passed:
        return TestOutcome(rule.spec, test, value, True)
    joiner, steps = trace(rule.condition.checked, row)
    return TestOutcome(rule.spec, test, value, False, joiner, steps)


def trace(
    checked: Checked, row: Mapping[str, Any]
) -> tuple[Literal["AND", "OR"] | None, tuple[Step, ...]]:
    """Evaluate each top-level operand of AND (or OR) separately; one step if neither."""
    tree = checked.tree
    assert tree is not None
    while isinstance(tree, exp.Paren):
        tree = tree.this
    joiner: Literal["AND", "OR"] | None = None
    operands: list[exp.Expression] = [tree]
    if isinstance(tree, (exp.And, exp.Or)):
        joiner = "AND" if isinstance(tree, exp.And) else "OR"
        operands = _flatten(tree, type(tree))
    steps = []
    for operand in operands:
        part = Checked(
            operand.sql(dialect="duckdb"), operand, checked.kinds, checked.references, ()
        )
        value = compile_checked(part).evaluate(row)
        names = dict.fromkeys(col.name for col in operand.find_all(exp.Column))
        steps.append(Step(part.text, value, tuple((n, row.get(n)) for n in names)))
    return joiner, tuple(steps)


def _flatten(node: exp.Expression, cls: type[exp.Expression]) -> list[exp.Expression]:
    if isinstance(node, cls):
        return [*_flatten(node.this, cls), *_flatten(node.expression, cls)]
    return [node]


def sql_value(value: Any) -> str:
    """A value as an analyst would write it in a rule."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return "[" + ", ".join(sql_value(item) for item in value) + "]"
    return repr(value)


def format_outcome(outcome: TestOutcome) -> str:
    """One line per test; a failure adds the expectation and the trace, indented."""
    test, rule = outcome.test, outcome.rule
    mark = "✓" if outcome.passed else "✗"
    lines = [f"{mark} {rule.id} › {test.name}"]
    if outcome.passed:
        return lines[0]
    span = test.span
    if span is not None:
        lines[0] += f"  ({span.file}:{span.line})"
    if outcome.error:
        lines.append(f"    {outcome.error}")
        return "\n".join(lines)
    got = "match" if outcome.matched else "no_match"
    lines.append(
        f"    expected {test.expect}, got {got}: the condition is {sql_value(outcome.value)}"
    )
    width = max((len(step.sql) for step in outcome.trace), default=0)
    for i, step in enumerate(outcome.trace):
        joiner = f"{outcome.joiner} " if outcome.joiner and i else "    " if outcome.joiner else ""
        inputs = ", ".join(f"{n} = {sql_value(v)}" for n, v in step.inputs)
        value = sql_value(step.value)
        lines.append(f"      {joiner}{step.sql.ljust(width)}  -> {value:<5}  ({inputs})".rstrip())
    return "\n".join(lines)
