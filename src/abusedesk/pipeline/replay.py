"""The lake's events through detection again (`abusedesk detect`), oldest first.

Replay records signals and cases like streaming ingest (a rule never raises a signal twice for
one event, so replaying is safe); `warm_up` first fills the feature windows with the events
just before the start, recording nothing, so the first events detected see full windows.
`rebuild_state` does the same for ingest after a crash: the dead process's detection state
(windows, first-seen ages, link flags, case bars, risk, cooldowns) is rebuilt by replaying the
events it detected, read back from the lake.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta

import pyarrow as pa

from abusedesk.detection.engine import DetectionEngine
from abusedesk.events.schema import UNATTRIBUTED
from abusedesk.lake.reader import LakeReader
from abusedesk.lake.replay import lake_events
from abusedesk.pipeline.signals import DetectionConsumer

BATCH = 10_000


def replay(
    consumer: DetectionConsumer,
    reader: LakeReader,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Every event of the lake in [since, until) through `consumer`, in batches of BATCH;
    `on_batch` gets each batch's size after it is recorded (for a progress bar)."""
    batch = []
    for event in lake_events(reader, since=since, until=until):
        if event.account_id == UNATTRIBUTED:  # kept in the lake, never detected on (ingest)
            continue
        batch.append(event)
        if len(batch) >= BATCH:
            consumer.on_events(batch)
            if on_batch is not None:
                on_batch(len(batch))
            batch = []
    if batch:
        consumer.on_events(batch)
        if on_batch is not None:
            on_batch(len(batch))


def warm_up(engine: DetectionEngine, reader: LakeReader, start: datetime) -> int:
    """Replay the events of the longest window before `start` through the engine, recording
    nothing, so that windowed features are right from the first event detected."""
    windows = [f.spec.window_s for f in engine.pack.features.values() if f.spec.window_s]
    if not windows:
        return 0
    count = 0
    for event in lake_events(reader, since=start - timedelta(seconds=max(windows)), until=start):
        engine.evaluate(event)
        count += 1
    return count


def rebuild_state(consumer: DetectionConsumer, reader: LakeReader, ids: Collection[str]) -> int:
    """Rebuild a fresh consumer's detection state after a crash: the lake's events with these
    ids (those the dead process detected), oldest first, through `consumer.warm` (nothing is
    recorded). Returns the events replayed; 0 with feature state outside the process (Redis
    keeps it across a crash)."""
    if not ids or not consumer.engine.state_in_process:
        return 0
    wanted = pa.table({"id": pa.array(sorted(ids), pa.string())})
    reader.con.register("_rebuild_ids", wanted)
    try:
        batch = []
        count = 0
        for event in lake_events(reader, where="id IN (SELECT id FROM _rebuild_ids)"):
            if event.account_id == UNATTRIBUTED:
                continue
            batch.append(event)
            if len(batch) >= BATCH:
                consumer.warm(batch)
                count += len(batch)
                batch = []
        if batch:
            consumer.warm(batch)
            count += len(batch)
        return count
    finally:
        reader.con.unregister("_rebuild_ids")


def lake_size(reader: LakeReader) -> int:
    row = reader.con.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0
