"""Ingest: read -> adapt -> validate -> de-duplicate -> lake + registry -> consumers.

One pass over each input, in batches. Bad input never stops a run: each rejected line or
message goes to the quarantine table with its file, line and reason, and the rest goes in.
A batch is one database transaction (event ids, registry, quarantine, run counters); its Parquet
files are written inside that transaction and removed again if it fails, so the lake never holds
events the idempotency index does not know. Consumers (streaming detection) see each batch's new
events after it commits.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

import orjson
from sqlalchemy import Connection, text, update

from abusedesk.clock import Clock, SystemClock
from abusedesk.errors import InputError
from abusedesk.events.adapters import registry as adapters
from abusedesk.events.adapters.base import Adapter, Limits, Location, Record, Rejected, excerpt
from abusedesk.events.adapters.jsonl import JsonlAdapter, iter_line_batches
from abusedesk.events.decode import decode_line
from abusedesk.events.registry import RegistryBatch
from abusedesk.events.schema import Event, EventInvalid, validate_event
from abusedesk.events.sources import expand, head, open_source
from abusedesk.lake.compaction import compact, partitions_of
from abusedesk.lake.reader import LakeReader
from abusedesk.lake.writer import LakeWriter, remove_files
from abusedesk.storage.bulk import clean_text, insert_count, insert_returning, ts_param
from abusedesk.storage.db import Store
from abusedesk.storage.models import AuditEntry, IngestRun

Status = Literal["accepted", "duplicate", "rejected"]


class BatchConsumer(Protocol):
    """Gets each batch's newly accepted events, in input order, after the batch commits."""

    def on_events(self, events: Sequence[Event]) -> None: ...


@dataclass(slots=True)
class ItemResult:
    where: Location
    status: Status
    id: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.where.line is not None:
            out["line"] = self.where.line
        if self.where.item is not None:
            out["item"] = self.where.item
        if self.id is not None:
            out["id"] = self.id
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(slots=True)
class QuarantinedItem:
    where: Location
    reason: str
    excerpt: str


@dataclass
class IngestSummary:
    run_id: int
    files: int = 0
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    quarantine_sample: list[QuarantinedItem] = field(default_factory=list)
    results: list[ItemResult] | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "files": self.files,
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "by_type": dict(sorted(self.by_type.items())),
            "elapsed_s": round(self.elapsed_s, 3),
        }


SAMPLE_SIZE = 20


@dataclass
class _Pending:
    """What a batch holds until it is flushed."""

    events: list[Event] = field(default_factory=list)
    unresolved: list[Record] = field(default_factory=list)
    quarantine: list[QuarantinedItem] = field(default_factory=list)
    # Index into summary.results for each pending event / unresolved record (API mode only).
    event_slots: list[int] = field(default_factory=list)
    unresolved_slots: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events) + len(self.unresolved)


class Ingestor:
    def __init__(
        self,
        store: Store,
        lake_dir: Path,
        *,
        limits: Limits | None = None,
        batch_size: int = 50_000,
        clock: Clock | None = None,
        consumers: Sequence[BatchConsumer] = (),
        actor: str = "cli",
        origin: str = "cli",
        compact_after: bool = True,
    ) -> None:
        self.store = store
        self.lake_dir = lake_dir
        self.limits = limits or Limits()
        self.batch_size = batch_size
        self.clock = clock or SystemClock()
        self.consumers = list(consumers)
        self.actor = actor
        self.origin = origin
        self.compact_after = compact_after

    # ---------------------------------------------------------------- entry points

    def ingest_paths(
        self,
        paths: Sequence[Path],
        fmt: str = "auto",
        *,
        on_bytes: Callable[[int], None] | None = None,
        on_file: Callable[[Path, str], None] | None = None,
    ) -> IngestSummary:
        files = expand(list(paths))
        if fmt != "auto":
            adapters.get(fmt)  # fail early on an unknown format name
        run = _Run(self, [str(p) for p in files], fmt, keep_results=False)
        run.manage_gc = True
        try:
            with _young_gc_only():
                self._ingest_files(run, files, fmt, on_bytes, on_file)
            run.manage_gc = False
            return run.finish()
        except BaseException:
            run.abort()
            raise

    def _ingest_files(
        self,
        run: _Run,
        files: list[Path],
        fmt: str,
        on_bytes: Callable[[int], None] | None,
        on_file: Callable[[Path, str], None] | None,
    ) -> None:
        for path in files:
            try:
                adapter = (
                    adapters.get(fmt) if fmt != "auto" else adapters.detect(head(path), path.name)
                )
            except InputError as exc:
                # One unreadable or unrecognised file in a folder must not stop the rest.
                run.reject_file(path, exc.message)
                if on_bytes is not None:
                    on_bytes(path.stat().st_size)
                continue
            if on_file is not None:
                on_file(path, adapter.name)
            with open_source(path, on_bytes) as stream:
                run.consume_stream(adapter, stream, str(path))
            run.summary.files += 1
        run.flush()

    def ingest_bytes(
        self, data: bytes, *, source: str = "http", fmt: str = "jsonl"
    ) -> IngestSummary:
        """Ingest one request body; the summary carries a result per line or item."""
        import io

        adapter = adapters.get(fmt)
        run = _Run(self, [source], fmt, keep_results=True)
        try:
            run.consume_stream(adapter, io.BytesIO(data), source)
            run.summary.files = 1
            return run.finish()
        except BaseException:
            run.abort()
            raise

    def ingest_objects(self, objects: Iterable[dict[str, Any]], *, source: str) -> IngestSummary:
        """Ingest already-decoded canonical objects (a JSON array body), one result each."""
        run = _Run(self, [source], "json", keep_results=True)
        items = (Record(obj, Location(source, item=i)) for i, obj in enumerate(objects, 1))
        try:
            run.consume(None, items)
            run.summary.files = 1
            return run.finish()
        except BaseException:
            run.abort()
            raise


class _Run:
    """The state of one ingest run: counters, the pending batch, the run's database row."""

    def __init__(
        self, ingestor: Ingestor, sources: list[str], fmt: str, *, keep_results: bool
    ) -> None:
        self.ing = ingestor
        self.started = time.perf_counter()
        now = ingestor.clock.now()
        with ingestor.store.transaction() as session:
            run = IngestRun(
                started_at=now,
                origin=ingestor.origin,
                actor=ingestor.actor,
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
            run_id = run.id
        self.summary = IngestSummary(run_id=run_id, results=[] if keep_results else None)
        self.pending = _Pending()
        self.written: list[Path] = []
        self.reader: LakeReader | None = None
        # File ingest runs with the GC policy of _young_gc_only; an API request must not
        # change the server's own GC policy, so it leaves this off.
        self.manage_gc = False

    def consume_stream(self, adapter: Adapter, stream: BinaryIO, source: str) -> None:
        if type(adapter) is JsonlAdapter and self.summary.results is None:
            self._consume_jsonl(stream, source)
        else:
            self.consume(adapter, adapter.parse(stream, source, self.ing.limits))

    def _consume_jsonl(self, stream: BinaryIO, source: str) -> None:
        """The hot path: canonical lines straight to events, with no per-line wrapper objects
        (the general path's Record/Location pair costs about a tenth of the per-event budget)."""
        summary = self.summary
        pending = self.pending
        events = pending.events
        batch_size = self.ing.batch_size
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        validate = validate_event
        decode = decode_line
        limit = self.ing.limits.max_line_bytes
        read = summary.read  # kept locally, written back before each flush and at the end
        for first, lines in iter_line_batches(stream, limit):
            number = first - 1
            for line in lines:
                number += 1
                read += 1
                if line is None:
                    self._reject(
                        Location(source, number),
                        f"line is longer than {limit} bytes (ABUSEDESK_MAX_LINE_BYTES)",
                        "",
                    )
                    continue
                event = decode(line)
                if event is None:
                    # The decoder declined: the reference validator accepts, or says why not.
                    try:
                        obj = loads(line)
                        if type(obj) is not dict:
                            raise EventInvalid("a line must hold one JSON object")
                        event = validate(obj)
                    except decode_error as exc:
                        if not line.strip():  # a blank line is no event, and no error either
                            read -= 1
                            continue
                        self._reject(
                            Location(source, number), f"not valid JSON: {exc}", excerpt(line)
                        )
                        continue
                    except EventInvalid as exc:
                        self._reject(Location(source, number), str(exc), excerpt(line))
                        continue
                events.append(event)
                if len(events) >= batch_size:
                    summary.read = read
                    self.flush()
                    pending = self.pending
                    events = pending.events
        summary.read = read

    def consume(self, adapter: Adapter | None, items: Iterable[Record | Rejected]) -> None:
        summary = self.summary
        pending = self.pending
        results = summary.results
        batch_size = self.ing.batch_size
        for item in items:
            summary.read += 1
            if type(item) is Record:
                raw = item.raw
                if item.fallback is not None and raw.get("account_id") is None:
                    pending.unresolved.append(item)
                    if results is not None:
                        pending.unresolved_slots.append(len(results))
                        results.append(ItemResult(item.where, "accepted"))
                else:
                    try:
                        event = validate_event(raw)
                    except EventInvalid as exc:
                        self._reject(item.where, str(exc), _excerpt_obj(raw))
                    else:
                        pending.events.append(event)
                        if results is not None:
                            pending.event_slots.append(len(results))
                            results.append(ItemResult(item.where, "accepted", event.id))
            else:
                assert isinstance(item, Rejected)
                self._reject(item.where, item.reason, item.excerpt)
            if len(pending) >= batch_size:
                self.flush()
                pending = self.pending
        if adapter is not None:
            summary.skipped += int(getattr(adapter, "skipped", 0))

    def reject_file(self, path: Path, reason: str) -> None:
        self.summary.read += 1
        self._reject(Location(str(path)), reason.removeprefix(f"{path.name}: "), "")

    def _reject(
        self, where: Location, reason: str, text_excerpt: str, *, slot: int | None = None
    ) -> None:
        """Quarantine one item; `slot` is its existing result row when it already has one."""
        summary = self.summary
        item = QuarantinedItem(where, reason, text_excerpt)
        self.pending.quarantine.append(item)
        summary.quarantined += 1
        if len(summary.quarantine_sample) < SAMPLE_SIZE:
            summary.quarantine_sample.append(item)
        if summary.results is not None:
            result = ItemResult(where, "rejected", reason=reason)
            if slot is None:
                summary.results.append(result)
            else:
                summary.results[slot] = result

    # ---------------------------------------------------------------- flushing

    def _resolve(self, pending: _Pending) -> None:
        """Give complaints that arrived without an account the account of their message."""
        if not pending.unresolved:
            return
        ids = {str(r.raw.get("message_id")) for r in pending.unresolved if r.raw.get("message_id")}
        # An RFC 5322 Message-ID may carry the platform's own id as its local part (SES:
        # <ses-message-id@email.amazonses.com>), so both forms are looked for.
        wanted = ids | {_local_part(m) for m in ids}
        known = {
            e.data["message_id"]: e.account_id
            for e in pending.events
            if e.type == "message" and e.data.get("message_id") in wanted
        }
        missing = wanted - known.keys()
        if missing:
            if self.reader is None:
                self.reader = LakeReader(self.ing.lake_dir)
            else:
                self.reader.close()
                self.reader = LakeReader(self.ing.lake_dir)
            known.update(self.reader.accounts_for_message_ids(missing))
        results = self.summary.results
        for index, record in enumerate(pending.unresolved):
            message_id = str(record.raw.get("message_id"))
            account = known.get(message_id) or known.get(_local_part(message_id))
            raw = dict(record.raw, account_id=account) if account else record.fallback
            assert raw is not None
            try:
                event = validate_event(raw)
            except EventInvalid as exc:
                slot = pending.unresolved_slots[index] if results is not None else None
                self._reject(record.where, str(exc), _excerpt_obj(raw), slot=slot)
                continue
            pending.events.append(event)
            if results is not None:
                slot = pending.unresolved_slots[index]
                results[slot].id = event.id
                pending.event_slots.append(slot)
        pending.unresolved.clear()
        pending.unresolved_slots.clear()

    def flush(self) -> None:
        pending = self.pending
        self._resolve(pending)
        self.pending = _Pending()
        summary = self.summary
        results = summary.results

        # Within the batch the first copy of an id wins. Most batches repeat no id, and one
        # set of the ids says so.
        seen: dict[str, int] = {}
        unique: list[Event] = pending.events
        if results is not None or len({e.id for e in unique}) != len(unique):
            unique = []
            for index, event in enumerate(pending.events):
                if event.id in seen:
                    summary.duplicates += 1
                    if results is not None:
                        results[pending.event_slots[index]].status = "duplicate"
                    continue
                seen[event.id] = index
                unique.append(event)

        store = self.ing.store
        now = self.ing.clock.now()
        writer = LakeWriter(self.ing.lake_dir)
        files: list[Path] = []
        try:
            with store.engine.begin() as conn:
                # First statement: it opens the write transaction (on SQLite, takes the write
                # lock) that the savepoint in _claim_ids nests in.
                conn.execute(
                    update(IngestRun)
                    .where(IngestRun.id == summary.run_id)
                    .values(read=summary.read)
                )
                fresh = _claim_ids(conn, unique, summary.run_id)
                dupes = len(unique) - len(fresh)
                if dupes:
                    summary.duplicates += dupes
                    if results is not None:
                        new_ids = {e.id for e in fresh}
                        for event in unique:
                            if event.id not in new_ids:
                                results[pending.event_slots[seen[event.id]]].status = "duplicate"
                registry = RegistryBatch()
                for event in fresh:
                    registry.add(event)
                registry.write(conn)
                # After the registry write, so a report can name an entity first seen in
                # this very batch.
                _resolve_report_targets(conn, fresh)
                _record_reports(conn, fresh, now)
                _write_quarantine(conn, summary.run_id, pending.quarantine, now)
                writer.add(fresh)
                files = writer.flush()
                conn.execute(
                    update(IngestRun)
                    .where(IngestRun.id == summary.run_id)
                    .values(
                        read=summary.read,
                        accepted=summary.accepted + len(fresh),
                        duplicates=summary.duplicates,
                        quarantined=summary.quarantined,
                        skipped=summary.skipped,
                    )
                )
        except BaseException:
            remove_files(files)
            raise
        self.written.extend(files)
        summary.accepted += len(fresh)
        summary.by_type.update(e.type for e in fresh)
        if fresh:
            for consumer in self.ing.consumers:
                consumer.on_events(fresh)
        # Whatever survives the batch (detection state, caches) leaves the scanned
        # generations; refcounting still frees what dies. See _young_gc_only.
        if self.manage_gc:
            gc.freeze()

    def finish(self) -> IngestSummary:
        self.flush()
        if self.reader is not None:
            self.reader.close()
        if self.ing.compact_after and self.written:
            compact(self.ing.lake_dir, min_files=8, partitions=partitions_of(self.written))
        summary = self.summary
        summary.elapsed_s = time.perf_counter() - self.started
        with self.ing.store.transaction() as session:
            session.execute(
                update(IngestRun)
                .where(IngestRun.id == summary.run_id)
                .values(
                    finished_at=self.ing.clock.now(),
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
                    ts=self.ing.clock.now(),
                    actor=self.ing.actor,
                    action="ingest",
                    object_type="ingest_run",
                    object_id=str(summary.run_id),
                    reason=None,
                    before=None,
                    after=summary.to_dict(),
                )
            )
        return summary

    def abort(self) -> None:
        if self.reader is not None:
            self.reader.close()
        with self.ing.store.transaction() as session:
            session.execute(
                update(IngestRun).where(IngestRun.id == self.summary.run_id).values(status="failed")
            )


def _claim_ids(conn: Connection, events: list[Event], run_id: int) -> list[Event]:
    """Record the ids of a batch (unique within it); returns the events seen for the first time.

    The common batches are all new (a first load) or all known (the same file again), and a
    plain insert's row count tells which. Only a batch with some of each needs RETURNING to
    say which ids went in: its plain insert is rolled back to a savepoint and redone."""
    rows = [(e.id, run_id) for e in events]
    columns = ("event_id", "ingest_run_id")
    conflict = "ON CONFLICT (event_id) DO NOTHING"
    savepoint = conn.begin_nested()
    inserted = insert_count(conn, "event_ids", columns, rows, conflict=conflict)
    if inserted == len(events):
        savepoint.commit()
        return events
    if inserted == 0:
        savepoint.commit()
        return []
    savepoint.rollback()
    new_ids = {
        row[0]
        for row in insert_returning(
            conn, "event_ids", columns, rows, conflict=conflict, returning=("event_id",)
        )
    }
    return [e for e in events if e.id in new_ids]


@contextmanager
def _young_gc_only() -> Iterator[None]:
    """Keep the cyclic GC from rescanning the pending batch over and over.

    A batch holds 100,000 events, a few containers each; every automatic full collection
    walks all of them, which measured at more than half of parse time, and even a young
    collection after each batch walked the whole batch (about 6 us an event). Events hold no
    cycles and refcounting frees them, so during a run the cyclic GC is off, each batch ends
    with gc.freeze(), and at the end the frozen objects are released and automatic collection
    comes back: the few garbage cycles a run makes (database sessions) wait until then.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.collect()  # the run's few garbage cycles, once, instead of once per batch
        if was_enabled:
            gc.enable()


def _local_part(message_id: str) -> str:
    return message_id.strip("<>").split("@", 1)[0]


def _excerpt_obj(raw: object) -> str:
    try:
        return excerpt(orjson.dumps(raw))
    except TypeError:
        return excerpt(repr(raw))


def _write_quarantine(
    conn: Connection, run_id: int, items: list[QuarantinedItem], now: Any
) -> None:
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


def _resolve_report_targets(conn: Connection, events: list[Event]) -> None:
    """A report that names a number, address or domain but no account gets the account that
    uses it, when exactly one does; with several, the candidates are kept in attrs."""
    wanted = {
        _norm_target(e.data["target"])
        for e in events
        if e.type == "report" and e.account_id is None and e.data.get("target")
    }
    if not wanted:
        return
    owners: dict[str, set[str]] = {}
    values = sorted(wanted)
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        rows = conn.execute(
            text(
                "SELECT e.value, ae.account_id FROM entities e "
                "JOIN account_entities ae ON ae.entity_id = e.id WHERE e.value IN :values"
            ).bindparams(_expanding("values")),
            {"values": chunk},
        ).all()
        for value, account in rows:
            owners.setdefault(value, set()).add(account)
    for event in events:
        if event.type != "report" or event.account_id is not None or not event.data.get("target"):
            continue
        found = owners.get(_norm_target(event.data["target"]), set())
        attrs = dict(event.attrs or {})
        if len(found) == 1:
            event.account_id = next(iter(found))
            attrs["account_resolved_from"] = "target"
        elif found:
            attrs["candidate_accounts"] = sorted(found)[:20]
        event.attrs = attrs or None


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def _norm_target(target: str) -> str:
    value = (clean_text(target) or "").strip()
    if "@" in value or ("." in value and not value.startswith("+")):
        value = value.lower()
        value = value.split("//", 1)[-1].split("/", 1)[0] if "//" in value else value
    return value


def _record_reports(conn: Connection, events: list[Event], now: Any) -> None:
    ts = ts_param(conn)
    rows = [
        (
            clean_text(e.data["report_id"]),
            e.id,
            e.data["reporter"],
            e.data["category"],
            clean_text(e.data.get("target")),
            e.account_id,
            clean_text(e.data.get("description")),
            orjson.dumps([clean_text(x) for x in e.data.get("evidence") or []]).decode(),
            ts(e.ts),
        )
        for e in events
        if e.type == "report"
    ]
    insert_returning(
        conn,
        "reports",
        (
            "report_id",
            "event_id",
            "reporter",
            "category",
            "target",
            "account_id",
            "description",
            "evidence",
            "received_at",
        ),
        rows,
        conflict="ON CONFLICT (report_id) DO NOTHING",
    )
