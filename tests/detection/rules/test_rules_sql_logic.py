"""SQL three-valued logic in the Python evaluator, and its agreement with DuckDB.

The backtester runs `to_duckdb_sql(expr)` over the lake while streaming runs the compiled
Python; a rule is only trustworthy if both say the same thing on every row, NULLs included.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abusedesk.detection.rules import compile_expression, to_duckdb_sql
from abusedesk.detection.rules.names import Kind, kinds_namespace

KINDS: dict[str, Kind] = {
    "a": "int",
    "b": "int",
    "x": "num",
    "y": "num",
    "s": "str",
    "t": "str",
    "p": "bool",
    "q": "bool",
    "l": "strlist",
    "ts": "timestamp",
}
NS = kinds_namespace(KINDS)
T, F, N = True, False, None


def value(expr: str, **row: Any) -> Any:
    return compile_expression(expr, NS, boolean=False).evaluate(row)


# -- truth tables --------------------------------------------------------------------------------

AND_TABLE = [
    (T, T, T), (T, F, F), (T, N, N),
    (F, T, F), (F, F, F), (F, N, F),
    (N, T, N), (N, F, F), (N, N, N),
]  # fmt: skip
OR_TABLE = [
    (T, T, T), (T, F, T), (T, N, T),
    (F, T, T), (F, F, F), (F, N, N),
    (N, T, T), (N, F, N), (N, N, N),
]  # fmt: skip


@pytest.mark.parametrize(("p", "q", "expected"), AND_TABLE)
def test_and_truth_table(p: bool | None, q: bool | None, expected: bool | None) -> None:
    assert value("p AND q", p=p, q=q) is expected


@pytest.mark.parametrize(("p", "q", "expected"), OR_TABLE)
def test_or_truth_table(p: bool | None, q: bool | None, expected: bool | None) -> None:
    assert value("p OR q", p=p, q=q) is expected


@pytest.mark.parametrize(("p", "expected"), [(T, F), (F, T), (N, N)])
def test_not_truth_table(p: bool | None, expected: bool | None) -> None:
    assert value("NOT p", p=p) is expected


def test_a_condition_holds_only_when_true() -> None:
    rule = compile_expression("a > 1", NS)
    assert rule.test({"a": 2}) is True
    assert rule.test({"a": 1}) is False
    assert rule.test({}) is False  # NULL: not a match
    assert rule.evaluate({}) is None
    negated = compile_expression("NOT a > 1", NS)
    assert negated.test({}) is False  # NOT NULL is NULL, still not a match


@pytest.mark.parametrize(
    ("expr", "row", "expected"),
    [
        ("a = 1", {}, N),
        ("a <> 1", {}, N),
        ("a = b", {"a": 1}, N),
        ("s = 'x'", {"s": None}, N),
        ("a = NULL", {"a": 1}, N),
        ("a = (NULL)", {"a": 1}, N),
        ("(NULL) <> s", {"s": "x"}, N),
        ("a IS NULL", {}, T),
        ("a IS NOT NULL", {}, F),
        ("p IS TRUE", {}, F),
        ("p IS NOT TRUE", {}, T),
        ("p IS FALSE", {"p": False}, T),
        ("p IS NOT FALSE", {}, T),
        ("a IS DISTINCT FROM b", {}, F),
        ("a IS DISTINCT FROM b", {"a": 1}, T),
        ("a IS NOT DISTINCT FROM b", {"a": 1, "b": 1.0}, T),
        ("a + 1", {}, N),
        ("-a", {}, N),
        ("a / 0", {"a": 1}, N),
        ("x / 0.0", {"x": 1.5}, N),
        ("a % 0", {"a": 1}, N),
        ("a / b", {"a": 1, "b": 2}, 0.5),
        ("a % b", {"a": -7, "b": 3}, -1),
        ("x % y", {"x": -7.5, "y": 2.0}, -1.5),
        ("a IN (1, 2)", {"a": 1}, T),
        ("a IN (1, 2)", {"a": 3}, F),
        ("a IN (1, NULL)", {"a": 1}, T),
        ("a IN (1, NULL)", {"a": 3}, N),
        ("a NOT IN (1, NULL)", {"a": 3}, N),
        ("a IN (1, 2)", {}, N),
        ("a IN (b, 2)", {"a": 3}, N),
        ("s LIKE 'a%'", {"s": "abc"}, T),
        ("s LIKE 'a_c'", {"s": "abc"}, T),
        ("s LIKE 'a_c'", {"s": "abbc"}, F),
        ("s LIKE '%.%'", {"s": "ab"}, F),
        ("s LIKE 'a\\%'", {"s": "a\\bc"}, T),  # backslash is not an escape in LIKE
        ("s NOT LIKE 'a%'", {"s": "abc"}, F),
        ("s LIKE 'a%'", {}, N),
        ("s ILIKE 'A%'", {"s": "abc"}, T),
        ("a BETWEEN 1 AND 3", {"a": 2}, T),
        ("a BETWEEN b AND 1", {"a": 5}, F),  # NULL AND FALSE is FALSE
        ("a BETWEEN 1 AND b", {"a": 5}, N),
        ("CASE WHEN p THEN 'y' ELSE 'n' END", {}, "n"),
        ("CASE a WHEN 1 THEN 'one' END", {"a": 2}, N),
        ("CASE a WHEN 1 THEN 'one' ELSE 'other' END", {}, "other"),
        ("coalesce(a, b, 3)", {"b": 2}, 2),
        ("nullif(a, 1)", {"a": 1}, N),
        ("least(a, b)", {"b": 2}, 2),
        ("greatest(a, b)", {}, N),
        ("CAST(x AS INT)", {"x": 2.5}, 2),  # half to even, as DuckDB
        ("CAST(x AS INT)", {"x": 3.5}, 4),
        ("CAST(p AS VARCHAR)", {"p": True}, "true"),
        ("CAST(x AS VARCHAR)", {"x": 1.0}, "1.0"),
        ("s || t", {"s": "a"}, N),
        ("list_contains(l, 'a')", {"l": ["a", "b"]}, T),
        ("list_contains(l, s)", {"l": ["a"]}, N),
        ("hour(ts)", {"ts": datetime(2024, 5, 1, 23, 59, tzinfo=UTC)}, 23),
        ("1 = 1.0", {}, T),
        ("2 > 1.5", {}, T),
    ],
)
def test_sql_semantics(expr: str, row: dict[str, Any], expected: Any) -> None:
    got = value(expr, **row)
    assert got == expected
    assert (got is None) == (expected is None)
    assert type(got) is type(expected) or {type(got), type(expected)} <= {int, float}


# -- Python vs DuckDB --------------------------------------------------------------------------

INTS = [None, -7, -3, -1, 0, 1, 2, 3, 10]
FLOATS = [None, -2.5, -0.0, 0.0, 0.001, 0.5, 1.0, 2.5, 3.25, 1e6]
STRS = [None, "", "a", "A", "ab", "abc", "a_c", "a%c", "high", "HIGH", "it's", "é", "x.y", "a\\bc"]
LISTS = [None, [], ["a"], ["a", "b"], ["high", "x.y"]]
BOOLS = [None, True, False]


def _rows() -> list[dict[str, Any]]:
    rng = random.Random(20240501)  # fixed: the same table every run
    rows = []
    for i in range(160):
        rows.append(
            {
                "id": i,
                "a": rng.choice(INTS),
                "b": rng.choice(INTS),
                "x": rng.choice(FLOATS),
                "y": rng.choice(FLOATS),
                "s": rng.choice(STRS),
                "t": rng.choice(STRS),
                "p": BOOLS[i % 3],  # every (p, q) pair of the truth tables appears
                "q": BOOLS[(i // 3) % 3],
                "l": rng.choice(LISTS),
                "ts": None if i % 7 == 0 else datetime(2024, 5, 1, i % 24, i % 60, tzinfo=UTC),
            }
        )
    return rows


ROWS = _rows()


@pytest.fixture(scope="module")
def lake() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE t (id INTEGER, a BIGINT, b BIGINT, x DOUBLE, y DOUBLE, s VARCHAR, "
        "t VARCHAR, p BOOLEAN, q BOOLEAN, l VARCHAR[], ts TIMESTAMPTZ)"
    )
    columns = ["id", *KINDS]
    con.executemany(
        f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})",
        [[row[c] for c in columns] for row in ROWS],
    )
    yield con
    con.close()


def _same(py: Any, db: Any) -> bool:
    if py is None or db is None:
        return py is None and db is None
    if isinstance(py, float) and isinstance(db, float) and math.isnan(py) and math.isnan(db):
        return True
    if isinstance(py, bool) or isinstance(db, bool):
        return type(py) is type(db) and py == db
    return bool(py == db)


def assert_agree(con: duckdb.DuckDBPyConnection, expr: str) -> None:
    compiled = compile_expression(expr, NS, boolean=False)
    sql = to_duckdb_sql(expr)
    results = con.execute(f"SELECT id, ({sql}) FROM t ORDER BY id").fetchall()
    boolean = compiled.checked.kind_of(compiled.checked.tree) == "bool"  # type: ignore[arg-type]
    for (row_id, db), row in zip(results, ROWS, strict=True):
        py = compiled.evaluate(row)
        assert _same(py, db), f"{expr!r} on row {row_id} {row}: python {py!r}, duckdb {db!r}"
        if boolean:
            assert compiled.test(row) is (db is True), f"{expr!r} test() on row {row_id}"


AGREEMENT_CASES = [
    "p AND q", "p OR q", "NOT p", "NOT (p AND NOT q)", "p AND q OR NOT p",
    "a = b", "a <> b", "a < b", "a <= 1", "x > y", "x >= a", "a = x", "s = t", "s < t",
    "s > 'a'", "p = q", "p <> TRUE", "a = NULL", "a = (NULL)", "ts < ts",
    "a IS NULL", "s IS NOT NULL", "p IS TRUE", "p IS NOT FALSE", "a IS DISTINCT FROM b",
    "s IS NOT DISTINCT FROM t",
    "a + b", "a - b * 2", "a * x", "a / b", "x / y", "a % b", "x % y", "a % 3", "-a", "-x + 1.5",
    "a / 0", "x / 0.0", "a % 0", "(a + 1) / (b - 1)",
    "a IN (1, 2, 3)", "a IN (1, NULL)", "a NOT IN (1, NULL)", "s IN ('a', 'high')",
    "a IN (b, 1)", "x IN (0.5, 1)", "p IN (TRUE)",
    "a BETWEEN 0 AND 2", "a BETWEEN b AND 3", "x NOT BETWEEN -1 AND y",
    "s LIKE 'a%'", "s LIKE '%c'", "s LIKE 'a_c'", "s LIKE '_'", "s LIKE ''", "s LIKE '%'",
    "s LIKE 'a\\%'", "s LIKE '%''%'", "s NOT LIKE '%a%'", "s ILIKE 'A%'", "s ILIKE '%GH'",
    "s ILIKE 'É'",
    "CASE WHEN p THEN a WHEN q THEN b ELSE 0 END", "CASE WHEN p THEN 1 ELSE 2.5 END",
    "CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", "CASE WHEN a > 1 THEN s END",
    "lower(s)", "upper(s)", "length(s)", "length(l)", "coalesce(a, b, 0)", "coalesce(s, t)",
    "coalesce(a, x)", "nullif(a, b)", "nullif(s, 'a')", "abs(a)", "abs(x)", "least(a, b)",
    "greatest(a, b, 1)", "least(x, a)", "greatest(s, t)",
    "starts_with(s, 'a')", "ends_with(s, 'c')", "contains(s, t)", "contains(s, '')",
    "list_contains(l, 'a')", "list_contains(l, s)", "list_contains(l, t)",
    "regexp_matches(s, '^a')",
    "regexp_matches(s, '(?i)high')", "regexp_matches(s, 'a.c')", "regexp_matches(s, '[bc]+$')",
    "hour(ts)", "extract(hour from ts) >= 12",
    "CAST(x AS INT)", "CAST(a AS DOUBLE)", "CAST(p AS INT)", "CAST(a AS VARCHAR)",
    "CAST(x AS VARCHAR)", "CAST(p AS VARCHAR)", "CAST(a / b AS VARCHAR)",
    "CAST(coalesce(a, x) AS VARCHAR)", "CAST(0.5 AS INT)", "CAST(2.5 AS INT)", "x::int",
    "s || t", "s || '!'",
    "x < 0.2", "0.1 + 0.2 = 0.3",
]  # fmt: skip


@pytest.mark.parametrize("expr", AGREEMENT_CASES)
def test_python_and_duckdb_agree(lake: duckdb.DuckDBPyConnection, expr: str) -> None:
    assert_agree(lake, expr)


# One call per function with a NULL argument, on rows chosen so that DuckDB's own answer would
# differ (an empty list with a NULL value: DuckDB 2.0 says FALSE). functions.py decides.
STRICT_CALLS = {
    "lower": "lower(t)", "upper": "upper(t)", "length": "length(t)", "abs": "abs(a)",
    "starts_with": "starts_with(s, t)", "ends_with": "ends_with(t, 'c')",
    "contains": "contains(s, t)", "list_contains": "list_contains(l, t)",
    "regexp_matches": "regexp_matches(t, 'a')", "hour": "hour(ts)",
}  # fmt: skip


def test_every_strict_function_has_a_null_case() -> None:
    from abusedesk.detection.rules.functions import FUNCTIONS

    assert {fn.name for fn in FUNCTIONS if fn.strict} == set(STRICT_CALLS)


@pytest.mark.parametrize("name", sorted(STRICT_CALLS))
def test_strict_functions_are_null_for_a_null_argument_in_both_engines(
    lake: duckdb.DuckDBPyConnection, name: str
) -> None:
    expr = STRICT_CALLS[name]
    assert_agree(lake, expr)
    compiled = compile_expression(expr, NS, boolean=False)
    row = {"s": "abc", "t": None, "l": [], "a": None, "ts": None}
    assert compiled.evaluate(row) is None
    sql = to_duckdb_sql(expr)
    got = lake.execute(
        f"SELECT ({sql}) FROM (SELECT 'abc' AS s, NULL::VARCHAR AS t, []::VARCHAR[] AS l, "
        "NULL::BIGINT AS a, NULL::TIMESTAMPTZ AS ts)"
    ).fetchone()
    assert got == (None,), f"{expr}: DuckDB gave {got}"


# Random expressions from a small typed grammar, checked against DuckDB on the same rows.

_CMP = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
_INT_LIT = st.integers(-10, 10).map(str)
_FLOAT_LIT = st.sampled_from(["0.5", "2.5", "-1.25", "0.0", "1e3"])
_STR_LIT = st.sampled_from(["'a'", "'high'", "''", "'it''s'", "'é'", "'A'"])
_PATTERN = st.sampled_from(["'a%'", "'%c'", "'a_c'", "'%'", "'_'", "'%h%'"])


def _numbers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        children.map(lambda e: f"(-({e}))"),
        children.map(lambda e: f"abs({e})"),
        st.tuples(children, children).map(lambda t: f"coalesce({t[0]}, {t[1]})"),
        st.tuples(children, children).map(lambda t: f"least({t[0]}, {t[1]})"),
        st.tuples(children, children).map(lambda t: f"greatest({t[0]}, {t[1]})"),
        children.map(lambda e: f"CAST({e} AS INT)"),
    )


NUMBERS = st.recursive(
    st.one_of(st.sampled_from(["a", "b", "x", "y"]), _INT_LIT, _FLOAT_LIT),
    _numbers,
    max_leaves=5,
)
TEXTS = st.one_of(
    st.sampled_from(["s", "t"]),
    _STR_LIT,
    st.sampled_from(["s", "t"]).map(lambda c: f"lower({c})"),
    st.tuples(st.sampled_from(["s", "t"]), _STR_LIT).map(lambda t: f"({t[0]} || {t[1]})"),
    NUMBERS.map(lambda e: f"CAST({e} AS VARCHAR)"),
)


def _conditions(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["AND", "OR"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        children.map(lambda e: f"(NOT {e})"),
        children.map(lambda e: f"({e} IS NOT TRUE)"),
        st.tuples(children, NUMBERS, NUMBERS).map(
            lambda t: f"(CASE WHEN {t[0]} THEN {t[1]} ELSE {t[2]} END > 1)"
        ),
    )


ATOMS = st.one_of(
    st.sampled_from(["p", "q", "TRUE", "FALSE", "NULL"]),
    st.tuples(NUMBERS, _CMP, NUMBERS).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    st.tuples(TEXTS, _CMP, TEXTS).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    NUMBERS.map(lambda e: f"({e} IS NULL)"),
    st.tuples(NUMBERS, st.lists(st.one_of(_INT_LIT, st.just("NULL")), min_size=1, max_size=3)).map(
        lambda t: f"({t[0]} IN ({', '.join(t[1])}))"
    ),
    st.tuples(NUMBERS, NUMBERS, NUMBERS).map(lambda t: f"({t[0]} BETWEEN {t[1]} AND {t[2]})"),
    st.tuples(TEXTS, st.sampled_from(["LIKE", "NOT LIKE", "ILIKE"]), _PATTERN).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    ),
    st.tuples(st.sampled_from(["starts_with", "ends_with", "contains"]), TEXTS, TEXTS).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})"
    ),
    TEXTS.map(lambda e: f"list_contains(l, {e})"),
)
CONDITIONS = st.recursive(ATOMS, _conditions, max_leaves=6)


@settings(
    derandomize=True,  # the same 150 expressions every run
    database=None,  # nothing written to .hypothesis/
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(expr=CONDITIONS)
def test_random_conditions_agree(lake: duckdb.DuckDBPyConnection, expr: str) -> None:
    assert_agree(lake, expr)
