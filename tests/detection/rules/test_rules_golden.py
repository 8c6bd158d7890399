"""`rules lint` on a pack full of mistakes: every one reported, in one run, as golden text.

To regenerate the golden file after an intended change of wording or layout:
    ABUSEDESK_REGEN_GOLDEN=1 .venv/bin/pytest tests/detection/rules/test_rules_golden.py
then read the diff of golden/mistakes.txt before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abusedesk.cli.rules import app
from abusedesk.detection.rules.pack import analyze_path

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "mistakes.txt"


def test_mistakes_render_as_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)  # paths in the output are as given: packs/mistakes.yaml
    result = CliRunner().invoke(app, ["lint", "packs/mistakes.yaml"])
    assert result.exit_code == 1
    if os.environ.get("ABUSEDESK_REGEN_GOLDEN") == "1":
        GOLDEN.write_text(result.output, encoding="utf-8")
    assert result.output == GOLDEN.read_text(encoding="utf-8")


def test_every_mistake_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    analysis = analyze_path(Path("packs/mistakes.yaml"))
    found = {(d.code, d.span.line if d.span else 0) for d in analysis.diagnostics if d.is_error}
    expected = {
        ("bad-window", 6),  # window: 5x
        ("feature-in-where", 7),  # a feature's where reads a feature
        ("unknown-name", 13),  # otp_start_1h, misspelt feature
        ("unknown-name", 20),  # destination_carrier, unknown field
        ("bad-value", 26),  # severity: urgent
        ("type-mismatch", 34),  # to_cost_tier = 3
        ("aggregate", 41),  # count(*)
        ("subquery", 48),
        ("unknown-function", 55),  # lowercase()
        ("syntax", 64),  # unbalanced parenthesis, inside a block scalar
        ("missing-key", 68),  # no `when`
        ("unknown-key", 75),  # severty
        ("duplicate-id", 80),
    }
    assert found == expected
    assert analysis.loaded.n_rules == 11


def test_misspelt_feature_points_at_its_column() -> None:
    analysis = analyze_path(HERE / "packs" / "mistakes.yaml")
    diag = next(d for d in analysis.diagnostics if d.code == "unknown-name")
    assert diag.span is not None
    assert (diag.span.line, diag.span.col, diag.span.end_col) == (13, 37, 49)
    assert diag.hint == "did you mean `otp_starts_1h`?"
