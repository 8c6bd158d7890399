"""One event dated a day ahead of the data, of another account, changes no case (issue 10).

Simulated traffic lies in the past, so an event a day after its last one is not ahead of the
ingest clock and ingest takes it in. Read early, it used to move the one feature watermark of
the store a day ahead, and every later event of every account was too late for the windows:
cases were lost. Lateness is now judged per (table, key), so it moves its own keys' clock only.
Checked to fail on the store-wide watermark. bench/faults.py's far_event section does the same
with real processes.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from abusedesk.settings import Settings
from abusedesk.storage.models import Case, IngestRun
from abusedesk.workspace import Workspace

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).parent / "abusedesk")


def ahead_of_data(traffic: Path, out: Path) -> str:
    """The traffic with, after its 100th line, a copy of its first message moved to an account
    of its own and dated a day after the last event. Returns that event's id."""
    lines = traffic.read_bytes().splitlines(keepends=True)
    events = [orjson.loads(line) for line in lines]
    last = max(datetime.fromisoformat(e["ts"]) for e in events)
    model = next(e for e in events if e["type"] == "message")
    far = {**model, "id": "ahead-of-data", "account_id": "ACahead"}
    far["ts"] = (last + timedelta(days=1)).isoformat()
    out.write_bytes(b"".join([*lines[:100], orjson.dumps(far) + b"\n", *lines[100:]]))
    return str(far["id"])


def ingest(settings: Settings, path: Path) -> tuple[list[tuple[str | None, str]], int]:
    """Ingest with streaming detection; the cases and the events the run accepted."""
    ws = Workspace(settings)
    try:
        ingestor = ws.ingestor(consumers=[ws.detection_consumer()])
        ingestor.batch_size = 1000
        ingestor.ingest_paths([path])
        with ws.store.sessions() as session:
            found = sorted((c.account_id, c.policy) for c in session.scalars(select(Case)))
            accepted = sum(r.accepted for r in session.scalars(select(IngestRun)))
        return found, accepted
    finally:
        ws.close()


def sqlite(home: Path) -> Settings:
    return Settings(home=home, database_url=f"sqlite:///{home / 'abusedesk.db'}")


def test_an_event_a_day_ahead_of_the_data_leaves_the_cases_as_they_are(
    traffic: Path, tmp_path: Path
) -> None:
    mixed = tmp_path / "mixed.jsonl"
    ahead_of_data(traffic, mixed)
    clean_cases, clean_accepted = ingest(sqlite(tmp_path / "clean"), traffic)
    assert len(clean_cases) >= 10, "the traffic should open cases"

    mixed_cases, mixed_accepted = ingest(sqlite(tmp_path / "mixed"), mixed)
    assert mixed_accepted == clean_accepted + 1, "ingest should take the event in"
    assert mixed_cases == clean_cases
