"""Validator handlers for calls and patterns: functions, CAST, LIKE, regexps, refused SQL.

Split from checker.py (the walk and the operators) to keep each module readable; the handlers
share the Checker's reporting helpers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from sqlglot import exp

from abusedesk.detection.rules.diagnostics import error, suggestion_hint
from abusedesk.detection.rules.functions import BY_NODE, NAMES, call_args, unsupported_args
from abusedesk.detection.rules.kinds import CAST_TARGETS, describe_kind
from abusedesk.detection.rules.names import ExprKind

if TYPE_CHECKING:
    from abusedesk.detection.rules.checker import Checker

# RE2 (DuckDB) has no lookaround and no backreferences; Python's re has both. Refusing them keeps
# a pattern meaning the same in streaming and in the backtest.
_NOT_RE2: Final = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")


def like(c: Checker, node: exp.Expression) -> ExprKind | None:
    kind = c.visit(node.this)
    if kind not in ("str", "null", None):
        c.error(
            node.this,
            "type-mismatch",
            f"LIKE matches text; `{c.snippet(node.this)}` is {describe_kind(kind)}",
        )
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        c.visit(pattern)
        c.error(
            pattern,
            "bad-pattern",
            "the LIKE pattern must be a literal text, e.g. '%bit.ly%'",
            "patterns are compiled once, when the pack is loaded",
        )
    return "bool"


def cast(c: Checker, node: exp.Expression) -> ExprKind | None:
    assert isinstance(node, exp.Cast)
    target = CAST_TARGETS.get(node.to.this) if isinstance(node.to, exp.DataType) else None
    if target is None or node.args.get("format") or node.args.get("default"):
        c.visit(node.this)
        c.error(
            node,
            "not-allowed",
            f"`{c.snippet(node)}`: CAST supports INT, DOUBLE and VARCHAR only",
        )
        return None
    kind = c.visit(node.this)
    if kind in ("timestamp", "strlist"):
        c.error(node, "not-allowed", f"{describe_kind(kind)} cannot be cast")
    elif kind == "str" and target != "str":
        c.error(
            node,
            "not-allowed",
            "casting text to a number is not supported",
            "compare as text instead, e.g. error_code = '30007'",
        )
    return target


def function(c: Checker, node: exp.Expression) -> ExprKind | None:
    fn = BY_NODE[type(node)]
    shown = c.call_name(node) or fn.name
    for extra in unsupported_args(node):
        c.error(node, "not-allowed", f"`{shown}`: {extra} is not supported")
        return None
    args = call_args(node)
    n_params = len(fn.params)
    if (fn.variadic and len(args) < n_params) or (not fn.variadic and len(args) != n_params):
        wanted = f"at least {n_params}" if fn.variadic else str(n_params)
        c.error(node, "bad-arguments", f"`{shown}` takes {wanted} argument(s), got {len(args)}")
        return None
    kinds: list[ExprKind | None] = []
    for i, arg in enumerate(args):
        kind = c.visit(arg)
        kinds.append(kind)
        accepted = fn.params[min(i, n_params - 1)]
        if kind not in (None, "null") and kind not in accepted:
            words = " or ".join(sorted(describe_kind(k) for k in accepted))
            c.error(
                arg,
                "bad-arguments",
                f"argument {i + 1} of `{shown}` must be {words}; `{c.snippet(arg)}` is "
                f"{describe_kind(kind)}",
            )
    for i in fn.literal_text:
        _check_pattern(c, args[i], shown)
    unified = c.unify(node, kinds, f"the arguments of `{shown}`") if fn.same_kind else None
    return fn.result or unified


def _check_pattern(c: Checker, node: exp.Expression, shown: str) -> None:
    if not (isinstance(node, exp.Literal) and node.is_string):
        c.error(node, "bad-pattern", f"the pattern of `{shown}` must be a literal text")
        return
    pattern = str(node.this)
    try:
        re.compile(pattern)
    except re.error as exc:
        c.error(node, "bad-regex", f"invalid regular expression: {exc}")
        return
    if _NOT_RE2.search(pattern):
        c.error(
            node,
            "bad-regex",
            "lookaround and backreferences are not supported",
            "the backtest runs the pattern in DuckDB (RE2), which has neither",
        )


FEATURE_HINT: Final = "declare a feature (count, sum, distinct, ratio, age) and use its name"


def refused(c: Checker, node: exp.Expression) -> ExprKind | None:
    if isinstance(node, exp.Window):
        c.error(node, "window-function", "window functions are not allowed in rules", FEATURE_HINT)
    elif isinstance(node, exp.AggFunc):
        hint = FEATURE_HINT
        if isinstance(node, (exp.Max, exp.Min)):
            hint = "for the larger or smaller of two values use greatest() or least(); " + hint
        name = node.sql_name().lower()
        message = f"aggregate `{name}` is not allowed: a rule sees one event"
        c.diags.append(error("aggregate", message, c.name_span(node), hint))
    elif isinstance(node, (exp.Query, exp.Subquery, exp.Exists)):
        c.error(node, "subquery", "subqueries are not allowed in rules", FEATURE_HINT)
    elif isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        name = name.lower()
        hint = suggestion_hint(name, NAMES) or "available: " + ", ".join(NAMES)
        message = f"unknown function `{name}`"
        c.diags.append(error("unknown-function", message, c.name_span(node), hint))
    else:
        c.error(node, "not-allowed", f"`{c.snippet(node)}` is not supported in rule expressions")
    return None
