"""Crash safety of ingest: what a killed run leaves is finished or undone at the next start.

A real `kill -9` cannot be staged inside the test process (its `except` blocks would run), so
each test builds, with the real writer, store and lake, the state a kill at one instant leaves,
and checks the next run's recovery; bench/faults.py kills real processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from abusedesk.cli.main import app
from abusedesk.events import runs
from abusedesk.events.schema import Event, validate_event
from abusedesk.lake.compaction import compact, recover_compactions
from abusedesk.lake.locks import RunLock, run_is_alive
from abusedesk.lake.writer import LakeWriter, staged_path
from abusedesk.pipeline import ingest as ingest_module
from abusedesk.pipeline.ingest import Ingestor
from abusedesk.pipeline.recovery import pending_files
from abusedesk.storage.models import EventId, IngestRun, LakeBatch
from abusedesk.workspace import Workspace


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.seen: list[str] = []
        self.fail = fail

    def on_events(self, events: Sequence[Event]) -> None:
        if self.fail:
            raise KeyboardInterrupt  # the process dies between commit and detection
        self.seen.extend(e.id for e in events)


def message(i: int) -> bytes:
    return (
        orjson.dumps(
            {
                "id": f"m{i}",
                "type": "message",
                "ts": "2026-03-01T10:00:00Z",
                "account_id": "AC1",
                "message_id": f"SM{i}",
                "channel": "sms",
                "from": "+15005550006",
                "to": "+37122345678",
            }
        )
        + b"\n"
    )


def ingestor(ws: Workspace, consumer: Recorder) -> Ingestor:
    return Ingestor(ws.store, ws.lake_dir, batch_size=2, consumers=[consumer])


def lake_ids(ws: Workspace) -> list[str]:
    with ws.lake_reader() as reader:
        return sorted(r[0] for r in reader.con.execute("SELECT id FROM events").fetchall())


def test_a_committed_batch_that_detection_never_saw_is_detected_by_the_next_run(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(message(1) + message(2) + message(3))
    with pytest.raises(KeyboardInterrupt):
        ingestor(workspace, Recorder(fail=True)).ingest_paths([path])
    # Committed and published, not detected: the batch's row says so.
    assert lake_ids(workspace) == ["m1", "m2"]
    with workspace.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LakeBatch)) == 1
    later = Recorder()
    summary = ingestor(workspace, later).ingest_paths([path])
    assert later.seen == ["m1", "m2", "m3"]  # the recovered batch first, then the new event
    assert summary.recovered_events == 2
    assert (summary.accepted, summary.duplicates) == (1, 2)
    assert lake_ids(workspace) == ["m1", "m2", "m3"]
    with workspace.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LakeBatch)) == 0


def test_files_staged_by_a_committed_batch_are_published_by_the_next_run(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(_files: object, _run_id: int) -> None:
        raise KeyboardInterrupt  # killed right after the commit, before the rename

    monkeypatch.setattr(ingest_module, "publish", die)
    path = tmp_path / "a.jsonl"
    path.write_bytes(message(1) + message(2))
    with pytest.raises(KeyboardInterrupt):
        ingestor(workspace, Recorder()).ingest_paths([path])
    assert not list(workspace.lake_dir.glob("events/*/*/part-*.parquet"))
    assert len(list(workspace.lake_dir.glob("events/*/*/.run-*.staged"))) == 1
    monkeypatch.undo()
    later = Recorder()
    summary = ingestor(workspace, later).ingest_paths([path])
    assert (summary.accepted, summary.duplicates, summary.recovered_events) == (0, 2, 2)
    assert later.seen == ["m1", "m2"]
    assert lake_ids(workspace) == ["m1", "m2"]
    assert not list(workspace.lake_dir.glob("events/*/*/.run-*.staged"))


def test_a_killed_run_is_marked_interrupted_and_its_uncommitted_files_removed(
    workspace: Workspace, tmp_path: Path
) -> None:
    store, lake = workspace.store, workspace.lake_dir
    dead = runs.open_run(
        store, datetime.now(UTC), origin="cli", actor="t", sources=["x"], fmt="jsonl"
    )
    writer = LakeWriter(lake)
    writer.add([validate_event(orjson.loads(message(9)))])
    (final,) = writer.flush(stage_for=dead)  # written, but its transaction never committed
    assert staged_path(final, dead).exists()
    path = tmp_path / "a.jsonl"
    path.write_bytes(message(1))
    summary = ingestor(workspace, Recorder()).ingest_paths([path])
    assert summary.interrupted_runs == [dead]
    assert not staged_path(final, dead).exists()
    assert not final.exists()
    with store.sessions() as session:
        assert session.get(IngestRun, dead).status == "interrupted"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(EventId)) == 1
    assert lake_ids(workspace) == ["m1"]


def test_a_live_run_is_left_alone(workspace: Workspace, tmp_path: Path) -> None:
    store, lake = workspace.store, workspace.lake_dir
    live = runs.open_run(
        store, datetime.now(UTC), origin="cli", actor="t", sources=["x"], fmt="jsonl"
    )
    lock = RunLock(lake, live)
    try:
        writer = LakeWriter(lake)
        writer.add([validate_event(orjson.loads(message(9)))])
        (final,) = writer.flush(stage_for=live)
        path = tmp_path / "a.jsonl"
        path.write_bytes(message(1))
        summary = ingestor(workspace, Recorder()).ingest_paths([path])
        assert summary.interrupted_runs == []
        assert staged_path(final, live).exists()
        assert run_is_alive(lake, live)
    finally:
        lock.release()
    assert not run_is_alive(lake, live)
    with store.transaction() as session:
        session.execute(update(IngestRun).where(IngestRun.id == live).values(status="done"))


def test_compaction_killed_before_or_after_its_rename_is_undone_or_finished(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"".join(message(i) for i in range(20)))
    Ingestor(workspace.store, workspace.lake_dir, batch_size=2, compact_after=False).ingest_paths(
        [path]
    )
    lake = workspace.lake_dir
    (folder,) = {p.parent for p in lake.glob("events/*/*/part-*.parquet")}
    sources = sorted(folder.glob("part-*.parquet"))
    assert len(sources) == 10
    # Killed after the rename: the journal names the merged file and its sources.
    assert compact(lake, min_files=8) == 10
    (merged,) = folder.glob("part-*.parquet")
    for source in sources[:3]:
        source.write_bytes(merged.read_bytes())  # sources not yet removed when it died
    journal = folder / ".compact-x.json"
    journal.write_bytes(
        orjson.dumps({"merged": merged.name, "sources": [s.name for s in sources[:3]]})
    )
    # Killed before the rename: a journal and a half-written file, no merged file.
    (folder / ".part-y.parquet.tmp").write_bytes(b"half")
    (folder / ".compact-y.json").write_bytes(
        orjson.dumps({"merged": "part-y.parquet", "sources": [merged.name]})
    )
    assert recover_compactions(lake) == 2
    assert sorted(folder.iterdir()) == [merged]
    assert lake_ids(workspace) == sorted(f"m{i}" for i in range(20))


def test_abusedesk_lake_compact_leaves_batches_not_yet_detected(
    workspace: Workspace, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """A committed batch whose detection never ran keeps its own files: compaction asks which
    batches are pending under the lake lock, after listing the files, so `abusedesk lake
    compact` (or another run's compaction) can never merge what recovery must read back."""
    done = tmp_path / "done.jsonl"
    done.write_bytes(b"".join(message(i) for i in range(10)))
    Ingestor(workspace.store, workspace.lake_dir, batch_size=2, compact_after=False).ingest_paths(
        [done]
    )
    killed = tmp_path / "killed.jsonl"
    killed.write_bytes(message(100) + message(101) + message(102))
    with pytest.raises(KeyboardInterrupt):
        ingestor(workspace, Recorder(fail=True)).ingest_paths([killed])
    (pending,) = pending_files(workspace.store, workspace.lake_dir)
    result = CliRunner().invoke(app, ["lake", "compact"])
    assert result.exit_code == 0, result.output
    assert pending.exists()
    assert len(list(pending.parent.glob("part-*.parquet"))) == 2  # the merged file and it
    later = Recorder()
    summary = ingestor(workspace, later).ingest_paths([killed])
    assert summary.recovered_events == 2
    assert later.seen == ["m100", "m101", "m102"]
    assert lake_ids(workspace) == sorted([f"m{i}" for i in range(10)] + ["m100", "m101", "m102"])
