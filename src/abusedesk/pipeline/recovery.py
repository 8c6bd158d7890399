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
- `held_events` rows: committed events the dead run held back from detection until the stream
  reached their time (pipeline/linking.Held). They are handed to the new run, which holds them
  again; the rebuild of detection state leaves them out, as it leaves out reports that wait for
  their message (streaming detection never sees those).

A run is dead when its row says "running" and no process holds its run lock (lake/locks.py);
its row is marked "interrupted". All of this happens under the lake lock, and a dead run's
batches are handed to the recovering run (their `run_id` changes), so two processes starting
at once never detect a batch twice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, delete, insert, select, update

from abusedesk.events.schema import Event
from abusedesk.lake.compaction import recover_compactions
from abusedesk.lake.locks import run_is_alive
from abusedesk.lake.reader import LakeReader
from abusedesk.lake.replay import lake_events, row_event
from abusedesk.lake.writer import publish, staged_run
from abusedesk.logs import fields
from abusedesk.storage.db import Store
from abusedesk.storage.models import EventId, HeldEvent, IngestRun, LakeBatch, PendingComplaint

log = logging.getLogger("abusedesk.pipeline.recovery")


@dataclass
class Recovered:
    """What recovery found: runs marked interrupted, batches to detect, files removed."""

    interrupted_runs: list[int] = field(default_factory=list)
    batches: list[tuple[int, list[str]]] = field(default_factory=list)  # (row id, files)
    held: list[str] = field(default_factory=list)  # ids of events held back from detection
    staged_removed: int = 0
    compactions: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.interrupted_runs
            or self.batches
            or self.held
            or self.staged_removed
            or self.compactions
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
        for held in session.scalars(select(HeldEvent).order_by(HeldEvent.event_id)):
            if not is_alive(held.run_id):
                held.run_id = new_owner
                out.held.append(held.event_id)
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
                held=len(out.held),
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
    """A committed batch's events, read back from its published files, in (ts, id) order: the
    order its input had when that was time order (each file holds one event type, and
    detection fed all of a batch's messages before its deliveries moves the windows' clocks
    ahead of the deliveries, which then count as late)."""
    events: list[Event] = []
    for name in files:
        path = lake / name
        etype = path.parent.parent.name.removeprefix("type=")
        for values in pq.read_table(path).to_pylist():
            values["type"] = etype
            events.append(row_event(values))
    events.sort(key=lambda e: (e.ts, e.id))
    return events


def held_events(reader: LakeReader, ids: Collection[str]) -> list[Event]:
    """The events with these ids, read back from the lake, oldest first."""
    if not ids:
        return []
    reader.con.register("_held_ids", pa.table({"id": pa.array(sorted(ids), pa.string())}))
    try:
        return list(lake_events(reader, where="id IN (SELECT id FROM _held_ids)"))
    finally:
        reader.con.unregister("_held_ids")


def hold(conn: Connection, events: Sequence[Event], run_id: int) -> None:
    """Record, in the batch's transaction, the events run `run_id` holds back from detection."""
    if events:
        conn.execute(insert(HeldEvent), [{"event_id": e.id, "run_id": run_id} for e in events])


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
        # Reports that wait for their message never go through streaming detection.
        parked = select(PendingComplaint.report_id).where(
            PendingComplaint.report_id == EventId.event_id
        )
        return set(
            session.scalars(
                select(EventId.event_id).where(EventId.ingest_run_id.in_(chain), ~parked.exists())
            )
        )


def parked_reports(store: Store, events: Sequence[Event]) -> set[str]:
    """The ids of the reports among `events` that wait for their message (pipeline/linking):
    streaming detection never sees them."""
    ids = [e.id for e in events if e.type == "report" and e.account_id is None]
    found: set[str] = set()
    with store.sessions() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                session.scalars(
                    select(PendingComplaint.report_id).where(PendingComplaint.report_id.in_(chunk))
                )
            )
    return found


def forget_batch(store: Store, batch_id: int | None, released: Sequence[Event] = ()) -> None:
    """The batch is published and detected, and so are the held events it released: their
    rows go, in one transaction."""
    if batch_id is None and not released:
        return
    with store.transaction() as session:
        if batch_id is not None:
            session.execute(delete(LakeBatch).where(LakeBatch.id == batch_id))
        ids = [e.id for e in released]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            session.execute(delete(HeldEvent).where(HeldEvent.event_id.in_(chunk)))
