"""The demo as a new user runs it, and detection quality against the simulator's ground truth.

Targets (issue: simulator and evaluation): recall of at least 0.9 on every abuse scenario,
precision of at least 0.9, and no legitimate outlier flagged. A smaller traffic scale keeps the
test quick; the demo's default run is measured by hand and reported in the closing notes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from abusedesk.cli.evaluate import evaluate_store
from abusedesk.cli.main import app
from abusedesk.settings import Settings
from abusedesk.workspace import Workspace


@pytest.mark.slow
def test_demo_finds_every_scenario_and_leaves_outliers_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ABUSEDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ABUSEDESK_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--scale", "0.5", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Detection against ground truth" in result.output
    assert "cases opened" in result.output
    # Beside the score, what it measures: simulator and playbook were written together.
    assert "the simulator and the default playbook were written together" in " ".join(
        result.output.split()
    )
    # Enforcement in dry run: the ladder's step on the P1 cases and one rendered notice.
    assert "enforcement (dry run)" in result.output
    assert "would suspend account" in result.output
    assert "Subject: Action required: account suspended on account" in result.output
    assert "an analyst fills these before it can be sent: threshold" in result.output

    home = tmp_path / "home" / "demo"
    with Workspace(Settings(home=home)) as ws:
        report = evaluate_store(ws.store, home / "sim" / "labels.json")
    scores = {s.scenario: s for s in report.scenarios}
    assert len(scores) >= 10
    for name, score in scores.items():
        assert score.recall >= 0.9, f"{name}: recall {score.recall:.2f}"
    assert report.precision >= 0.9
    assert report.outliers_flagged == {}
    assert report.false_positives_by_kind == {}
