"""The event lake writer: Parquet files partitioned by type and day, written in batches.

Layout: `<lake>/events/type=<type>/day=<YYYY-MM-DD>/part-<uuid>.parquet`, Hive-style, so DuckDB,
Spark, Trino or ClickHouse read it as it is. `type` and `day` live only in the folder names.
Each file is written under a dot-name and renamed into place, so a reader never sees half a file.
Many small files make queries slow: compaction.py merges a partition's files into one, sorted
by account and time in small row groups, so one account's rows are found without reading the rest.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from abusedesk.events import jsontext
from abusedesk.events.schema import FIELDS, Event, Kind

_ARROW: Final[dict[Kind, pa.DataType]] = {
    "str": pa.string(),
    "int": pa.int64(),
    "num": pa.float64(),
    "bool": pa.bool_(),
    "obj": pa.string(),  # JSON text: object shapes vary per sender
    "strlist": pa.list_(pa.string()),
}
TS_TYPE: Final = pa.timestamp("us", tz="UTC")


def type_schema(etype: str) -> pa.Schema:
    """The Parquet schema of one event type's files (envelope, the type's fields, attrs)."""
    columns = [
        pa.field("id", pa.string(), nullable=False),
        pa.field("ts", TS_TYPE, nullable=False),
        pa.field("account_id", pa.string()),
    ]
    columns += [pa.field(f.name, _ARROW[f.kind]) for f in FIELDS[etype]]
    columns.append(pa.field("attrs", pa.string()))
    return pa.schema(columns)


SCHEMAS: Final[dict[str, pa.Schema]] = {etype: type_schema(etype) for etype in FIELDS}
_OBJ_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    etype: tuple(f.name for f in fields if f.kind == "obj") for etype, fields in FIELDS.items()
}


# Events converted to Arrow per pa.array call. A call holds the GIL for its whole list: 10,000
# messages of 2 KB in one call held it 90-180 ms on a slow core, a stall for the API's
# decisions (docs/api.md); 64 take about 0.4 ms.
SLICE_EVENTS: Final = 64
# In a process of its own (file ingest from the CLI) nothing waits for the GIL, and the slice is
# sized for speed: each call has a fixed cost, and one call per partition is slower again
# (measured on bench/mixed_events.py's events, µs an event: 64: 2.3, 256: 1.5, 1024: 1.3,
# a partition of 100,000 at once: 1.6).
SLICE_EVENTS_ALONE: Final = 1024


def partition_dir(lake: Path, etype: str, day: date) -> Path:
    return lake / "events" / f"type={etype}" / f"day={day.isoformat()}"


@dataclass
class LakeWriter:
    """Buffers validated events per partition and writes them as Parquet on `flush()`."""

    lake: Path
    compression: str = "zstd"
    # Events per Arrow conversion call: SLICE_EVENTS beside the API's decisions, or
    # SLICE_EVENTS_ALONE in a process of its own.
    slice_events: int = SLICE_EVENTS
    _buffers: dict[tuple[str, date], list[Event]] = field(default_factory=dict)

    def add(self, events: Iterable[Event]) -> None:
        buffers = self._buffers
        for event in events:
            key = (event.type, event.ts.date())
            buffer = buffers.get(key)
            if buffer is None:
                buffers[key] = [event]
            else:
                buffer.append(event)

    def flush(self, *, stage_for: int | None = None, sync: bool = True) -> list[Path]:
        """Write every buffered partition; returns the files written, by their final names.

        With `stage_for` (an ingest run id) each file is left under its staging name
        (`staged_path`), invisible to readers, until `publish` renames it into place once the
        batch's transaction has committed; without it, files go straight into place. Staged
        files are on disk when this returns, unless `sync` is False: then the caller makes
        them so (`StagedSync`) before the commit that records them."""
        written: list[Path] = []
        for (etype, day), events in sorted(self._buffers.items()):
            table = _table_in_slices(etype, events, self.slice_events)
            folder = partition_dir(self.lake, etype, day)
            if stage_for is None:
                written.append(write_atomic(table, folder, self.compression))
            else:
                staged = write_staged(table, folder, self.compression, stage_for, sync=sync)
                written.append(staged)
        self._buffers.clear()
        return written


def _table_in_slices(etype: str, events: list[Event], slice_events: int = SLICE_EVENTS) -> pa.Table:
    """`_table` of the events, converted `slice_events` at a time. The slices are joined into
    one chunk per column with the GIL released (Table.combine_chunks), so the file is the one a
    single conversion makes: a chunk per slice would mean a Parquet page per slice, measured
    20-40 % larger files."""
    slices = [
        _table(etype, events[start : start + slice_events])
        for start in range(0, len(events), slice_events)
    ]
    return pa.concat_tables(slices).combine_chunks()


def _table(etype: str, events: list[Event]) -> pa.Table:
    """One partition's events as a table of its type's schema.

    The type's fields are converted in one pass: the events' data dicts become one struct
    array (Arrow reads each dict's keys in C++; a missing key is a null), then split into
    columns. Measured on messages: 1.2 µs an event against 3.5-4.5 for a list comprehension
    and a pa.array per field. Object fields (`headers`) are JSON text, made here."""
    schema = SCHEMAS[etype]
    struct = _PLAIN_STRUCTS[etype]
    fields = pa.array([e.data for e in events], type=struct).flatten()
    columns = dict(zip(struct.names, fields, strict=True))
    for name in _OBJ_FIELDS[etype]:
        values = [e.data.get(name) for e in events]
        text = [None if v is None else jsontext.dumps(v).decode() for v in values]
        columns[name] = pa.array(text, pa.string())
    attrs = [None if not e.attrs else jsontext.dumps(e.attrs).decode() for e in events]
    arrays = [
        pa.array([e.id for e in events], pa.string()),
        pa.array([e.ts for e in events], TS_TYPE),
        pa.array([e.account_id for e in events], pa.string()),
        *(columns[name] for name in _FIELD_NAMES[etype]),
        pa.array(attrs, pa.string()),
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


_FIELD_NAMES: Final[dict[str, tuple[str, ...]]] = {
    etype: tuple(f.name for f in fields) for etype, fields in FIELDS.items()
}
# Per type, the struct of its fields that convert as they are (all but objects).
_PLAIN_STRUCTS: Final[dict[str, pa.StructType]] = {
    etype: pa.struct(
        [pa.field(f.name, _ARROW[f.kind]) for f in fields if f.name not in _OBJ_FIELDS[etype]]
    )
    for etype, fields in FIELDS.items()
}


# Dictionary encoding only where values repeat: on ids and bodies it costs time and saves
# nothing (measured: 0.93 -> 0.63 us an event to write, and 20 % smaller files).
DICTIONARY_COLUMNS: Final = [
    "account_id", "channel", "direction", "status", "error_code", "bounce_type", "source",
    "feedback_type", "stage", "action", "reporter", "category", "country", "keyword",
    "attestation", "campaign_id", "api_key_id", "sender_ip", "from", "declared_use_case",
]  # fmt: skip


def write_atomic(
    table: pa.Table, folder: Path, compression: str, row_group_size: int | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{uuid.uuid4().hex[:16]}.parquet"
    tmp = folder / f".{name}.tmp"
    names = set(table.schema.names)
    dictionary = [column for column in DICTIONARY_COLUMNS if column in names]
    pq.write_table(
        table,
        tmp,
        compression=compression,
        use_dictionary=dictionary,
        row_group_size=row_group_size,
    )
    final = folder / name
    os.replace(tmp, final)
    return final


_STAGED_SUFFIX: Final = ".staged"


def staged_path(final: Path, run_id: int) -> Path:
    """Where a file of run `run_id` waits for its batch's commit: a dot-name readers skip."""
    return final.parent / f".run-{run_id}.{final.name}{_STAGED_SUFFIX}"


def staged_run(path: Path) -> tuple[int, Path] | None:
    """(run id, final path) of a staging name, or None for any other file."""
    name = path.name
    if not (name.startswith(".run-") and name.endswith(_STAGED_SUFFIX)):
        return None
    run, _, final = name.removeprefix(".run-").removesuffix(_STAGED_SUFFIX).partition(".")
    if not run.isdigit() or not final:
        return None
    return int(run), path.parent / final


def write_staged(
    table: pa.Table, folder: Path, compression: str, run_id: int, *, sync: bool = True
) -> Path:
    """Write `table` under a staging name (no rename needed: readers never see it), and with
    `sync` wait until it is on disk; returns the final name `publish` will give it."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"part-{uuid.uuid4().hex[:16]}.parquet"
    names = set(table.schema.names)
    dictionary = [column for column in DICTIONARY_COLUMNS if column in names]
    staged = staged_path(final, run_id)
    pq.write_table(table, staged, compression=compression, use_dictionary=dictionary)
    if sync:
        _fsync(staged)
    return final


class StagedSync:
    """fsync of a batch's staged files in a thread of its own, started as soon as they are
    written, so the wait for the disk (0.2-1.2 s a million events, measured, more on a busy
    disk) passes while the batch's database work runs instead of after it. `wait()` before
    the commit that records the files: a committed batch's files must be on disk."""

    def __init__(self, finals: Iterable[Path], run_id: int) -> None:
        self._paths = [staged_path(final, run_id) for final in finals]
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lake-fsync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for path in self._paths:
                _fsync(path)
        except BaseException as exc:  # handed to the ingest thread by wait()
            self._error = exc

    def wait(self) -> None:
        """Return once every file is on disk; raise the error that kept one from it."""
        self._thread.join()
        if self._error is not None:
            raise self._error


def publish(finals: Iterable[Path], run_id: int) -> None:
    """Move a committed batch's staged files into place; idempotent (recovery repeats it)."""
    for final in finals:
        staged = staged_path(final, run_id)
        if staged.exists():
            os.replace(staged, final)


def discard(finals: Iterable[Path], run_id: int) -> None:
    """Remove the staged files of a batch whose transaction did not commit."""
    for final in finals:
        staged_path(final, run_id).unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_files(paths: Iterable[Path]) -> None:
    """Undo a flush whose database transaction failed, so the lake holds no unrecorded rows."""
    for path in paths:
        path.unlink(missing_ok=True)
