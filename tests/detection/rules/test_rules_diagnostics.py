"""Rendering diagnostics: the exact text layout people and golden files rely on."""

from __future__ import annotations

import pytest

from abusedesk.detection.rules.diagnostics import (
    did_you_mean,
    error,
    render,
    summary,
    warning,
)
from abusedesk.detection.spec import Span

SOURCE = "rules:\n  - id: r1\n    when: to_cost_tier = 'high' AND otp_start_1h >= 40\n"


def test_render_with_caret_and_hint() -> None:
    diag = error(
        "unknown-name",
        "unknown feature or field `otp_start_1h`",
        Span("rules/bad.yaml", 3, 37, 49),
        "did you mean `otp_starts_1h`?",
    )
    assert render([diag], {"rules/bad.yaml": SOURCE}) == (
        "rules/bad.yaml:3:37: error[unknown-name]: unknown feature or field `otp_start_1h`\n"
        "  |\n"
        "3 |     when: to_cost_tier = 'high' AND otp_start_1h >= 40\n"
        "  |                                     ^^^^^^^^^^^^\n"
        "  = hint: did you mean `otp_starts_1h`?\n"
    )


def test_gutter_grows_with_the_line_number() -> None:
    text = "\n" * 13 + "    when: x\n"
    rendered = render([warning("no-tests", "m", Span("f", 14, 11))], {"f": text})
    assert rendered.splitlines()[1:4] == ["   |", "14 |     when: x", "   |           ^"]


def test_without_span_or_source() -> None:
    no_span = error("io-error", "pack.yaml does not exist", hint="check the path")
    no_source = error("syntax", "bad", Span("elsewhere.yaml", 2, 3))
    assert render([no_span, no_source], {}) == (
        "error[io-error]: pack.yaml does not exist\n"
        "  = hint: check the path\n"
        "\n"
        "elsewhere.yaml:2:3: error[syntax]: bad\n"
    )


def test_tabs_keep_carets_aligned() -> None:
    rendered = render([error("syntax", "m", Span("f", 1, 3, 4))], {"f": "\tx y\n"})
    assert rendered.splitlines()[3] == "  | \t ^"


def test_summary_and_did_you_mean() -> None:
    diags = [error("syntax", "m"), warning("no-tests", "m"), warning("unused-feature", "m")]
    assert summary(diags, 3) == "1 error, 2 warnings in 3 rules"
    assert summary([], 1) == "0 errors, 0 warnings in 1 rule"
    assert did_you_mean("severty", ["severity", "verdict"]) == "severity"
    assert did_you_mean("nul", ["NULL", "TRUE"]) == "NULL"
    assert did_you_mean("zzz", ["severity"]) is None


def test_codes_are_registered() -> None:
    with pytest.raises(ValueError, match="unregistered"):
        error("made-up", "m")
