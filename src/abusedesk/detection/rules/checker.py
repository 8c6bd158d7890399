"""The validator's walk: one handler per allowed sqlglot node, each inferring the node's kind.

Anything without a handler is refused (check_calls.refused), so new SQL syntax that sqlglot
learns to parse is not silently accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from sqlglot import exp

from abusedesk.detection.rules.check_calls import FEATURE_HINT, cast, function, like, refused
from abusedesk.detection.rules.diagnostics import Diagnostic, error, suggestion_hint, warning
from abusedesk.detection.rules.functions import BY_NODE
from abusedesk.detection.rules.kinds import (
    ARITHMETIC,
    COMPARISONS,
    NULL_SAFE,
    NUMERIC,
    SYMBOLS,
    describe_kind,
)
from abusedesk.detection.rules.names import UNREADABLE, ExprKind, Namespace
from abusedesk.detection.rules.parse import node_range
from abusedesk.detection.rules.source import ExprSite
from abusedesk.detection.spec import Span


class Checker:
    def __init__(
        self,
        text: str,
        site: ExprSite,
        namespace: Namespace | None,
        features_allowed: bool,
        what: str,
    ) -> None:
        self.text = text
        self.site = site
        self.namespace = namespace
        self.features_allowed = features_allowed
        self.what = what
        self.diags: list[Diagnostic] = []
        self.refs: set[str] = set()
        self.kinds: dict[int, ExprKind | None] = {}

    # -- reporting -------------------------------------------------------------------------

    def span(self, node: exp.Expression) -> Span:
        found = node_range(node)
        return self.site.span(*found) if found else self.site.span(0, len(self.text))

    def snippet(self, node: exp.Expression) -> str:
        found = node_range(node)
        text = self.text[found[0] : found[1]] if found else node.sql(dialect="duckdb")
        text = " ".join(text.split())
        return text if len(text) <= 40 else text[:37] + "..."

    def call_name(self, node: exp.Expression) -> str | None:
        """A call's name as written (ifnull, not coalesce): sqlglot keeps the name's position."""
        found = _own_range(node)
        return self.text[found[0] : found[1]] if found else None

    def name_span(self, node: exp.Expression) -> Span:
        """A call's name only, when known: the caret goes under `lowercase`, not its arguments."""
        found = _own_range(node)
        return self.site.span(*found) if found else self.span(node)

    def error(self, node: exp.Expression, code: str, message: str, hint: str | None = None) -> None:
        self.diags.append(error(code, message, self.span(node), hint))

    def not_boolean(self, node: exp.Expression, kind: ExprKind | None) -> None:
        example = {"str": " = 'value'", "strlist": ""}.get(kind or "", " > 0")
        hint = f"compare it, e.g. `{self.snippet(node)}{example}`" if example else None
        if kind == "strlist":
            hint = f"test membership: list_contains({self.snippet(node)}, 'value')"
        self.error(
            node,
            "not-boolean",
            f"the {self.what} is {describe_kind(kind)}, not true/false",
            hint,
        )

    # -- walking ---------------------------------------------------------------------------

    def visit(self, node: exp.Expression) -> ExprKind | None:
        handler = HANDLERS.get(type(node))
        if handler is None:
            handler = function if type(node) in BY_NODE else refused
        kind = handler(self, node)
        self.kinds[id(node)] = kind
        return kind

    def want_bool(self, node: exp.Expression, where: str) -> None:
        kind = self.visit(node)
        if kind not in ("bool", "null", None):
            self.error(
                node,
                "not-boolean",
                f"`{self.snippet(node)}` is {describe_kind(kind)}, but {where} needs true/false",
            )

    def comparable(
        self, node: exp.Expression, left: exp.Expression, right: exp.Expression
    ) -> tuple[ExprKind | None, ExprKind | None]:
        lk, rk = self.visit(left), self.visit(right)
        if lk in (None, "null") or rk in (None, "null"):
            return lk, rk
        if (lk in NUMERIC and rk in NUMERIC) or (lk == rk and lk != "strlist"):
            return lk, rk
        if "strlist" in (lk, rk):
            listed = left if lk == "strlist" else right
            self.error(
                node,
                "type-mismatch",
                f"`{self.snippet(listed)}` is a list of text and cannot be compared",
                f"test membership: list_contains({self.snippet(listed)}, 'value')",
            )
            return lk, rk
        self.error(
            node,
            "type-mismatch",
            f"cannot compare {describe_kind(lk)} (`{self.snippet(left)}`) with "
            f"{describe_kind(rk)} (`{self.snippet(right)}`)",
            _mismatch_hint(left, lk, right, rk),
        )
        return lk, rk

    def unify(
        self, node: exp.Expression, kinds: Sequence[ExprKind | None], label: str
    ) -> ExprKind | None:
        known = [k for k in kinds if k not in (None, "null")]
        if not known:
            return "null" if "null" in kinds and None not in kinds else None
        if all(k in NUMERIC for k in known):
            return "num" if "num" in known else "int"
        if all(k == known[0] for k in known):
            return known[0]
        words = " and ".join(sorted({describe_kind(k) for k in known}))
        self.error(node, "type-mismatch", f"{label} mix {words}")
        return None


def _own_range(node: exp.Expression) -> tuple[int, int] | None:
    meta = node.meta if node._meta else None
    if meta and "start" in meta:
        return int(meta["start"]), int(meta["end"]) + 1
    return None


def _mismatch_hint(
    left: exp.Expression, lk: ExprKind | None, right: exp.Expression, rk: ExprKind | None
) -> str | None:
    for node, other in ((left, rk), (right, lk)):
        if not isinstance(node, exp.Literal):
            continue
        if not node.is_string and other == "str":
            return f"to compare as text, quote it: '{node.this}'"
        if node.is_string and other in NUMERIC and _is_number(str(node.this)):
            return f"to compare as a number, drop the quotes: {node.this}"
        if node.is_string and other == "bool" and str(node.this).lower() in ("true", "false"):
            return f"write {str(node.this).upper()} without quotes"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- handlers --------------------------------------------------------------------------------

Handler = Callable[["Checker", exp.Expression], "ExprKind | None"]


def _column(c: Checker, node: exp.Expression) -> ExprKind | None:
    assert isinstance(node, exp.Column)
    if node.table:
        c.error(node, "not-allowed", f"`{c.snippet(node)}`: qualified names are not supported")
        return None
    name = node.name
    if c.namespace is None:
        c.refs.add(name)
        return None
    entry = c.namespace.get(name)
    if entry is None:
        if name in UNREADABLE:
            c.error(
                node,
                "not-readable",
                f"`{name}` is an object and cannot be read by an expression",
                "enrichment exposes what rules need from it (spf, dkim, has_list_unsubscribe, ...)",
            )
            return None
        identifier = node.this
        hint = suggestion_hint(name, c.namespace.candidates())
        if isinstance(identifier, exp.Identifier) and identifier.quoted:
            hint = f"double quotes name a field; for text use single quotes: '{name}'"
        c.error(node, "unknown-name", f"unknown feature or field `{name}`", hint)
        return None
    if entry.origin == "feature" and not c.features_allowed:
        c.error(
            node,
            "feature-in-where",
            f"`{name}` is a feature; a feature's {c.what} cannot use features",
            "features are computed from event fields; combine features in the rule's `when`",
        )
        return None
    c.refs.add(name)
    return entry.kind


def _literal(c: Checker, node: exp.Expression) -> ExprKind | None:
    assert isinstance(node, exp.Literal)
    if node.is_string:
        return "str"
    try:
        int(str(node.this))
    except ValueError:
        return "num"
    return "int"


def _logic(c: Checker, node: exp.Expression) -> ExprKind | None:
    word = type(node).__name__.upper()
    for side in (node.this, node.args.get("expression")):
        if isinstance(side, exp.Expression):
            c.want_bool(side, word)
    return "bool"


def _comparison(c: Checker, node: exp.Expression) -> ExprKind | None:
    c.comparable(node, node.this, node.expression)
    if isinstance(node, COMPARISONS) and (
        isinstance(node.this, exp.Null) or isinstance(node.expression, exp.Null)
    ):
        c.diags.append(
            warning(
                "null-comparison",
                f"`{SYMBOLS[type(node)]} NULL` is never true: a comparison with NULL is NULL",
                c.span(node),
                "use IS NULL or IS NOT NULL",
            )
        )
    return "bool"


def _arithmetic(c: Checker, node: exp.Expression) -> ExprKind | None:
    kinds = []
    for side in (node.this, node.expression):
        kind = c.visit(side)
        if kind not in NUMERIC | {"null", None}:
            hint = "join text with ||" if kind == "str" and isinstance(node, exp.Add) else None
            c.error(
                side,
                "type-mismatch",
                f"arithmetic needs numbers; `{c.snippet(side)}` is {describe_kind(kind)}",
                hint,
            )
            return None
        kinds.append(kind)
    if None in kinds:
        return "num" if isinstance(node, exp.Div) else None
    if isinstance(node, exp.Div) or "num" in kinds:
        return "num"
    return "int" if "int" in kinds else "null"


def _neg(c: Checker, node: exp.Expression) -> ExprKind | None:
    kind = c.visit(node.this)
    if kind not in NUMERIC | {"null", None}:
        c.error(
            node,
            "type-mismatch",
            f"`{c.snippet(node.this)}` is {describe_kind(kind)}, not a number",
        )
        return None
    return kind


def _concat(c: Checker, node: exp.Expression) -> ExprKind | None:
    for side in (node.this, node.expression):
        kind = c.visit(side)
        if kind not in ("str", "null", None):
            c.error(
                side,
                "type-mismatch",
                f"|| joins text; `{c.snippet(side)}` is {describe_kind(kind)}",
            )
    return "str"


def _in(c: Checker, node: exp.Expression) -> ExprKind | None:
    query = node.args.get("query")
    if query is not None:
        c.error(query, "subquery", "subqueries are not allowed in rules", FEATURE_HINT)
        return "bool"
    if node.args.get("unnest") or node.args.get("field"):
        c.error(node, "not-allowed", f"`{c.snippet(node)}` is not supported; list the values")
        return "bool"
    for item in node.expressions:
        c.comparable(item, node.this, item)
    return "bool"


def _between(c: Checker, node: exp.Expression) -> ExprKind | None:
    if node.args.get("symmetric"):
        c.error(node, "not-allowed", "BETWEEN SYMMETRIC is not supported")
    c.comparable(node, node.this, node.args["low"])
    c.comparable(node, node.this, node.args["high"])
    return "bool"


def _is(c: Checker, node: exp.Expression) -> ExprKind | None:
    target = node.expression
    if isinstance(target, exp.Boolean):
        c.want_bool(node.this, "IS TRUE / IS FALSE")
    elif isinstance(target, exp.Null):
        c.visit(node.this)
    else:
        c.visit(node.this)
        written = c.snippet(target)
        c.error(
            target,
            "syntax",
            f"IS must be followed by NULL, TRUE or FALSE, not `{written}`",
            suggestion_hint(written, ("NULL", "TRUE", "FALSE")),
        )
    return "bool"


def _case(c: Checker, node: exp.Expression) -> ExprKind | None:
    subject = node.this
    results: list[ExprKind | None] = []
    for branch in node.args.get("ifs") or []:
        condition = branch.this
        if isinstance(subject, exp.Expression):
            c.comparable(branch, subject, condition)
        else:
            c.want_bool(condition, "WHEN")
        results.append(c.visit(branch.args["true"]))
    default = node.args.get("default")
    if isinstance(default, exp.Expression):
        results.append(c.visit(default))
    else:
        results.append("null")
    return c.unify(node, results, "the results of CASE")


def _paren(c: Checker, node: exp.Expression) -> ExprKind | None:
    return c.visit(node.this)


def _boolean(c: Checker, node: exp.Expression) -> ExprKind | None:
    return "bool"


def _null(c: Checker, node: exp.Expression) -> ExprKind | None:
    return "null"


def _not(c: Checker, node: exp.Expression) -> ExprKind | None:
    c.want_bool(node.this, "NOT")
    return "bool"


HANDLERS: Final[dict[type[exp.Expression], Handler]] = {
    exp.Column: _column,
    exp.Literal: _literal,
    exp.Boolean: _boolean,
    exp.Null: _null,
    exp.Paren: _paren,
    exp.And: _logic,
    exp.Or: _logic,
    exp.Not: _not,
    exp.In: _in,
    exp.Between: _between,
    exp.Is: _is,
    exp.Like: like,
    exp.ILike: like,
    exp.Case: _case,
    exp.Cast: cast,
    exp.TryCast: cast,
    exp.Neg: _neg,
    exp.DPipe: _concat,
    **dict.fromkeys((*COMPARISONS, *NULL_SAFE), _comparison),
    **dict.fromkeys(ARITHMETIC, _arithmetic),
}
