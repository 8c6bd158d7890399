"""The functions a rule may call: signature (for validation) and Python code (for compile).

One entry per function keeps the two in step: the validator reads `params`/`result`, the
compiler calls `emit`, and DuckDB runs the same call as sqlglot prints it.

NULL semantics are decided here, once, for both engines. A function is NULL-strict (any NULL
argument makes the result NULL) unless its entry sets `strict=False`. For a strict function the
compiler guards the Python code (`FunctionDef.emit`), and the transpiler guards the DuckDB call the
same way (`transpile.py` asks `is_strict`), so the backtest never depends on what a DuckDB
release does with NULL (DuckDB 2.0 answers FALSE for `list_contains([], NULL)`). A non-strict
entry (coalesce, nullif, least, greatest) spells out its NULL handling in its own code, and the
DuckDB agreement test holds DuckDB to it.
To add a function: add an entry, a case to the DuckDB agreement test, and a line to docs/rules.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from sqlglot import exp

from abusedesk.detection.rules.names import ExprKind

Kinds = frozenset[ExprKind]
TEXT: Final[Kinds] = frozenset({"str"})
NUMBER: Final[Kinds] = frozenset({"int", "num"})
ANY_SCALAR: Final[Kinds] = frozenset({"str", "int", "num", "bool", "timestamp"})
TIMESTAMP: Final[Kinds] = frozenset({"timestamp"})
LIST: Final[Kinds] = frozenset({"strlist"})

# sqlglot arguments that carry no meaning for us (set by its parser for DuckDB's own semantics).
NEUTRAL_ARGS: Final = frozenset(
    {"this", "expression", "expressions", "ignore_nulls", "is_nvl", "is_null"}
)


class Emitter(Protocol):
    """What `emit` may ask of the code generator."""

    def tmp(self) -> str: ...

    def const(self, value: object) -> str: ...


Emit = Callable[[Emitter, Sequence[str], Sequence[exp.Expression]], str]


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    nodes: tuple[type[exp.Expression], ...]
    params: tuple[Kinds, ...]
    result: ExprKind | None  # None: the unified kind of the arguments
    code: Emit  # Python over the argument values (never NULL when the function is strict)
    doc: str
    variadic: bool = False  # the last parameter repeats (at least once)
    same_kind: bool = False  # all arguments must have one kind (coalesce, least, ...)
    literal_text: tuple[int, ...] = ()  # parameters that must be a string literal
    strict: bool = True  # NULL in, NULL out; False: `code` handles NULL arguments itself

    def emit(self, gen: Emitter, args: Sequence[str], nodes: Sequence[exp.Expression]) -> str:
        """Python for a call: `code` over the argument values, behind a NULL guard if strict."""
        if not self.strict:
            return self.code(gen, args, nodes)
        names, test = null_guard(gen, args)
        return f"(None if {test} else {self.code(gen, names, nodes)})"


def null_guard(gen: Emitter, args: Sequence[str]) -> tuple[list[str], str]:
    """Names bound to the argument values, and a test that is true when one of them is NULL."""
    names = [gen.tmp() for _ in args]
    test = " or ".join(f"({n} := {a}) is None" for n, a in zip(names, args, strict=True))
    return names, test


def strict(gen: Emitter, args: Sequence[str], template: str) -> str:
    """NULL if any argument is NULL, else `template` over the argument values."""
    names, test = null_guard(gen, args)
    return f"(None if {test} else {template.format(*names)})"


def _template(template: str) -> Emit:
    return lambda gen, args, nodes: template.format(*args)


def _coalesce(gen: Emitter, args: Sequence[str], nodes: Sequence[exp.Expression]) -> str:
    parts = []
    for arg in args[:-1]:
        name = gen.tmp()
        parts.append(f"{name} if ({name} := {arg}) is not None else")
    return "(" + " ".join([*parts, args[-1]]) + ")"


def _nullif(gen: Emitter, args: Sequence[str], nodes: Sequence[exp.Expression]) -> str:
    a, b = gen.tmp(), gen.tmp()
    return f"(None if ({a} := {args[0]}) is None or (({b} := {args[1]}) is not None and {a} == {b}) else {a})"


def least(*values: object) -> object:
    # DuckDB's least/greatest skip NULLs (NULL only when every argument is NULL).
    present = [v for v in values if v is not None]
    return min(present) if present else None  # type: ignore[type-var]  # the checker made them comparable


def greatest(*values: object) -> object:
    present = [v for v in values if v is not None]
    return max(present) if present else None  # type: ignore[type-var]  # as in least()


def _call(helper: Callable[..., object]) -> Emit:
    """A call of a Python helper on every argument (for functions that are not NULL-strict)."""

    def emit(gen: Emitter, args: Sequence[str], nodes: Sequence[exp.Expression]) -> str:
        return f"{gen.const(helper)}({', '.join(args)})"

    return emit


def _regexp(gen: Emitter, args: Sequence[str], nodes: Sequence[exp.Expression]) -> str:
    pattern = gen.const(re.compile(str(nodes[1].this)))
    return f"({pattern}.search({args[0]}) is not None)"


def hour(value: datetime) -> int:
    # Rows carry aware UTC datetimes; a naive one is taken to be UTC already (never local time).
    return value.astimezone(UTC).hour if value.tzinfo else value.hour


def _hour(gen: Emitter, args: Sequence[str], nodes: Sequence[exp.Expression]) -> str:
    return f"{gen.const(hour)}({args[0]})"


FUNCTIONS: Final[tuple[FunctionDef, ...]] = (
    FunctionDef("lower", (exp.Lower,), (TEXT,), "str", _template("{0}.lower()"), "text in lower case"),
    FunctionDef("upper", (exp.Upper,), (TEXT,), "str", _template("{0}.upper()"), "text in upper case"),
    FunctionDef(
        "length", (exp.Length,), (TEXT | LIST,), "int", _template("len({0})"),
        "number of characters of a text, or of items of a list",
    ),
    FunctionDef(
        "coalesce", (exp.Coalesce,), (ANY_SCALAR,), None, _coalesce,
        "the first argument that is not NULL (ifnull(a, b) is coalesce(a, b))",
        variadic=True, same_kind=True, strict=False,
    ),
    FunctionDef(
        "nullif", (exp.Nullif,), (ANY_SCALAR, ANY_SCALAR), None, _nullif,
        "NULL when a = b, else a", same_kind=True, strict=False,
    ),
    FunctionDef("abs", (exp.Abs,), (NUMBER,), None, _template("abs({0})"), "absolute value"),
    FunctionDef(
        "least", (exp.Least,), (ANY_SCALAR,), None, _call(least),
        "the smallest argument, NULLs skipped", variadic=True, same_kind=True, strict=False,
    ),
    FunctionDef(
        "greatest", (exp.Greatest,), (ANY_SCALAR,), None, _call(greatest),
        "the largest argument, NULLs skipped", variadic=True, same_kind=True, strict=False,
    ),
    FunctionDef(
        "starts_with", (exp.StartsWith,), (TEXT, TEXT), "bool", _template("{0}.startswith({1})"),
        "text starts with a prefix",
    ),
    FunctionDef(
        "ends_with", (exp.EndsWith,), (TEXT, TEXT), "bool", _template("{0}.endswith({1})"),
        "text ends with a suffix",
    ),
    FunctionDef(
        "contains", (exp.Contains,), (TEXT, TEXT), "bool", _template("({1} in {0})"),
        "text contains a piece of text",
    ),
    FunctionDef(
        "list_contains", (exp.ArrayContains,), (LIST, TEXT), "bool", _template("({1} in {0})"),
        "a list of text (e.g. url_domains) contains a value (NULL if the list or value is NULL)",
    ),
    FunctionDef(
        "regexp_matches", (exp.RegexpLike,), (TEXT, TEXT), "bool", _regexp,
        "a regular expression matches somewhere in the text (pattern: a literal)",
        literal_text=(1,),
    ),
    FunctionDef("hour", (exp.Hour, exp.Extract), (TIMESTAMP,), "int", _hour, "hour (0-23, UTC) of ts"),
)  # fmt: skip

BY_NODE: Final[dict[type[exp.Expression], FunctionDef]] = {
    node: fn for fn in FUNCTIONS for node in fn.nodes
}
NAMES: Final[tuple[str, ...]] = (*(fn.name for fn in FUNCTIONS), "ifnull", "cast")


def call_args(node: exp.Expression) -> list[exp.Expression]:
    """A call's arguments in order (EXTRACT(HOUR FROM ts) has one: ts)."""
    if isinstance(node, exp.Extract):
        return [node.expression]
    args: list[exp.Expression] = []
    for key in ("this", "expression", "expressions"):
        value = node.args.get(key)
        if isinstance(value, list):
            args.extend(value)
        elif isinstance(value, exp.Expression):
            args.append(value)
    return args


def unsupported_args(node: exp.Expression) -> list[str]:
    """Arguments sqlglot parsed that we do not implement (regexp flags, ...)."""
    if isinstance(node, exp.Extract):
        part = node.this.name.upper() if isinstance(node.this, exp.Expression) else ""
        return [] if part == "HOUR" else [f"EXTRACT({part} ...)"]
    return [key for key, value in node.args.items() if value and key not in NEUTRAL_ARGS]


def is_strict(node: exp.Expression) -> bool:
    """Whether `node` is a call of a NULL-strict function (both engines must guard it)."""
    fn = BY_NODE.get(type(node))
    return fn is not None and fn.strict
