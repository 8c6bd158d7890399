"""Case bars and risk scores agree across the paths: streaming (DetectionConsumer, which ingest,
`abusedesk detect` and the decision API all feed), the DuckDB backtest and the in-memory seed
sweep open the same cases, on the same accounts and policies, with the same score at opening."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from abusedesk.clock import FixedClock
from abusedesk.detection.backtest import ENGINE_STATE, run_backtest
from abusedesk.detection.engine import DetectionEngine, default_pack_path
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import Event, validate_event
from abusedesk.pipeline.signals import DetectionConsumer
from abusedesk.sim.generator import generate
from abusedesk.sim.sweep import run_seed
from abusedesk.storage.models import Case, CaseEvent
from abusedesk.workspace import Workspace


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Event]]:
    cache = tmp_path_factory.mktemp("sweep")
    # The sweep's cache name for (realistic, 2 days, no early complaints, seed 11): every
    # complaint stays in events.jsonl, so all three paths read the same events.
    folder = cache / "realistic-d2-early0-seed11"
    generate(folder, days=2, seed=11, scale=0.3, variety="realistic", early_complaints=0.0)
    with (folder / "events.jsonl").open("rb") as fh:
        events = [validate_event(orjson.loads(line)) for line in fh]
    return cache, sorted(events, key=lambda e: (e.ts, e.id))


def _engine_state_policies(pack: CompiledPack) -> set[str]:
    return {r.spec.policy for r in pack.rules if any(n in r.spec.when for n in ENGINE_STATE)}


def test_streaming_backtest_and_sweep_open_the_same_cases(
    workspace: Workspace, sim_run: tuple[Path, list[Event]]
) -> None:
    cache, events = sim_run
    pack = CompiledPack.load(default_pack_path())
    skip = _engine_state_policies(pack)  # link state is NULL in backtests

    consumer = DetectionConsumer(
        DetectionEngine(pack), workspace.store, FixedClock(datetime(2026, 3, 6, tzinfo=UTC))
    )
    for start in range(0, len(events), 2_000):
        consumer.on_events(events[start : start + 2_000])
    with workspace.store.sessions() as session:
        rows = session.execute(
            select(Case.account_id, Case.policy, CaseEvent.body)
            .join(CaseEvent, CaseEvent.case_id == Case.id)
            .where(CaseEvent.kind == "opened")
        ).all()
    streamed = {(a, p): body["risk"] for a, p, body in rows if p not in skip}

    report = run_backtest(pack, events)
    backtested = {
        (c.account_id, c.policy): c.risk_json() for c in report.cases if c.policy not in skip
    }
    assert streamed == backtested
    assert len(streamed) >= 5  # not vacuous

    swept = run_seed(11, "realistic", days=2, cache=cache, early=0.0)
    assert swept.report.desk is not None
    in_sweep = {(c.account_id, c.policy) for c in swept.cases if c.policy not in skip}
    assert in_sweep == set(streamed)
