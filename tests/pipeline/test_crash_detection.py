"""Detection after a crash opens the same cases as a clean run.

An ingest of simulated traffic (with detection) dies after some batches: committed, and some
of them detected, in the dead process, whose feature windows, link flags and case bars die with
it. The rerun rebuilds that state from the lake (pipeline/replay.rebuild_state) before it
detects the dead run's last batch and the rest: cases equal a clean run's. Without the rebuild
they do not (checked, so the test can fail). bench/faults.py kills real processes.

The seed-7 cases are the kill points bench/faults.py found losing cases (issue 10): a dead run's
last batch detected type by type (its Parquet files hold one type each), and, with the
simulator's early complaints read first, a waiting report handed to detection and a linked
complaint held back from detection when the process died.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update

from abusedesk.events.schema import Event
from abusedesk.pipeline.ingest import BatchConsumer
from abusedesk.settings import Settings
from abusedesk.storage.models import Base, Case, HeldEvent, IngestRun, Signal
from abusedesk.workspace import Workspace

pytestmark = pytest.mark.slow
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


def run(
    settings: Settings,
    traffic: Path | Sequence[Path],
    *,
    die_at: int | None,
    rebuild: bool = True,
    batch: int = BATCH,
) -> None:
    files = [traffic] if isinstance(traffic, Path) else list(traffic)
    ws = Workspace(settings)
    try:
        consumer = ws.detection_consumer(rebuild_after_crash=rebuild)
        consumers: list[BatchConsumer] = [consumer]
        if die_at is not None:
            consumers.insert(0, Killer(die_at))
        ingestor = ws.ingestor(consumers=consumers)
        ingestor.batch_size = batch
        if die_at is None:
            ingestor.ingest_paths(files)
            return
        with pytest.raises(KeyboardInterrupt):
            ingestor.ingest_paths(files)
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


@pytest.mark.parametrize(
    ("early_complaints", "die_at", "held_at_death"),
    [
        # Batch 9 of 10 committed, not detected: the rerun detected it messages first, then
        # deliveries, and lost 3 filtering-evasion cases and a phishing one.
        (False, 9, 0),
        # The first batch holds the early complaint's report, waiting for its message: given
        # to detection by the rerun, its time (hours ahead) made the windows drop what followed.
        (True, 1, 0),
        # The rerun replayed that report with the dead run's events, in time order: its time
        # became the windows' clock before the dead run's last batch was detected.
        (True, 6, 0),
        # The complaint was linked in batch 8 and held until batch 9 reaches its time: the
        # rerun took it for detected (and replayed it, recording nothing); its signal was lost.
        (True, 9, 1),
    ],
)
def test_cases_after_a_kill_equal_a_clean_runs_on_faults_traffic(
    settings: Settings,
    seed7: Path,
    tmp_path: Path,
    early_complaints: bool,
    die_at: int,
    held_at_death: int,
) -> None:
    files = [seed7 / "events.jsonl"]
    if early_complaints:
        files.insert(0, seed7 / "complaints.mbox")
    run(settings, files, die_at=None, batch=2000)
    clean = cases(settings)
    clean_signals = signals(settings)
    assert len(clean) >= 40, "the traffic should open cases"

    crashed = reset(settings, tmp_path / "crashed")
    run(crashed, files, die_at=die_at, batch=2000)
    assert len(cases(crashed)) < len(clean), "the crash should come before some cases"
    assert held(crashed) == held_at_death
    run(crashed, files, die_at=None, batch=2000)
    assert cases(crashed) == clean
    # Signals too: the held complaint's own signal is no case of its own on this traffic.
    assert signals(crashed) == clean_signals
    assert held(crashed) == 0, "a finished run holds nothing back"


def signals(settings: Settings) -> list[tuple[str | None, str, str, int]]:
    ws = Workspace(settings)
    try:
        with ws.store.sessions() as session:
            rows = session.execute(
                select(Signal.account_id, Signal.rule_id, Signal.event_id, Signal.hits)
            )
            return sorted((a, r, e, h) for a, r, e, h in rows)
    finally:
        ws.close()


def held(settings: Settings) -> int:
    ws = Workspace(settings)
    try:
        with ws.store.sessions() as session:
            return session.scalar(select(func.count()).select_from(HeldEvent)) or 0
    finally:
        ws.close()
