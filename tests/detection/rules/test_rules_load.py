"""Loading: shapes, positions (down to a column inside a YAML string), every mistake at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from abusedesk.detection.rules.diagnostics import Diagnostic, render
from abusedesk.detection.rules.lint import Analysis
from abusedesk.detection.rules.pack import load_pack_text

FEATURE = "features:\n  sends_1h: {count: message, by: [account_id], window: 1h}\n"


def analyze(text: str) -> Analysis:
    return load_pack_text(text, "p.yaml")


def codes(analysis: Analysis) -> list[str]:
    return [d.code for d in analysis.diagnostics]


def only(analysis: Analysis, code: str) -> Diagnostic:
    found = [d for d in analysis.diagnostics if d.code == code]
    assert len(found) == 1, render(analysis.diagnostics, analysis.sources)
    return found[0]


def where(diag: Diagnostic) -> tuple[int, int, int | None]:
    assert diag.span is not None
    return diag.span.line, diag.span.col, diag.span.end_col


def rule(when: str, extra: str = "") -> str:
    """One rule whose `when:` line is line 4 of the pack (after FEATURE and `rules:`)."""
    return (
        FEATURE
        + "rules:\n"
        + f"  - when: {when}\n"
        + "    id: r1\n    policy: spam\n    severity: medium\n    verdict: review\n"
        + "    tests: [{given: {sends_1h: 1}, expect: no_match}]\n"
        + extra
    )


@pytest.mark.parametrize(
    ("when", "position"),
    [
        ("sends_1h > 1 AND nope = 1", (4, 28, 32)),  # plain scalar
        ("'sends_1h > 1 AND nope = ''x'''", (4, 29, 33)),  # single-quoted, '' escapes
        ('"sends_1h > 1 AND nope = \\"x\\""', (4, 29, 33)),  # double-quoted: "x" is a name
    ],
)
def test_expression_errors_point_into_the_scalar(when: str, position: tuple[int, int, int]) -> None:
    diag = next(d for d in analyze(rule(when)).diagnostics if d.code == "unknown-name")
    assert where(diag) == position


def test_block_scalars_map_back_to_file_lines() -> None:
    literal = rule("|\n      sends_1h > 1\n        AND nope = 1")
    assert where(only(analyze(literal), "unknown-name")) == (6, 13, 17)
    folded = rule(">\n      sends_1h > 1\n      AND nope = 1")
    assert where(only(analyze(folded), "unknown-name")) == (6, 11, 15)
    plain = rule("sends_1h > 1\n      AND nope = 1")  # a plain scalar folded over two lines
    assert where(only(analyze(plain), "unknown-name")) == (5, 11, 15)


def test_unknown_key_has_did_you_mean_and_is_not_reported_missing() -> None:
    analysis = analyze(rule("sends_1h > 1").replace("severity:", "severty:"))
    diag = only(analysis, "unknown-key")
    assert diag.hint == "did you mean `severity`?"
    assert "missing-key" not in codes(analysis)


def test_keys_from_other_engines_get_a_hint() -> None:
    analysis = analyze(rule("sends_1h > 1").replace("verdict:", "action:"))
    assert only(analysis, "unknown-key").hint == "did you mean `verdict`?"


def test_missing_keys_and_wrong_types_are_all_reported() -> None:
    text = (
        FEATURE
        + "rules:\n"
        + "  - id: r1\n    policy: [a]\n    severity: 3\n    verdict: nuke\n    mode: dry\n"
        + "    case: {queue: fraud, priority: P9}\n    tests: {}\n"
    )
    analysis = analyze(text)
    found = {(d.code, d.span.line if d.span else 0) for d in analysis.diagnostics}
    assert {
        ("missing-key", 4),  # no when
        ("wrong-type", 5),  # policy is a list
        ("wrong-type", 6),  # severity is a number
        ("bad-value", 7),  # verdict
        ("bad-value", 8),  # mode
        ("bad-value", 9),  # priority P9
        ("wrong-type", 10),  # tests is not a list
    } <= found


def test_duplicate_yaml_key_is_an_error() -> None:
    analysis = analyze(rule("sends_1h > 1", "    severity: high\n"))
    diag = only(analysis, "duplicate-key")
    assert where(diag)[0] == 10


def test_yaml_syntax_error_has_a_position() -> None:
    analysis = analyze("rules:\n  - {id: r1, when: [a\n")
    diag = only(analysis, "yaml-syntax")
    assert diag.span is not None
    assert diag.span.file == "p.yaml"
    assert analysis.pack.rules == ()


@pytest.mark.parametrize(
    ("feature", "code"),
    [
        ("{count: message, by: [account_id], window: 5x}", "bad-window"),
        ("{count: message, by: [account_id], window: 45d}", "bad-window"),
        ("{count: message, by: [account_id], window: 60}", "wrong-type"),
        ("{count: mesage, by: [account_id], window: 1h}", "unknown-event-type"),
        ("{count: message, by: account_id, window: 1h}", "wrong-type"),
        ("{count: message, by: [], window: 1h}", "wrong-type"),
        ("{count: message, by: [acount_id], window: 1h}", "unknown-name"),
        ("{count: message, by: [url_domains], window: 1h}", "bad-feature"),
        ("{count: message, window: 1h}", "missing-key"),
        ("{count: message, by: [account_id]}", "missing-key"),
        ("{cout: message, by: [account_id], window: 1h}", "unknown-key"),
        ("{by: [account_id], window: 1h}", "missing-key"),
        ("{count: message, sum: price, by: [account_id], window: 1h}", "bad-feature"),
        ("{sum: body, on: message, by: [account_id], window: 1h}", "bad-feature"),
        ("{sum: prize, on: message, by: [account_id], window: 1h}", "unknown-name"),
        ("{distinct: url_domains, on: message, by: [account_id], window: 1h}", "bad-feature"),
        ("{ratio: success, on: verification, by: [account_id], window: 1h}", "missing-key"),
        ("{ratio: a, over: b, where: c, on: message, by: [account_id], window: 1h}", "unknown-key"),
        ("{age: account, by: [account_id], window: 1h}", "unknown-key"),
        (
            "{count: message, where: 'sends_1h > 1', by: [account_id], window: 1h}",
            "feature-in-where",
        ),
        ("{count: message, where: 'price', by: [account_id], window: 1h}", "not-boolean"),
        ("{ratio_of: [sends_1h]}", "wrong-type"),
        ("{ratio_of: [sends_1h, sends_2h]}", "unknown-name"),
        ("{ratio_of: [sends_1h, x]}", "unknown-name"),
        ("{ratio_of: [sends_1h, age_h]}", "bad-feature"),
        ("{ratio_of: [sends_1h, sends_1d]}", "bad-feature"),
    ],
)
def test_feature_mistakes(feature: str, code: str) -> None:
    text = (
        "features:\n"
        "  sends_1h: {count: message, by: [account_id], window: 1h}\n"
        "  sends_1d: {count: message, by: [account_id], window: 1d}\n"
        "  age_h: {age: account, by: [account_id]}\n"
        f"  x: {feature}\n"
    )
    analysis = analyze(text)
    errors = [d for d in analysis.diagnostics if d.is_error]
    assert code in [d.code for d in errors], render(analysis.diagnostics, analysis.sources)


def test_ratio_of_suggests_the_feature_meant() -> None:
    text = FEATURE + "  rate: {ratio_of: [sends_1h, sends_h1]}\n"
    diag = only(analyze(text), "unknown-name")
    assert diag.hint == "did you mean `sends_1h`?"
    assert where(diag) == (3, 31, 39)


def test_feature_named_like_a_field_clashes() -> None:
    analysis = analyze("features:\n  price: {count: message, by: [account_id], window: 1h}\n")
    assert "name-clash" in codes(analysis)


def test_feature_names_must_be_identifiers() -> None:
    analysis = analyze("features:\n  Sends-1h: {count: message, by: [account_id], window: 1h}\n")
    assert "bad-name" in codes(analysis)


def test_feature_reading_a_field_its_types_lack_warns() -> None:
    text = (
        "features:\n  f: {count: verification, where: 'price > 1', by: [account_id], window: 1h}\n"
    )
    diag = only(analyze(text), "field-not-on-type")
    assert diag.severity == "warning"
    assert "price" in diag.message


def test_test_rows_are_read_and_checked() -> None:
    text = rule(
        "sends_1h > 1",
        "  - id: r2\n    policy: spam\n    severity: low\n    verdict: review\n"
        "    when: hour(ts) = 3\n"
        "    tests:\n"
        "      - given: {ts: '2024-05-01T03:00:00+02:00', type: mesage, sends_1h: many, stge: x}\n"
        "        expect: match\n"
        "      - given: {ts: 2024-05-01T03:00:00Z, url_domains: [a, b], stage: strt}\n"
        "        expect: maybe\n",
    )
    analysis = analyze(text)
    r2 = next(r for r in analysis.pack.rules if r.id == "r2")
    assert len(r2.tests) == 2  # the second, with a bad `expect`, is kept to check its row
    assert r2.tests[0].row["ts"] == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
    messages = [d.message for d in analysis.diagnostics if d.code == "bad-test"]
    assert any("`type` is 'mesage'" in m for m in messages)
    assert any("`sends_1h` must be a whole number" in m for m in messages)
    assert any("unknown name `stge`" in m for m in messages)
    assert any("`stage` is 'strt'" in m for m in messages)
    hints = {d.hint for d in analysis.diagnostics if d.code == "bad-test"}
    assert {"did you mean `message`?", "did you mean `stage`?", "did you mean `start`?"} <= hints
    assert "bad-value" in codes(analysis)  # expect: maybe


def test_naive_timestamp_in_a_test_is_refused() -> None:
    text = rule("sends_1h > 1").replace("{sends_1h: 1}", "{sends_1h: 1, ts: '2024-05-01T03:00:00'}")
    assert "bad-test" in codes(analyze(text))


def test_case_none_and_defaults() -> None:
    analysis = analyze(
        rule("sends_1h > 1", "").replace(
            "    verdict: review\n", "    verdict: review\n    case: none\n"
        )
    )
    assert analysis.ok, render(analysis.diagnostics, analysis.sources)
    assert analysis.pack.rules[0].case is None
    default = analyze(rule("sends_1h > 1"))
    case = default.pack.rules[0].case
    assert case is not None
    assert (case.queue, case.priority) == ("general", "P3")


def test_rule_ids_are_checked() -> None:
    analysis = analyze(rule("sends_1h > 1").replace("id: r1", "id: 'r 1!'"))
    assert "bad-name" in codes(analysis)


def test_pack_names_must_agree_across_files() -> None:
    from abusedesk.detection.rules.load import load_texts

    loaded = load_texts([("a.yaml", "pack: one\n"), ("b.yaml", "pack: two\n")], "x")
    assert [d.code for d in loaded.diagnostics] == ["bad-value"]
    assert loaded.pack.name == "one"


def test_warnings_block_low_and_no_tests_and_unused_feature() -> None:
    text = (
        "features:\n"
        "  sends_1h: {count: message, by: [account_id], window: 1h}\n"
        "  unused_1h: {count: message, by: [account_id], window: 1h}\n"
        "rules:\n"
        "  - {id: r1, policy: spam, severity: low, verdict: block, when: sends_1h > 1}\n"
        "  - {id: r2, policy: spam, severity: low, verdict: block, mode: shadow, when: has_url,\n"
        "     tests: [{given: {has_url: true}, expect: match}]}\n"
    )
    analysis = analyze(text)
    assert analysis.ok
    found = sorted((d.code, d.span.line if d.span else 0) for d in analysis.diagnostics)
    assert found == [("block-low-severity", 5), ("no-tests", 5), ("unused-feature", 3)]


def test_crlf_files_have_the_same_positions() -> None:
    text = rule("|\n      sends_1h > 1\n        AND nope = 1").replace("\n", "\r\n")
    diag = only(analyze(text), "unknown-name")
    assert where(diag) == (6, 13, 17)
    assert "6 |         AND nope = 1\n" in render([diag], {"p.yaml": text})


def test_non_ascii_text_before_the_error_keeps_columns() -> None:
    diag = only(analyze(rule("body = 'é€😀' AND nope = 1")), "unknown-name")
    assert where(diag) == (4, 28, 32)  # columns count characters, not bytes
