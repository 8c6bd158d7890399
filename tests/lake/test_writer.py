"""The lake writer's tables hold exactly the events given: every field of the type's schema,
objects and unknown fields as JSON text, absent values as nulls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from abusedesk.events.schema import FIELDS, Event, validate_event
from abusedesk.lake.writer import (
    SCHEMAS,
    SLICE_EVENTS,
    SLICE_EVENTS_ALONE,
    LakeWriter,
    StagedSync,
    staged_path,
)
from abusedesk.sim.generator import generate


def expected_row(event: Event) -> dict[str, Any]:
    row: dict[str, Any] = {"id": event.id, "ts": event.ts, "account_id": event.account_id}
    for field in FIELDS[event.type]:
        value = event.data.get(field.name)
        if field.kind == "obj" and value is not None:
            value = orjson.dumps(value).decode()
        row[field.name] = value
    row["attrs"] = orjson.dumps(event.attrs).decode() if event.attrs else None
    return row


def test_partitions_hold_every_field_of_every_event(tmp_path: Path) -> None:
    generate(tmp_path / "sim", days=1, scale=0.03, seed=5)
    lines = (tmp_path / "sim" / "events.jsonl").read_bytes().splitlines()
    events = [validate_event(orjson.loads(line)) for line in lines]
    extra = [
        {"id": "h1", "type": "message", "ts": "2026-03-01T23:59:59Z", "account_id": "A",
         "message_id": "m", "channel": "email", "from": "a@b.example", "to": "c@d.example",
         "headers": {"Subject": "x", "List": [1, None]}, "segments": -(2**63), "custom": {"k": 1}},
        {"id": "r1", "type": "report", "ts": "2026-03-02T00:00:00+01:00", "reporter": "user",
         "category": "spam", "evidence": ["a", "b"]},
    ]  # fmt: skip
    events += [validate_event(e) for e in extra]
    writer = LakeWriter(tmp_path / "lake")
    writer.add(events)
    files = writer.flush()
    assert {f.parent.parent.name.removeprefix("type=") for f in files} == {e.type for e in events}
    by_id = {e.id: e for e in events}
    seen = 0
    for path in files:
        etype = path.parent.parent.name.removeprefix("type=")
        day = path.parent.name.removeprefix("day=")
        table = pq.read_table(path, schema=SCHEMAS[etype])
        for row in table.to_pylist():
            event = by_id[row["id"]]
            assert event.type == etype
            assert event.ts.date().isoformat() == day
            assert row == expected_row(event)
            seen += 1
    assert seen == len(events)


@pytest.mark.parametrize("size", [SLICE_EVENTS, SLICE_EVENTS_ALONE])
def test_a_partition_converted_in_slices_is_the_table_of_one_conversion(
    tmp_path: Path, size: int
) -> None:
    # Arrow conversion goes SLICE_EVENTS events a call beside the API's decisions (a short hold
    # of the GIL), SLICE_EVENTS_ALONE in a process of its own; the table, and so the file, must
    # be the one a single call makes, including slices where a field or attrs are absent from
    # every event.
    from abusedesk.lake.writer import _table, _table_in_slices

    def message(i: int) -> Event:
        raw: dict[str, Any] = {
            "id": f"m{i}", "type": "message", "ts": "2026-03-01T10:00:00Z", "account_id": "A",
            "message_id": f"SM{i}", "channel": "sms", "from": "+15005550006", "to": "+15005550007",
        }  # fmt: skip
        if i >= size * 2:  # the third slice on: objects, unknown fields, a body
            raw |= {"headers": {"n": i}, "custom": [i, None], "body": "hi " * (i % 50)}
        return validate_event(raw)

    events = [message(i) for i in range(size * 3 + 5)]
    sliced = _table_in_slices("message", events, size)
    assert sliced.equals(_table("message", events))
    assert all(column.num_chunks == 1 for column in sliced.columns)
    writer = LakeWriter(tmp_path / "lake", slice_events=size)
    writer.add(events)
    (path,) = writer.flush()
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    rows = pq.read_table(path, schema=SCHEMAS["message"]).to_pylist()
    assert rows == [expected_row(e) for e in events]


def test_staged_files_are_synced_in_the_background_and_errors_reach_wait(tmp_path: Path) -> None:
    # Ingest writes a batch's staged files unsynced and fsyncs them in a thread while its
    # database work runs; wait() returns once they are on disk, and raises what kept one from it
    # (the batch then does not commit).
    event = validate_event(
        {"id": "d1", "type": "delivery", "ts": "2026-03-01T10:00:00Z", "account_id": "A",
         "message_id": "SM1", "status": "delivered"}
    )  # fmt: skip
    writer = LakeWriter(tmp_path / "lake")
    writer.add([event])
    (final,) = writer.flush(stage_for=7, sync=False)
    assert staged_path(final, 7).exists()
    assert not final.exists()
    StagedSync([final], 7).wait()
    missing = final.with_name("part-gone.parquet")
    with pytest.raises(FileNotFoundError):
        StagedSync([final, missing], 7).wait()
