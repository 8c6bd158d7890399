"""Recovery at the start of an ingest run: finish what runs killed mid-way left behind.

A batch commits its event ids, registry rows and a `lake_batches` row in one transaction, with
its Parquet files written beforehand under staging names (lake/writer.py). After the commit the
files are published (renamed into place), the batch goes through the consumers (detection),
and the row is deleted. A `kill -9` at any instant therefore leaves one of:

- staged files with no committed row: the transaction never committed. Their ids were not
  claimed either, so the rerun ingests those events again; the files are deleted.
- a committed row whose files are still staged, or published but not yet detected: the files
  are published and the batch's events are read back from them and sent through detection.
- a compaction journal: finished or undone (lake/compaction.py).

A run is dead when its row says "running" and no process holds its run lock (lake/locks.py);
its row is marked "interrupted". All of this happens under the lake lock, and a dead run's
batches are handed to the recovering run (their `run_id` changes), so two processes starting
at once never detect a batch twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import delete, select, update

from abusedesk.events.schema import Event
from abusedesk.lake.compaction import recover_compactions
from abusedesk.lake.locks import run_is_alive
from abusedesk.lake.replay import row_event
from abusedesk.lake.writer import publish, staged_run
from abusedesk.logs import fields
from abusedesk.storage.db import Store
from abusedesk.storage.models import EventId, IngestRun, LakeBatch

log = logging.getLogger("abusedesk.pipeline.recovery")


@dataclass
class Recovered:
    """What recovery found: runs marked interrupted, batches to detect, files removed."""

    interrupted_runs: list[int] = field(default_factory=list)
    batches: list[tuple[int, list[str]]] = field(default_factory=list)  # (row id, files)
    staged_removed: int = 0
    compactions: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.interrupted_runs or self.batches or self.staged_removed or self.compactions
        )


def recover(store: Store, lake: Path, *, new_owner: int) -> Recovered:
    """Finish dead runs' batches up to detection; call with the lake lock held. The batches
    that still need detection are handed to run `new_owner` and returned."""
    out = Recovered()
    alive: dict[int, bool] = {}

    def is_alive(run_id: int) -> bool:
        if run_id not in alive:
            alive[run_id] = run_id == new_owner or run_is_alive(lake, run_id)
        return alive[run_id]

    with store.transaction() as session:
        running = session.scalars(select(IngestRun.id).where(IngestRun.status == "running"))
        out.interrupted_runs = [r for r in running if not is_alive(r)]
        if out.interrupted_runs:
            session.execute(
                update(IngestRun)
                .where(IngestRun.id.in_(out.interrupted_runs))
                .values(status="interrupted")
            )
        for batch in session.scalars(select(LakeBatch).order_by(LakeBatch.id)):
            if is_alive(batch.run_id):
                continue
            publish((lake / name for name in batch.files), batch.run_id)
            batch.run_id = new_owner
            out.batches.append((batch.id, list(batch.files)))
    # Staged files of dead runs that no committed batch names: their transaction never
    # committed (the names of committed batches were published just above).
    for path in _staged_files(lake):
        parsed = staged_run(path)
        if parsed is not None and not is_alive(parsed[0]):
            path.unlink(missing_ok=True)
            out.staged_removed += 1
    out.compactions = recover_compactions(lake)
    if out:
        log.warning(
            "ingest.recovered",
            extra=fields(
                interrupted_runs=out.interrupted_runs,
                batches=len(out.batches),
                staged_removed=out.staged_removed,
                compactions=out.compactions,
            ),
        )
    return out


def _staged_files(lake: Path) -> Iterator[Path]:
    root = lake / "events"
    if root.exists():
        yield from root.glob("type=*/day=*/.run-*.staged")


def batch_events(lake: Path, files: Sequence[str]) -> list[Event]:
    """A committed batch's events, read back from its published files."""
    events: list[Event] = []
    for name in files:
        path = lake / name
        etype = path.parent.parent.name.removeprefix("type=")
        for values in pq.read_table(path).to_pylist():
            values["type"] = etype
            events.append(row_event(values))
    events.sort(key=lambda e: (e.ts, e.id))
    return events


def pending_files(store: Store, lake: Path) -> frozenset[Path]:
    """Files of batches not yet through detection: compaction leaves them alone."""
    with store.sessions() as session:
        rows = session.scalars(select(LakeBatch.files))
        return frozenset(lake / name for files in rows for name in files)


def dead_process_ids(store: Store, run_id: int) -> set[str]:
    """The ids of the events the process(es) that died before run `run_id` took in: those of
    the interrupted runs just before it (a rerun killed in turn after rebuilding adds its own
    to its predecessor's), back to the last run that ended otherwise."""
    with store.sessions() as session:
        statuses = session.execute(
            select(IngestRun.id, IngestRun.status)
            .where(IngestRun.id < run_id)
            .order_by(IngestRun.id.desc())
        )
        chain = []
        for earlier, status in statuses:
            if status != "interrupted":
                break
            chain.append(earlier)
        if not chain:
            return set()
        return set(
            session.scalars(select(EventId.event_id).where(EventId.ingest_run_id.in_(chain)))
        )


def forget_batch(store: Store, batch_id: int) -> None:
    """The batch is published and detected: its row goes."""
    with store.transaction() as session:
        session.execute(delete(LakeBatch).where(LakeBatch.id == batch_id))
