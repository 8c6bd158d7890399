"""The lake's events through detection again (`abusedesk detect`), oldest first.

Replay records signals and cases like streaming ingest (a rule never raises a signal twice for
one event, so replaying is safe); `warm_up` first fills the feature windows with the events
just before the start, recording nothing, so the first events detected see full windows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

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


def lake_size(reader: LakeReader) -> int:
    row = reader.con.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0
