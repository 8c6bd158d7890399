"""`sim generate` writes the three files and prints the summary."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from abusedesk.sim.cli import app


def test_generate_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", str(tmp_path), "--days", "1", "--scale", "0.1"])
    assert result.exit_code == 0, result.output
    assert "events" in result.output
    assert "smishing_ring" in result.output
    for name in ("events.jsonl", "labels.json", "truth.json"):
        assert (tmp_path / name).stat().st_size > 0


def test_generate_refuses_a_naive_start(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", str(tmp_path), "--start", "2026-03-02T00:00:00"])
    assert result.exit_code == 1
    assert not (tmp_path / "events.jsonl").exists()


def test_generate_refuses_zero_days(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", str(tmp_path), "--days", "0"])
    assert result.exit_code == 2
