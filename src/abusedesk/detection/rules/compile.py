"""A validated expression -> a Python function over a row, with SQL's three-valued logic.

Generated source rather than nested closures: a rule runs once per event per rule, and a flat
function with inline NULL checks costs about a third of a closure tree (one call instead of one
per node). The source is built only from our own templates, `repr()` of literal values and of
validated names, and constants passed in by name; no user text is ever pasted into it.

Semantics are DuckDB's (the backtester runs `to_duckdb_sql` of the same text; a test checks that
both agree on NULL-heavy rows):
- NULL propagates through comparisons, arithmetic and functions; AND/OR/NOT follow the SQL truth
  tables; a condition holds only when it is TRUE (`test`), never when it is NULL;
- x / 0 and x % 0 are NULL; % takes the sign of the dividend; int / int is a float;
- x IN (...) is TRUE on a match, else NULL if x or an item is NULL, else FALSE;
- LIKE/ILIKE match the whole text with % and _ (no escape character);
- CAST never fails: a value that cannot be converted is NULL (DuckDB's TRY_CAST);
  DOUBLE -> INT rounds half to even, INT is 64-bit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlglot import exp

from abusedesk.detection.rules.diagnostics import Diagnostic, render
from abusedesk.detection.rules.expressions import Checked, check_expression
from abusedesk.detection.rules.functions import BY_NODE, call_args, strict
from abusedesk.detection.rules.kinds import ARITHMETIC, CAST_TARGETS
from abusedesk.detection.rules.names import Namespace
from abusedesk.detection.rules.transpile import to_duckdb_sql
from abusedesk.errors import InputError

Row = Mapping[str, Any]
Evaluator = Callable[[Row], Any]
Predicate = Callable[[Row], bool]

__all__ = [
    "CompiledExpression",
    "ExpressionInvalid",
    "compile_checked",
    "compile_expression",
    "condition_source",
    "generated_function",
    "to_duckdb_sql",
]

_OPERATORS: Final[dict[type[exp.Expression], str]] = {
    exp.EQ: "==",
    exp.NEQ: "!=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
}
_INT64: Final = (-(2**63), 2**63)


class ExpressionInvalid(InputError):  # noqa: N818 - reads as a verdict, like EventInvalid
    """An expression failed validation; `details` holds the diagnostics as dicts."""

    def __init__(self, text: str, diagnostics: Sequence[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.is_error]
        rendered = render(errors, {"<expression>": text})
        super().__init__(f"invalid expression:\n{rendered}", details=[d.to_dict() for d in errors])
        self.diagnostics = tuple(diagnostics)


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    text: str
    source: str  # the generated Python, for debugging and the curious
    evaluate: Evaluator  # the SQL value: True / False / None for a condition
    test: Predicate  # True only when the value is TRUE (a WHERE / WHEN)
    references: frozenset[str]
    checked: Checked

    def __call__(self, row: Row) -> bool:
        return self.test(row)


def compile_expression(
    text: str,
    namespace: Namespace | None = None,
    *,
    features_allowed: bool = True,
    boolean: bool = True,
) -> CompiledExpression:
    """Validate and compile; raise ExpressionInvalid with every diagnostic on error.

    `namespace=None` accepts any name; `boolean=False` accepts a non-boolean value.
    """
    checked = check_expression(text, namespace, features_allowed=features_allowed, boolean=boolean)
    return compile_checked(checked)


def compile_checked(checked: Checked) -> CompiledExpression:
    if not checked.ok or checked.tree is None:
        raise ExpressionInvalid(checked.text, checked.diagnostics)
    gen = _Gen(checked)
    body = gen.emit(checked.tree)
    test = gen.test(checked.tree)
    source = (
        "def _evaluate(row):\n"
        "    _get = row.get\n"
        f"    return {body}\n"
        "\n"
        "def _test(row):\n"
        "    _get = row.get\n"
        f"    return {test}\n"
    )
    try:
        namespace = _run(source, gen.consts, "<abusedesk rule expression>")
    except (SyntaxError, RecursionError, MemoryError) as exc:  # pragma: no cover - depth guard
        raise ExpressionInvalid(checked.text, ()) from exc
    return CompiledExpression(
        checked.text,
        source,
        namespace["_evaluate"],
        namespace["_test"],
        checked.references,
        checked,
    )


def condition_source(
    checked: Checked, prefix: str, event_type: str | None = None, *, full_rows: bool = False
) -> tuple[str, dict[str, Any]]:
    """The Python expression of "the condition is TRUE" over `row` (read with a local `_get =
    row.get`), and the constants it names, all starting with `_k<prefix>` / `_t<prefix>`: for
    callers that put several conditions into one generated function (CompiledPack).

    `event_type`: the code runs only on rows of that type, so a test of `type` against
    literals (`type = 'message'`, `type IN (...)`) where a condition must be TRUE is decided
    here instead of on every row.

    `full_rows`: the code runs only on rows that hold every name it reads (absent = None
    there, not a missing key), so it reads `row['name']` instead of calling `_get`: the
    detection engine builds its rows that way (DetectionEngine.row). A missing name raises
    KeyError."""
    if not checked.ok or checked.tree is None:
        raise ExpressionInvalid(checked.text, checked.diagnostics)
    gen = _Gen(checked, prefix, event_type, full_rows=full_rows)
    return gen.test(checked.tree), gen.consts


def generated_function(source: str, name: str, consts: dict[str, Any]) -> Any:
    """Compile generated source (built from this module's templates) with its constants."""
    return _run(source, consts, "<abusedesk rule pack>")[name]


def _run(source: str, consts: dict[str, Any], filename: str) -> dict[str, Any]:
    """Execute generated source with its constants and the few builtins it may name."""
    namespace: dict[str, Any] = {"__builtins__": _BUILTINS, **consts}
    code = compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - source built from our templates only (see module doc)
    return namespace


# -- runtime helpers (referenced from generated code as constants) -----------------------------


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)  # integers: exact, sign of the dividend as in C and DuckDB
        return -r if a < 0 else r
    return math.fmod(a, b)


def _not_distinct(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(a == b)


def _in(value: Any, items: tuple[Any, ...]) -> bool | None:
    if value is None:
        return None
    saw_null = False
    for item in items:
        if item is None:
            saw_null = True
        elif item == value:
            return True
    return None if saw_null else False


def _double_to_int(value: float) -> int | None:
    if math.isnan(value) or math.isinf(value):
        return None
    rounded = round(value)  # half to even, like DuckDB's DOUBLE -> BIGINT
    return rounded if _INT64[0] <= rounded < _INT64[1] else None


def _to_int_any(value: Any) -> int | None:
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, float):
        return _double_to_int(value)
    return int(value)


def _to_double_any(value: Any) -> float | None:
    return None if value is None or isinstance(value, str) else float(value)


def _to_varchar_any(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # DuckDB prints doubles as shortest round-trip, as repr() does
    return str(value)


_BUILTINS: Final[dict[str, Any]] = {
    "abs": abs,
    "float": float,
    "int": int,
    "len": len,
    "repr": repr,
    "str": str,
}


def like_regex(pattern: str, *, fold: bool) -> re.Pattern[str]:
    """SQL LIKE -> an anchored regex: % is any run, _ any one character, nothing escapes."""
    if fold:
        pattern = pattern.lower()  # ILIKE lowers both sides, as DuckDB does
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


def literal_value(node: exp.Expression) -> tuple[bool, Any]:
    """(True, value) for a constant: text, number, TRUE/FALSE, NULL, -number."""
    if isinstance(node, exp.Paren):
        return literal_value(node.this)
    if isinstance(node, exp.Literal):
        text = str(node.this)
        if node.is_string:
            return True, text
        try:
            return True, int(text)
        except ValueError:
            return True, float(text)
    if isinstance(node, exp.Boolean):
        return True, bool(node.this)
    if isinstance(node, exp.Null):
        return True, None
    if isinstance(node, exp.Neg):
        ok, value = literal_value(node.this)
        if ok and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, -value
    return False, None


# -- code generation -----------------------------------------------------------------------------


class _Gen:
    def __init__(
        self,
        checked: Checked,
        prefix: str = "",
        event_type: str | None = None,
        *,
        full_rows: bool = False,
    ) -> None:
        self.checked = checked
        self.consts: dict[str, Any] = {}
        self.n = 0
        self.prefix = prefix
        self.event_type = event_type
        self.full_rows = full_rows

    def tmp(self) -> str:
        self.n += 1
        return f"_t{self.prefix}{self.n}"

    def const(self, value: object) -> str:
        name = f"_k{self.prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def emit(self, node: exp.Expression) -> str:
        is_literal, value = literal_value(node)
        if is_literal:
            return self.literal(value)
        handler = _EMITTERS.get(type(node))
        if handler is not None:
            return handler(self, node)
        fn = BY_NODE.get(type(node))
        if fn is not None:
            args = call_args(node)
            return fn.emit(self, [self.emit(arg) for arg in args], args)
        raise AssertionError(f"no code for {type(node).__name__}; the validator let it through")

    def test(self, node: exp.Expression) -> str:
        """Python for "the condition is TRUE", cheaper than computing the full SQL value.

        AND is TRUE iff every operand is TRUE, OR iff one is, NOT x iff x is FALSE; so below
        AND/OR the NULL bookkeeping of `chain` is not needed, and `x = 'lit'` is plain ==.
        """
        if isinstance(node, exp.Paren):
            return self.test(node.this)
        if isinstance(node, (exp.And, exp.Or)):
            # A part decided when generated (type_test) decides the whole, or drops out.
            is_and = isinstance(node, exp.And)
            unit, zero = ("True", "False") if is_and else ("False", "True")
            parts = [self.test(part) for part in _flatten(node, type(node))]
            if zero in parts:
                return zero
            kept = [part for part in parts if part != unit]
            word = " and " if is_and else " or "
            return "(" + word.join(kept) + ")" if kept else unit
        known = self.type_test(node)
        if known is not None:
            return known
        if isinstance(node, exp.Not):
            return f"({self.emit(node.this)} is False)"
        if isinstance(node, exp.Is):
            return self.emit(node)
        if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
            right_const, right_value = literal_value(node.expression)
            if right_const and right_value is not None:
                op = _OPERATORS[type(node)]
                left, lit = self.emit(node.this), self.literal(right_value)
                if isinstance(node, exp.EQ):
                    return f"({left} == {lit})"  # NULL == lit is False: no check needed
                value = self.tmp()
                return f"(({value} := {left}) is not None and {value} {op} {lit})"
        return f"({self.emit(node)} is True)"

    def type_test(self, node: exp.Expression) -> str | None:
        """ "True" / "False" for `type = 'lit'` or `type IN ('lit', ...)` when the event type is
        known (see condition_source); None otherwise. Exact: the row's type is that text."""
        if self.event_type is None or not isinstance(node, (exp.EQ, exp.In)):
            return None
        subject = node.this
        if not (isinstance(subject, exp.Column) and not subject.table and subject.name == "type"):
            return None
        items = [node.expression] if isinstance(node, exp.EQ) else node.expressions
        values = [literal_value(item) for item in items]
        if not items or not all(ok and isinstance(v, str) for ok, v in values):
            return None  # NULLs, numbers or expressions: left to the general code
        return str(any(v == self.event_type for _, v in values))

    def literal(self, value: Any) -> str:
        if isinstance(value, float) and not math.isfinite(value):
            return self.const(value)  # repr(inf) is not Python source
        return repr(value)

    def chain(self, operands: Sequence[str], stop: bool) -> str:
        """AND (stop=False) / OR (stop=True) over operands, short-circuiting like SQL.

        AND is FALSE if any operand is FALSE, else NULL if any is NULL, else TRUE (OR dually).
        """
        names = [self.tmp() for _ in operands]
        parts = [
            f"{stop} if ({n} := {src}) is {stop} else"
            for n, src in zip(names, operands, strict=True)
        ]
        nulls = " or ".join(f"{n} is None" for n in names)
        return f"({' '.join(parts)} (None if {nulls} else {not stop}))"


def _flatten(node: exp.Expression, cls: type[exp.Expression]) -> list[exp.Expression]:
    if isinstance(node, exp.Paren) and isinstance(node.this, cls):
        node = node.this
    if isinstance(node, cls):
        return [*_flatten(node.this, cls), *_flatten(node.expression, cls)]
    return [node]


def _and(g: _Gen, node: exp.Expression) -> str:
    return g.chain([g.emit(part) for part in _flatten(node, exp.And)], stop=False)


def _or(g: _Gen, node: exp.Expression) -> str:
    return g.chain([g.emit(part) for part in _flatten(node, exp.Or)], stop=True)


def _not(g: _Gen, node: exp.Expression) -> str:
    value = g.tmp()
    return f"(None if ({value} := {g.emit(node.this)}) is None else not {value})"


def _binary(g: _Gen, node: exp.Expression) -> str:
    """Comparisons and + - *: NULL if either side is NULL. A literal side needs no check."""
    op = _OPERATORS[type(node)]
    left, right = node.this, node.expression
    left_const, left_value = literal_value(left)
    right_const, right_value = literal_value(right)
    if right_const and right_value is not None:
        value = g.tmp()
        return f"(None if ({value} := {g.emit(left)}) is None else {value} {op} {g.emit(right)})"
    if left_const and left_value is not None:
        value = g.tmp()
        return f"(None if ({value} := {g.emit(right)}) is None else {g.emit(left)} {op} {value})"
    return strict(g, [g.emit(left), g.emit(right)], "{0} %s {1}" % op)  # noqa: UP031 - {} are format fields


def _divide(g: _Gen, node: exp.Expression) -> str:
    a, b = g.tmp(), g.tmp()
    left, right = g.emit(node.this), g.emit(node.expression)
    value = f"{g.const(_mod)}({a}, {b})" if isinstance(node, exp.Mod) else f"{a} / {b}"
    return f"(None if ({a} := {left}) is None or ({b} := {right}) is None or {b} == 0 else {value})"


def _null_safe(g: _Gen, node: exp.Expression) -> str:
    call = f"{g.const(_not_distinct)}({g.emit(node.this)}, {g.emit(node.expression)})"
    return call if isinstance(node, exp.NullSafeEQ) else f"(not {call})"


def _neg(g: _Gen, node: exp.Expression) -> str:
    return strict(g, [g.emit(node.this)], "-{0}")


def _concat(g: _Gen, node: exp.Expression) -> str:
    return strict(g, [g.emit(node.this), g.emit(node.expression)], "{0} + {1}")


def _paren(g: _Gen, node: exp.Expression) -> str:
    return g.emit(node.this)


def _in_list(g: _Gen, node: exp.Expression) -> str:
    subject = g.emit(node.this)
    items = [literal_value(item) for item in node.expressions]
    if all(ok for ok, _ in items):
        present = frozenset(v for _, v in items if v is not None)
        has_null = any(v is None for _, v in items)
        value, members = g.tmp(), g.const(present)
        found = f"True if {value} in {members} else None" if has_null else f"{value} in {members}"
        return f"(None if ({value} := {subject}) is None else {found})"
    listed = ", ".join(g.emit(item) for item in node.expressions)
    return f"{g.const(_in)}({subject}, ({listed},))"


def _between(g: _Gen, node: exp.Expression) -> str:
    # x BETWEEN lo AND hi is (x >= lo AND x <= hi) with SQL's AND: FALSE beats NULL.
    x, lo, hi = g.tmp(), g.tmp(), g.tmp()
    low, high = g.emit(node.args["low"]), g.emit(node.args["high"])
    first = f"(None if ({x} := {g.emit(node.this)}) is None or ({lo} := {low}) is None else {x} >= {lo})"
    second = f"(None if {x} is None or ({hi} := {high}) is None else {x} <= {hi})"
    return g.chain([first, second], stop=False)


def _is(g: _Gen, node: exp.Expression) -> str:
    target = node.expression
    wanted = "None" if isinstance(target, exp.Null) else str(bool(target.this))
    test = f"({g.emit(node.this)} is {wanted})"
    return f"(not {test})" if node.args.get("negate") else test


def _like(g: _Gen, node: exp.Expression) -> str:
    fold = isinstance(node, exp.ILike)
    pattern = g.const(like_regex(str(node.expression.this), fold=fold))
    value = g.tmp()
    subject = f"{value}.lower()" if fold else value
    outcome = "is None" if node.args.get("negate") else "is not None"
    return f"(None if ({value} := {g.emit(node.this)}) is None else {pattern}.fullmatch({subject}) {outcome})"


def _case(g: _Gen, node: exp.Expression) -> str:
    subject = node.this
    probe = g.tmp()
    parts: list[str] = []
    for i, branch in enumerate(node.args.get("ifs") or []):
        result = g.emit(branch.args["true"])
        if isinstance(subject, exp.Expression):
            # CASE x WHEN v: the branch is taken when x = v is TRUE (never for NULLs).
            first = f"({probe} := {g.emit(subject)}) is None" if i == 0 else f"{probe} is None"
            other = g.tmp()
            condition = f"(None if {first} or ({other} := {g.emit(branch.this)}) is None else {probe} == {other})"
        else:
            condition = g.emit(branch.this)
        parts.append(f"{result} if {condition} is True else")
    default = node.args.get("default")
    tail = g.emit(default) if isinstance(default, exp.Expression) else "None"
    if isinstance(subject, exp.Expression) and not parts:  # pragma: no cover - CASE needs a WHEN
        return tail
    return f"({' '.join(parts)} {tail})"


def _cast(g: _Gen, node: exp.Expression) -> str:
    assert isinstance(node, exp.Cast)
    target = CAST_TARGETS[node.to.this]
    source_kind = g.checked.kind_of(node.this)
    value = g.emit(node.this)
    if source_kind == "null":
        return "None"
    if target == source_kind:
        return value
    if source_kind is None:  # names of unknown kind (no namespace): decide per value
        helper = {"int": _to_int_any, "num": _to_double_any, "str": _to_varchar_any}[target]
        return f"{g.const(helper)}({value})"
    if target == "num":
        return strict(g, [value], "float({0})")
    if target == "int":
        if source_kind == "bool":
            return strict(g, [value], "int({0})")
        return strict(g, [value], g.const(_double_to_int) + "({0})")
    if source_kind == "int":
        return strict(g, [value], "str({0})")
    if source_kind == "num":
        return strict(g, [value], "repr(float({0}))")
    return strict(g, [value], "('true' if {0} else 'false')")


def _column(g: _Gen, node: exp.Expression) -> str:
    return f"row[{node.name!r}]" if g.full_rows else f"_get({node.name!r})"


_EMITTERS: Final[dict[type[exp.Expression], Callable[[_Gen, exp.Expression], str]]] = {
    exp.Column: _column,
    exp.Paren: _paren,
    exp.And: _and,
    exp.Or: _or,
    exp.Not: _not,
    exp.In: _in_list,
    exp.Between: _between,
    exp.Is: _is,
    exp.Like: _like,
    exp.ILike: _like,
    exp.Case: _case,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Neg: _neg,
    exp.DPipe: _concat,
    exp.NullSafeEQ: _null_safe,
    exp.NullSafeNEQ: _null_safe,
    exp.Div: _divide,
    exp.Mod: _divide,
    **dict.fromkeys(_OPERATORS, _binary),
}
assert all(cls in _EMITTERS for cls in ARITHMETIC)
