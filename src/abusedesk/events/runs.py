"""The bookkeeping of an ingest run: its `ingest_runs` row, the event ids it claims, its
quarantine rows, and the audit entry when it ends.

The per-batch statements take the batch's open connection, so they commit with the batch;
`open_run`, `close_run` and `fail_run` are transactions of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from abusedesk.clock import Clock
from abusedesk.events.schema import Event
from abusedesk.events.summary import IngestSummary, QuarantinedItem
from abusedesk.storage.bulk import insert_keys_count, insert_returning, ts_param
from abusedesk.storage.db import Store
from abusedesk.storage.models import AuditEntry, IngestRun


def open_run(
    store: Store, now: datetime, *, origin: str, actor: str, sources: list[str], fmt: str
) -> int:
    """Insert the run's row (status "running"); returns its id."""
    with store.transaction() as session:
        run = IngestRun(
            started_at=now,
            origin=origin,
            actor=actor,
            sources=sources[:100],
            format=fmt,
            read=0,
            accepted=0,
            duplicates=0,
            quarantined=0,
            skipped=0,
            status="running",
        )
        session.add(run)
        session.flush()
        return run.id


def mark_read(conn: Connection, summary: IngestSummary) -> None:
    """The batch's first statement: it opens the write transaction (on SQLite, takes the
    write lock) that the savepoint in `claim_ids` nests in."""
    conn.execute(update(IngestRun).where(IngestRun.id == summary.run_id).values(read=summary.read))


def record_counts(conn: Connection, summary: IngestSummary, accepted: int) -> None:
    """The run's counters as of the end of this batch (`accepted` includes the batch)."""
    conn.execute(
        update(IngestRun)
        .where(IngestRun.id == summary.run_id)
        .values(
            read=summary.read,
            accepted=accepted,
            duplicates=summary.duplicates,
            quarantined=summary.quarantined,
            skipped=summary.skipped,
        )
    )


def claim_ids(conn: Connection, events: list[Event], run_id: int) -> list[Event]:
    """Record the ids of a batch (unique within it); returns the events seen for the first time.

    The common batches are all new (a first load) or all known (the same file again), and a
    plain insert's row count tells which. Only a batch with some of each needs RETURNING to
    say which ids went in: its plain insert is rolled back to a savepoint and redone."""
    ids = [e.id for e in events]
    savepoint = conn.begin_nested()
    inserted = insert_keys_count(conn, "event_ids", "event_id", ids, ("ingest_run_id", run_id))
    if inserted == len(events):
        savepoint.commit()
        return events
    if inserted == 0:
        savepoint.commit()
        return []
    savepoint.rollback()
    rows = [(event_id, run_id) for event_id in ids]
    columns = ("event_id", "ingest_run_id")
    conflict = "ON CONFLICT (event_id) DO NOTHING"
    new_ids = {
        row[0]
        for row in insert_returning(
            conn, "event_ids", columns, rows, conflict=conflict, returning=("event_id",)
        )
    }
    return [e for e in events if e.id in new_ids]


def write_quarantine(conn: Connection, run_id: int, items: list[QuarantinedItem], now: Any) -> None:
    stamp = ts_param(conn)(now)
    insert_returning(
        conn,
        "quarantine",
        ("ingest_run_id", "source", "line", "item", "reason", "excerpt", "created_at"),
        [
            (run_id, i.where.source[:1024], i.where.line, i.where.item, i.reason, i.excerpt, stamp)
            for i in items
        ],
        conflict="",
    )


def close_run(store: Store, clock: Clock, summary: IngestSummary, *, actor: str) -> None:
    """Mark the run done with its final counters, and audit it."""
    with store.transaction() as session:
        session.execute(
            update(IngestRun)
            .where(IngestRun.id == summary.run_id)
            .values(
                finished_at=clock.now(),
                status="done",
                read=summary.read,
                accepted=summary.accepted,
                duplicates=summary.duplicates,
                quarantined=summary.quarantined,
                skipped=summary.skipped,
            )
        )
        session.add(
            AuditEntry(
                ts=clock.now(),
                actor=actor,
                action="ingest",
                object_type="ingest_run",
                object_id=str(summary.run_id),
                reason=None,
                before=None,
                after=summary.to_dict(),
            )
        )


def fail_run(store: Store, run_id: int) -> None:
    with store.transaction() as session:
        session.execute(update(IngestRun).where(IngestRun.id == run_id).values(status="failed"))
