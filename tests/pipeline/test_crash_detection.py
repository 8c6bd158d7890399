"""Detection after a crash opens the same cases as a clean run.

An ingest of simulated traffic (with detection) dies after some batches: committed, and some
of them detected, in the dead process, whose feature windows, link flags and case bars die with
it. The rerun rebuilds that state from the lake (pipeline/replay.rebuild_state) before it
detects the dead run's last batch and the rest: cases equal a clean run's. Without the rebuild
they do not (checked, so the test can fail). bench/faults.py kills real processes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update

from abusedesk.events.schema import Event
from abusedesk.pipeline.ingest import BatchConsumer
from abusedesk.settings import Settings
from abusedesk.storage.models import Base, Case, IngestRun
from abusedesk.workspace import Workspace

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).parent / "abusedesk")
BATCH = 1000


class Killer:
    """Dies (like `kill -9` would, between a batch's commit and its detection) at batch `at`."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.batches = 0

    def on_events(self, events: Sequence[Event]) -> None:
        self.batches += 1
        if self.batches == self.at:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = tmp_path_factory.mktemp("sim") / "sim"
    subprocess.run(
        [CLI, "sim", "generate", str(sim), "--days", "1", "--seed", "3", "--scale", "0.05"],
        check=True,
        capture_output=True,
    )
    return sim / "events.jsonl"


def run(settings: Settings, traffic: Path, *, die_at: int | None, rebuild: bool = True) -> None:
    ws = Workspace(settings)
    try:
        consumer = ws.detection_consumer(rebuild_after_crash=rebuild)
        consumers: list[BatchConsumer] = [consumer]
        if die_at is not None:
            consumers.insert(0, Killer(die_at))
        ingestor = ws.ingestor(consumers=consumers)
        ingestor.batch_size = BATCH
        if die_at is None:
            ingestor.ingest_paths([traffic])
            return
        with pytest.raises(KeyboardInterrupt):
            ingestor.ingest_paths([traffic])
        # The dead process's row still says "running" (its `except` never ran).
        with ws.store.transaction() as session:
            session.execute(update(IngestRun).values(status="running"))
    finally:
        ws.close()


def cases(settings: Settings) -> list[tuple[str | None, str]]:
    ws = Workspace(settings)
    try:
        with ws.store.sessions() as session:
            return sorted((c.account_id, c.policy) for c in session.scalars(select(Case)))
    finally:
        ws.close()


def reset(settings: Settings, home: Path) -> Settings:
    """An empty store and a new lake: a new SQLite file, or the test's PostgreSQL database
    emptied (the audit log is append-only: TRUNCATE, as tests/conftest.py does)."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        return Settings(home=home, database_url=f"sqlite:///{home / 'abusedesk.db'}")
    engine = create_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name != "roles"]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return Settings(home=home, database_url=url)


@pytest.mark.parametrize("die_at", [3, 9])
def test_cases_after_a_crash_equal_a_clean_runs(
    settings: Settings, traffic: Path, tmp_path: Path, die_at: int
) -> None:
    run(settings, traffic, die_at=None)
    clean = cases(settings)
    assert len(clean) >= 10, "the traffic should open cases"

    crashed = reset(settings, tmp_path / "crashed")
    run(crashed, traffic, die_at=die_at)
    assert len(cases(crashed)) < len(clean), "the crash should come before some cases"
    run(crashed, traffic, die_at=None)
    assert cases(crashed) == clean

    # Without the rebuild the rerun starts blind to what the dead process saw.
    blind = reset(crashed, tmp_path / "blind")
    run(blind, traffic, die_at=die_at)
    run(blind, traffic, die_at=None, rebuild=False)
    assert cases(blind) != clean
