"""Streaming and backtest agree: the default playbook over the same simulated events gives the
same (rule, event) matches whether evaluated event by event or in DuckDB over the lake."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abusedesk.cli.main import app
from abusedesk.detection.backtest import ENGINE_STATE, run_backtest
from abusedesk.detection.engine import DetectionEngine, default_pack_path
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import Event


@pytest.fixture(scope="module")
def sim_events(
    tmp_path_factory: pytest.TempPathFactory,
    simulated_day: Callable[[Path, int, float], list[Event]],
) -> list[Event]:
    return simulated_day(tmp_path_factory.mktemp("sim"), 11, 0.3)


def test_streaming_and_backtest_match_the_same_events(sim_events: list[Event]) -> None:
    pack = CompiledPack.load(default_pack_path())
    engine = DetectionEngine(pack)
    streamed: dict[str, list[str]] = {rule.spec.id: [] for rule in pack.rules}
    for event in sim_events:
        for rule in engine.evaluate(event).matched:
            streamed[rule.id].append(event.id)
    report = run_backtest(pack, sim_events, keep_event_ids=True)
    backtested = {r.rule_id: r.event_ids for r in report.rules}
    compared = 0
    for rule in pack.rules:
        if any(name in rule.spec.when for name in ENGINE_STATE):
            continue
        assert backtested[rule.spec.id] == streamed[rule.spec.id], rule.spec.id
        compared += 1
    assert compared >= 30
    assert sum(len(ids) for ids in streamed.values()) > 1000  # the comparison is not vacuous
    assert len([r for r in streamed if streamed[r]]) >= 15


def test_backtest_cli_refuses_a_pack_with_errors(cli_env: dict[str, str]) -> None:
    bad = Path(__file__).parent / "rules" / "packs" / "mistakes.yaml"
    result = CliRunner().invoke(app, ["rules", "backtest", str(bad)])
    assert result.exit_code == 1
    assert "the pack has errors" in result.stderr
    assert "error[unknown-name]" in result.stderr


def test_default_playbook_lints_clean_and_its_tests_pass() -> None:
    runner = CliRunner()
    lint = runner.invoke(app, ["rules", "lint", str(default_pack_path())])
    assert lint.exit_code == 0, lint.output
    assert "0 errors, 0 warnings" in lint.output
    tested = runner.invoke(app, ["rules", "test", str(default_pack_path())])
    assert tested.exit_code == 0, tested.output
    assert ", 0 failed" in tested.output


def test_default_playbook_is_big_enough() -> None:
    pack = CompiledPack.load(default_pack_path())
    assert len(pack.rules) >= 30
    assert len(pack.features) >= 20
    for rule in pack.rules:
        assert rule.spec.source, f"{rule.spec.id} cites no source for its threshold"
