"""kill -9 of a real ingest (with detection) at random instants, then a rerun: the lake holds
every event exactly once and agrees with the idempotency index, and the killed run is marked
"interrupted". A small version of bench/faults.py's campaign."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from abusedesk.settings import Settings
from abusedesk.storage.models import EventId, IngestRun
from abusedesk.workspace import Workspace

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).parent / "abusedesk")


def test_kill_nine_at_random_instants_then_rerun(settings: Settings, tmp_path: Path) -> None:
    env = dict(
        os.environ,
        ABUSEDESK_HOME=str(settings.home),
        ABUSEDESK_DATABASE_URL=settings.resolved_database_url,
        ABUSEDESK_INGEST_BATCH_SIZE="500",
    )
    rng = random.Random(4)
    expected: set[str] = set()
    kills = 0
    for seed in (1, 2, 3):
        sim = tmp_path / f"sim{seed}"
        subprocess.run(
            [
                CLI,
                "sim",
                "generate",
                str(sim),
                "--days",
                "1",
                "--seed",
                str(seed),
                "--scale",
                "0.05",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        traffic = sim / "events.jsonl"
        expected |= {orjson.loads(line)["id"] for line in traffic.read_bytes().splitlines()}
        proc = subprocess.Popen([CLI, "ingest", str(traffic)], env=env, stdout=subprocess.DEVNULL)
        # Wait until the run holds its lock, then kill at a random instant inside it (an
        # instant, not a duration, is what varies; nothing here asserts on time).
        runs_dir = settings.resolved_lake_dir / ".runs"
        while proc.poll() is None and not any(runs_dir.glob("run-*.lock")):
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 2.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        subprocess.run([CLI, "ingest", str(traffic)], env=env, check=True, capture_output=True)
        ws = Workspace(settings)
        try:
            with ws.lake_reader() as reader:
                rows, distinct = reader.con.execute(
                    "SELECT count(*), count(DISTINCT id) FROM events"
                ).fetchone() or (0, 0)
            with ws.store.sessions() as session:
                ids = session.scalar(select(func.count()).select_from(EventId))
                statuses = list(session.scalars(select(IngestRun.status)))
        finally:
            ws.close()
        assert rows == distinct == ids == len(expected)
        assert "running" not in statuses
    # A kill after the run closed (while the process printed) leaves it "done".
    assert 1 <= statuses.count("interrupted") <= kills
