"""Kinds as the validator sees them: words for messages, operator groups, CAST targets."""

from __future__ import annotations

from typing import Final

from sqlglot import exp

from abusedesk.detection.rules.names import ExprKind

NUMERIC: Final = frozenset({"int", "num"})
KIND_WORDS: Final[dict[str, str]] = {
    "str": "text",
    "int": "a whole number",
    "num": "a number",
    "bool": "true/false",
    "strlist": "a list of text",
    "timestamp": "a timestamp",
    "null": "NULL",
}
COMPARISONS: Final = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
NULL_SAFE: Final = (exp.NullSafeEQ, exp.NullSafeNEQ)
ARITHMETIC: Final = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
SYMBOLS: Final[dict[type[exp.Expression], str]] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
# Keys are sqlglot data type enum members (exp.DataType.Type).
CAST_TARGETS: Final[dict[object, ExprKind]] = {
    exp.DataType.Type.INT: "int",
    exp.DataType.Type.BIGINT: "int",
    exp.DataType.Type.SMALLINT: "int",
    exp.DataType.Type.TINYINT: "int",
    exp.DataType.Type.DOUBLE: "num",
    exp.DataType.Type.VARCHAR: "str",
    exp.DataType.Type.TEXT: "str",
}


def describe_kind(kind: ExprKind | None) -> str:
    return KIND_WORDS.get(kind or "", "a value")
