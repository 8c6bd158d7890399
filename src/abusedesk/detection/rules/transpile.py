"""An expression rendered for DuckDB, so the backtester runs the very text a rule holds.

The rendering pins down the places where DuckDB's defaults differ from the Python evaluator:
- x / y and x % y divide by NULLIF(y, 0): DuckDB raises on division by zero unless a setting
  says otherwise, and a rule must not depend on a connection's settings;
- CAST is TRY_CAST (a value that cannot be converted is NULL), INT is BIGINT;
- decimal literals are cast to DOUBLE: DuckDB reads 0.2 as DECIMAL, exact where Python's float
  is not, and `x < 0.2` must mean the same in both;
- every name is quoted, so `to`, `from` or `source` never read as keywords;
- a call of a NULL-strict function (functions.py decides which) is NULL when an argument that
  is not a literal is NULL, spelled out as CASE: DuckDB's own NULL handling differs between
  functions and releases (2.0 answers FALSE for `list_contains([], NULL)`).
The backtest connection should run with `SET TimeZone = 'UTC'` so hour(ts) on TIMESTAMPTZ is UTC.
"""

from __future__ import annotations

from typing import Final

from sqlglot import exp

from abusedesk.detection.rules.functions import call_args, is_strict
from abusedesk.detection.rules.parse import parse_expression
from abusedesk.detection.rules.source import ExprSite

_TARGETS: Final[dict[object, str]] = {
    exp.DataType.Type.INT: "BIGINT",
    exp.DataType.Type.BIGINT: "BIGINT",
    exp.DataType.Type.SMALLINT: "BIGINT",
    exp.DataType.Type.TINYINT: "BIGINT",
    exp.DataType.Type.DOUBLE: "DOUBLE",
    exp.DataType.Type.VARCHAR: "VARCHAR",
    exp.DataType.Type.TEXT: "VARCHAR",
}


def to_duckdb_sql(expr: str) -> str:
    """The DuckDB SQL of an expression (ValueError if it does not parse; validate first)."""
    tree, diags = parse_expression(expr, ExprSite.bare(expr))
    if tree is None:
        raise ValueError(diags[0].message if diags else "expression does not parse")
    return render_duckdb(tree)


def render_duckdb(tree: exp.Expression) -> str:
    return _bottom_up(tree.copy()).sql(dialect="duckdb", identify=True)


def _bottom_up(node: exp.Expression) -> exp.Expression:
    # Children first: sqlglot's transform() skips the children of a node it replaced, and the
    # literal inside CAST(0.5 AS INT) must become a DOUBLE too (DECIMAL rounds differently).
    for child in list(node.iter_expressions()):
        new = _bottom_up(child)
        if new is not child:
            child.replace(new)
    return _rewrite(node)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if is_strict(node):
        return _null_strict(node)
    if isinstance(node, (exp.Div, exp.Mod)):
        divisor = exp.Nullif(this=node.expression, expression=exp.Literal.number(0))
        return type(node)(this=node.this, expression=divisor)
    if isinstance(node, exp.Cast) and isinstance(node.to, exp.DataType):
        target = _TARGETS.get(node.to.this)
        if target is not None:
            return exp.TryCast(this=node.this, to=exp.DataType.build(target))
    if isinstance(node, exp.Literal) and not node.is_string and not _is_int(str(node.this)):
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DOUBLE"))
    return node


def _null_strict(call: exp.Expression) -> exp.Expression:
    """CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE call END, over the non-literal arguments."""
    nullable = [arg for arg in call_args(call) if not isinstance(arg, exp.Literal)]
    if not nullable:
        return call
    test = exp.or_(*(exp.Is(this=arg.copy(), expression=exp.Null()) for arg in nullable))
    return exp.Case(ifs=[exp.If(this=test, true=exp.Null())], default=call.copy())


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True
