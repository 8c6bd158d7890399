"""Expression validation: what a rule may say, and what lint says when it may not."""

from __future__ import annotations

import pytest

from abusedesk.detection.rules import ExpressionInvalid, compile_expression, to_duckdb_sql
from abusedesk.detection.rules.diagnostics import render
from abusedesk.detection.rules.expressions import check_expression
from abusedesk.detection.rules.names import MODEL_SCORES, base_namespace, pack_namespace
from abusedesk.detection.spec import FeatureSpec

FEATURES = (
    FeatureSpec("otp_starts_1h", "count", ("verification",), ("account_id",), 3600),
    FeatureSpec("spend_24h", "sum", ("message",), ("account_id",), 86400, of="price"),
)
NS = pack_namespace(FEATURES)

VALID = [
    "to_cost_tier = 'high' AND otp_starts_1h >= 40",
    "is_hard_bounce",
    "NOT has_url OR url_count > 3",
    "\"from\" LIKE '%@example.com' AND from_kind = 'email'",
    "channel IN ('sms', 'mms') AND segments BETWEEN 2 AND 10",
    "lookalike_brand IS NOT NULL",
    "success IS NOT TRUE",
    "spend_24h / 24 > 1.5",
    "price * segments >= 0.75",
    "coalesce(spam_score, 0) > 0.9",
    "lower(subject) LIKE '%invoice%' OR upper(body) ILIKE '%URGENT%'",
    "starts_with(to_prefix, '+371') OR ends_with(to_domain, '.ru') OR contains(body, 'bit.ly')",
    "list_contains(url_domains, 'bit.ly')",
    "regexp_matches(body, '\\d{6}')",
    "hour(ts) >= 21 OR extract(hour from ts) < 8",
    "CAST(segments AS DOUBLE) / 2 > 1 AND CAST(price AS INT) = 1 AND CAST(success AS VARCHAR) = 'true'",
    "least(url_count, 5) = greatest(1, url_count)",
    "nullif(error_code, '') IS NOT NULL AND ifnull(error_class, 'other') <> 'other'",
    "CASE WHEN channel = 'sms' THEN segments ELSE 1 END > 1",
    "CASE channel WHEN 'sms' THEN 1 WHEN 'email' THEN 2 END = 1",
    "length(body) > 400 AND length(url_domains) > 2",
    "account_id IS DISTINCT FROM 'acc_1'",
    "type = 'message' AND id <> '' AND ts IS NOT NULL",
    "-price < -1",
    "subject || ' ' || body LIKE '%win%'",
    "(has_url)",
    "NULL",
]


@pytest.mark.parametrize("expr", VALID)
def test_valid_expressions(expr: str) -> None:
    checked = check_expression(expr, NS)
    assert checked.ok, render(checked.diagnostics, {"<expression>": expr})
    assert [d for d in checked.diagnostics if not d.is_error] == []
    to_duckdb_sql(expr)  # and DuckDB can be given the same text


INVALID = [
    ("otp_start_1h >= 40", "unknown-name", "did you mean `otp_starts_1h`?"),
    ("to_countyr = 'LV'", "unknown-name", "did you mean `to_country`?"),
    ("url_count > 1 ANDD has_url", "syntax", None),
    ("has_url IS NUL", "syntax", "did you mean `NULL`?"),
    ("to_cost_tier = 3", "type-mismatch", "to compare as text, quote it: '3'"),
    ("url_count = '3'", "type-mismatch", "to compare as a number, drop the quotes: 3"),
    ("has_url = 'true'", "type-mismatch", "write TRUE without quotes"),
    (
        "url_domains = 'bit.ly'",
        "type-mismatch",
        "test membership: list_contains(url_domains, 'value')",
    ),
    ("ts > '2024-01-01'", "type-mismatch", None),
    ("body + 1 > 2", "type-mismatch", "join text with ||"),
    ("-body = 'x'", "type-mismatch", None),
    ("url_count || 'x' = 'y'", "type-mismatch", None),
    ("url_count", "not-boolean", "compare it, e.g. `url_count > 0`"),
    ("to_country", "not-boolean", "compare it, e.g. `to_country = 'value'`"),
    ("url_domains", "not-boolean", "test membership: list_contains(url_domains, 'value')"),
    ("has_url AND url_count", "not-boolean", None),
    ("NOT price", "not-boolean", None),
    ("CASE WHEN url_count THEN 1 END = 1", "not-boolean", None),
    ("url_count IS TRUE", "not-boolean", None),
    ("CASE WHEN has_url THEN 1 ELSE 'a' END = 1", "type-mismatch", None),
    ("coalesce(price, 'free') = 'free'", "type-mismatch", None),
    ("count(*) > 10", "aggregate", None),
    ("max(url_count) > 1", "aggregate", None),
    ("sum(price) OVER (PARTITION BY account_id) > 10", "window-function", None),
    ("account_id IN (SELECT account_id FROM bad)", "subquery", None),
    ("EXISTS (SELECT 1)", "subquery", None),
    ("SELECT 1", "subquery", None),
    ("lowercase(body) = 'x'", "unknown-function", "did you mean `lower`?"),
    ("random() > 0.5", "unknown-function", None),
    ("now() > ts", "unknown-function", None),
    ("lower(body, 'x') = 'y'", "syntax", None),  # sqlglot knows lower's arity
    ("lower(url_count) = 'x'", "bad-arguments", None),
    ("list_contains(body, 'x')", "bad-arguments", None),
    ("hour(body) = 1", "bad-arguments", None),
    ("regexp_matches(body, subject)", "bad-pattern", None),
    ("regexp_matches(body, '(a')", "bad-regex", None),
    ("regexp_matches(body, '(?<=a)b')", "bad-regex", None),
    ("regexp_matches(body, 'a', 'i')", "not-allowed", None),
    ("body LIKE subject", "bad-pattern", None),
    ("body LIKE 'a!%' ESCAPE '!'", "not-allowed", None),
    (
        "CAST(error_code AS INT) = 30007",
        "not-allowed",
        "compare as text instead, e.g. error_code = '30007'",
    ),
    ("CAST(ts AS VARCHAR) = 'x'", "not-allowed", None),
    ("CAST(price AS DATE) IS NULL", "not-allowed", None),
    ("extract(day from ts) = 1", "not-allowed", None),
    ("t.price > 1", "not-allowed", None),
    ("price > ?", "not-allowed", None),
    ("headers IS NULL", "not-readable", None),
    (
        'to_country = "LV"',
        "unknown-name",
        "double quotes name a field; for text use single quotes: 'LV'",
    ),
    ("from = 'x'", "syntax", 'write "from" in double quotes to mean the sender field'),
    (
        "has_url AND from LIKE '%x'",
        "syntax",
        'write "from" in double quotes to mean the sender field',
    ),
    ("(has_url OR has_punycode", "syntax", "add a `)` where the group ends"),
    ("has_url)", "syntax", None),
    ("body = 'unterminated", "syntax", None),
    ("has_url; DROP TABLE events", "syntax", None),
    ("", "syntax", None),
]


@pytest.mark.parametrize(("expr", "code", "hint"), INVALID)
def test_invalid_expressions(expr: str, code: str, hint: str | None) -> None:
    checked = check_expression(expr, NS)
    errors = [d for d in checked.diagnostics if d.is_error]
    shown = render(checked.diagnostics, {"<expression>": expr})
    assert not checked.ok
    assert code in [d.code for d in errors], shown
    if hint is not None:
        assert hint in [d.hint for d in errors if d.code == code], shown


def test_features_are_refused_in_a_feature_filter() -> None:
    checked = check_expression("otp_starts_1h > 1 AND has_url", NS, features_allowed=False)
    assert [d.code for d in checked.diagnostics] == ["feature-in-where"]


def test_comparison_with_null_warns() -> None:
    checked = check_expression("lookalike_brand = NULL", NS)
    assert checked.ok
    assert [d.code for d in checked.diagnostics] == ["null-comparison"]
    assert checked.diagnostics[0].severity == "warning"


def test_every_mistake_in_one_expression_is_reported() -> None:
    checked = check_expression("nope = 1 AND to_cost_tier = 3 AND lowr(body) = 'x'", NS)
    assert sorted(d.code for d in checked.diagnostics) == [
        "type-mismatch",
        "unknown-function",
        "unknown-name",
    ]


def test_references_and_columns_of_diagnostics() -> None:
    checked = check_expression("has_url AND   nope_feature > 1", NS)
    assert checked.references == {"has_url"}
    (diag,) = checked.diagnostics
    assert diag.span is not None
    assert (diag.span.line, diag.span.col, diag.span.end_col) == (1, 15, 27)


def test_unknown_names_without_a_namespace_are_accepted() -> None:
    compiled = compile_expression("anything > 1 AND other = 'x'")
    assert compiled.references == {"anything", "other"}
    assert compiled.test({"anything": 2, "other": "x"}) is True


def test_compile_refuses_an_invalid_expression() -> None:
    with pytest.raises(ExpressionInvalid) as info:
        compile_expression("url_count = 'x' AND nope", NS)
    assert info.value.code == "invalid_input"
    assert {d["code"] for d in info.value.details} == {"type-mismatch", "unknown-name"}
    assert "error[unknown-name]" in info.value.message


def test_model_scores_are_names_of_kind_num() -> None:
    names = base_namespace()
    assert "spam_score" in MODEL_SCORES
    assert names["spam_score"].kind == "num"
    assert names["spam_score"].origin == "model"
    extended = base_namespace({**MODEL_SCORES, "phishing_score": "phishing probability"})
    assert extended["phishing_score"].origin == "model"


def test_namespace_has_every_kind_of_name() -> None:
    origins = {name.origin for name in NS.values()}
    assert origins == {"envelope", "field", "enrichment", "feature", "model", "engine"}
    assert NS["linked_flagged_accounts"].kind == "int"
    assert NS["ts"].kind == "timestamp"
    assert NS["from"].kind == "str"
    assert NS["otp_starts_1h"].kind == "int"
    assert NS["spend_24h"].kind == "num"
    assert NS["url_domains"].kind == "strlist"
    assert "headers" not in NS


def test_generated_python_holds_no_user_text_outside_literals() -> None:
    value = "x' or __import__('os').system('false') or '"
    sql_literal = "'" + value.replace("'", "''") + "'"
    compiled = compile_expression(f"body = {sql_literal} AND \"from\" <> 'a'", NS)
    assert compiled.test({"body": value, "from": "b"}) is True
    assert compiled.test({"body": "x", "from": "b"}) is False
    assert repr(value) in compiled.source  # only ever as a Python literal
    assert "_get('from')" in compiled.source
