"""Ingest: read -> adapt -> validate -> de-duplicate -> lake + registry + reports -> consumers.

One pass over each input, in batches: the adapter loop is events/reading.py; the run's row,
claimed ids and quarantine are events/runs.py; reports intake is cases/report_intake.py. Bad
input never stops a run: each rejected line or message goes to the quarantine table with its
file, line and reason, and the rest goes in. A batch is one database transaction (event ids,
registry, reports, quarantine, run counters); its Parquet files are written inside that
transaction and removed again if it fails, so the lake never holds events the idempotency index
does not know. Consumers (streaming detection, pipeline/signals.py) see each batch's new events
after it commits.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import insert

from abusedesk.cases.report_intake import record_reports, resolve_report_targets
from abusedesk.clock import Clock, SystemClock
from abusedesk.errors import InputError
from abusedesk.events import runs
from abusedesk.events.account_map import AccountMap, registry_owners, sender_of
from abusedesk.events.adapters import registry as adapters
from abusedesk.events.adapters.base import Limits, Location, Record
from abusedesk.events.adapters.sendgrid import SendGridAdapter
from abusedesk.events.reading import BatchReader, Pending, excerpt_obj
from abusedesk.events.registry import RegistryBatch
from abusedesk.events.schema import UNATTRIBUTED, Event, EventInvalid, validate_event
from abusedesk.events.sources import expand, head, open_source
from abusedesk.events.summary import IngestSummary
from abusedesk.lake.compaction import compact, partitions_of
from abusedesk.lake.locks import RunLock, lake_lock
from abusedesk.lake.reader import LakeReader
from abusedesk.lake.writer import (
    SLICE_EVENTS,
    SLICE_EVENTS_ALONE,
    LakeWriter,
    StagedSync,
    discard,
    publish,
)
from abusedesk.logs import fields
from abusedesk.pipeline import linking
from abusedesk.pipeline.recovery import (
    Recovered,
    batch_events,
    dead_process_ids,
    forget_batch,
    held_events,
    hold,
    parked_reports,
    pending_files,
    recover,
)
from abusedesk.pipeline.replay import rebuild_state
from abusedesk.pipeline.signals import DetectionConsumer
from abusedesk.storage.db import Store
from abusedesk.storage.models import LakeBatch

log = logging.getLogger("abusedesk.pipeline.ingest")


class BatchConsumer(Protocol):
    """Gets each batch's newly accepted events, in input order, after the batch commits."""

    def on_events(self, events: Sequence[Event]) -> None: ...


@runtime_checkable
class EnrichingConsumer(BatchConsumer, Protocol):
    """A consumer that enriches the events it gets (detection), and counts those enrichment
    failed on since it was made; the run reports its share in `enrich_failures`."""

    @property
    def enrich_failures(self) -> int: ...


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
        account_map: AccountMap | None = None,
        beside_decisions: bool = False,
    ) -> None:
        """`beside_decisions`: the run shares its process with the API's decisions, so its C
        calls hold the GIL in short pieces (docs/api.md, "Ingest beside decisions"); False in
        a process of its own (the CLI), where fewer, larger pieces are faster."""
        self.store = store
        self.lake_dir = lake_dir
        self.limits = limits or Limits()
        self.batch_size = batch_size
        self.clock = clock or SystemClock()
        self.consumers = list(consumers)
        self.actor = actor
        self.origin = origin
        self.account_map = account_map or AccountMap()
        self.compact_after = compact_after
        self.slice_events = SLICE_EVENTS if beside_decisions else SLICE_EVENTS_ALONE

    # ---------------------------------------------------------------- entry points

    def ingest_paths(
        self,
        paths: Sequence[Path],
        fmt: str = "auto",
        *,
        on_bytes: Callable[[int], None] | None = None,
        on_file: Callable[[Path, str], None] | None = None,
        subuser: str | None = None,
    ) -> IngestSummary:
        """`subuser`: the SendGrid subuser whose Event Webhook sent these files (its payloads
        do not say); the account map's `sendgrid.subuser` maps it (docs/formats.md)."""
        files = expand(list(paths))
        if fmt != "auto":
            adapters.get(fmt)  # fail early on an unknown format name
        if subuser is not None and not subuser.strip():
            raise InputError("--subuser must name a SendGrid subuser")
        run = _Run(self, [str(p) for p in files], fmt, keep_results=False)
        run.manage_gc = True
        try:
            with _young_gc_only():
                self._ingest_files(run, files, fmt, on_bytes, on_file, subuser=subuser)
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
        *,
        subuser: str | None = None,
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
            if isinstance(adapter, SendGridAdapter):
                adapter.subuser = subuser
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


class _Run(BatchReader):
    """One ingest run: the adapter loop (events.reading) plus what a batch flush does."""

    def __init__(
        self, ingestor: Ingestor, sources: list[str], fmt: str, *, keep_results: bool
    ) -> None:
        self.ing = ingestor
        self.started = time.perf_counter()
        lake = ingestor.lake_dir
        # Opening the run and taking its lock is one step under the lake lock, so recovery
        # (in another process, or here) never takes a starting run for a dead one.
        with lake_lock(lake):
            run_id = runs.open_run(
                ingestor.store,
                ingestor.clock.now(),
                origin=ingestor.origin,
                actor=ingestor.actor,
                sources=sources,
                fmt=fmt,
            )
            self.lock = RunLock(lake, run_id)
            try:
                self.recovered = recover(ingestor.store, lake, new_owner=run_id)
            except BaseException:
                self.lock.release()
                raise
        summary = IngestSummary(run_id=run_id, results=[] if keep_results else None)
        super().__init__(
            summary,
            limits=ingestor.limits,
            batch_size=ingestor.batch_size,
            now=ingestor.clock.now(),
        )
        self.written: list[Path] = []
        self.reader: LakeReader | None = None
        # Complaints of this batch filed as reports, kept for late linking (pipeline/linking).
        self.waiting: list[tuple[dict[str, Any], Event]] = []
        # Linked complaints detection sees once the stream reaches their time (linking.Held),
        # and events whose account the pipeline found (`_resolve`) in this batch.
        self.held = linking.Held()
        self.found: set[str] = set()
        # Enrichment runs in the consumers, which may outlive the run (the API's): the run
        # reports the failures they count while it lasts.
        self._enriching = [c for c in ingestor.consumers if isinstance(c, EnrichingConsumer)]
        self._enrich_failures_before = self._enrich_failures()
        # File ingest runs with the GC policy of _young_gc_only; an API request must not
        # change the server's own GC policy, so it leaves this off.
        self.manage_gc = False
        try:
            self._detect_recovered(self.recovered)
        except BaseException:
            self.abort()
            raise

    def _detect_recovered(self, recovered: Recovered) -> None:
        """Committed batches of dead runs that detection never saw go through it now, after
        a fresh detection consumer's state is rebuilt from the lake (the dead process's
        windows, flags and case bars died with it), so the rerun detects as one clean run.
        The events the dead run held back (linking.Held) are held again, and released as the
        stream reaches their time, as they would have been."""
        summary = self.summary
        summary.interrupted_runs = list(recovered.interrupted_runs)
        lake = self.ing.lake_dir
        store = self.ing.store
        pending = [(batch_id, batch_events(lake, files)) for batch_id, files in recovered.batches]
        held = set(recovered.held)
        fresh = [
            c
            for c in self.ing.consumers
            if isinstance(c, DetectionConsumer) and c.rebuild_after_crash and not c.stats.events
        ]
        if not (pending or held or recovered.interrupted_runs):
            return  # most runs: nothing to recover, and no DuckDB connection to open for it
        with LakeReader(lake) as reader:
            if fresh and recovered.interrupted_runs:
                ids = dead_process_ids(store, summary.run_id)
                ids -= {e.id for _, events in pending for e in events}  # detected just below
                ids -= held  # not detected yet: held again just below
                for detection in fresh:
                    summary.rebuilt_events = rebuild_state(detection, reader, ids)
            self.held.hold(held_events(reader, held))
        for batch_id, events in pending:
            # What the dead run's flush would have handed to detection (see flush).
            parked = parked_reports(store, events)
            attributed = [
                e
                for e in events
                if e.account_id != UNATTRIBUTED and e.id not in parked and e.id not in held
            ]
            released = self.held.release(max(e.ts for e in attributed)) if attributed else []
            self._detect(attributed + released)
            summary.recovered_events += len(events)
            forget_batch(store, batch_id, released)

    def _enrich_failures(self) -> int:
        return sum(consumer.enrich_failures for consumer in self._enriching)

    # ---------------------------------------------------------------- flushing

    def _resolve(self, pending: Pending) -> None:
        """Give events that arrived without an account one: their message's (by message id),
        else the workspace's account map, else the registry's only owner of their sender
        domain or IP (events/account_map.py); else their fallback (a report for a complaint,
        the event itself as unattributed for a provider event)."""
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
        owners = self._sender_owners(pending.unresolved)
        for index, record in enumerate(pending.unresolved):
            message_id = str(record.raw.get("message_id"))
            account = known.get(message_id) or known.get(_local_part(message_id))
            if not account:
                account = self.ing.account_map.resolve(record.raw, owners)
            raw = dict(record.raw, account_id=account) if account else record.fallback
            assert raw is not None
            slot = pending.unresolved_slots[index] if results is not None else None
            try:
                event = validate_event(raw)
                if (late := self.out_of_window(event)) is not None:
                    raise EventInvalid(late)
            except EventInvalid as exc:
                self.reject(record.where, str(exc), excerpt_obj(raw), slot=slot)
                continue
            except Exception as exc:  # one record never stops the run
                self.fault(record.where, exc, excerpt_obj(raw), slot=slot)
                continue
            if not account and event.type == "report" and record.raw.get("message_id"):
                self.waiting.append((record.raw, event))  # for late linking
            elif account:
                # Its account found from its message, the map or the registry: a complaint
                # or notice read ahead of the message log, detected at its own time (Held).
                self.found.add(event.id)
            pending.events.append(event)
            if results is not None:
                slot = pending.unresolved_slots[index]
                results[slot].id = event.id
                pending.event_slots.append(slot)
        pending.unresolved.clear()
        pending.unresolved_slots.clear()

    def flush_quarantine(self) -> None:
        items = self.pending.quarantine
        if not items:
            return
        self.pending.quarantine = []
        with self.ing.store.engine.begin() as conn:
            runs.write_quarantine(conn, self.summary.run_id, items, self.ing.clock.now())
            runs.record_counts(conn, self.summary, self.summary.accepted)

    def _sender_owners(self, records: list[Record]) -> dict[tuple[str, str], str]:
        """The registry's only account for each sender domain and IP these records name."""
        wanted: set[tuple[str, str]] = set()
        for record in records:
            domain, ip = sender_of(record.raw)
            if domain:
                wanted.add(("domain", domain))
            if ip:
                wanted.add(("ip", ip))
        if not wanted:
            return {}
        with self.ing.store.engine.connect() as conn:
            return registry_owners(conn, wanted)

    def flush(self) -> None:
        pending = self.pending
        self._resolve(pending)
        self.pending = Pending()
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
        lake = self.ing.lake_dir
        run_id = summary.run_id
        writer = LakeWriter(lake, slice_events=self.ing.slice_events)
        files: list[Path] = []
        synced: StagedSync | None = None
        batch_id: int | None = None
        try:
            with store.engine.begin() as conn:
                runs.mark_read(conn, summary)  # first: it opens the write transaction
                fresh = runs.claim_ids(conn, unique, summary.run_id)
                dupes = len(unique) - len(fresh)
                # Late linking: complaints waiting for this batch's new messages.
                parked: set[str] = set()
                if self.waiting:
                    new_ids = {e.id for e in fresh}
                    kept = [w for w in self.waiting if w[1].id in new_ids]
                    linking.record_pending(conn, kept)
                    parked = {report.id for _, report in kept}
                    self.waiting = []
                found = linking.link_messages(conn, fresh) if fresh else []
                linked = runs.claim_ids(conn, found, summary.run_id) if found else []
                fresh += linked
                # Staged: the files are published only once this transaction has committed,
                # and the batch's row says so until they are, and until detection saw them.
                # All but reports are written now, and their fsync runs while the registry's
                # database work does; reports wait for resolve_report_targets (below), which
                # may give them their account.
                writer.add(e for e in fresh if e.type != "report")
                files = writer.flush(stage_for=run_id, sync=False)
                synced = StagedSync(files, run_id)
                linking.mark_linked(conn, fresh, now)
                # Unattributed provider events are kept (lake, counts) but name no customer to
                # detect on (nor to link entities to in the registry); neither does a report
                # waiting for its message. Linked complaints, and events whose account was
                # found, wait for the stream to reach their time (linking.Held): recorded
                # here, so a run killed while holding them leaves them to the next.
                later = {e.id for e in linked} | self.found
                self.found = set()
                attributed = [
                    e for e in fresh if e.account_id != UNATTRIBUTED and e.id not in parked
                ]
                held = [e for e in attributed if e.id in later] if later else []
                hold(conn, held, run_id)
                if dupes:
                    summary.duplicates += dupes
                    if results is not None:
                        new_ids = {e.id for e in fresh}
                        for event in unique:
                            if event.id not in new_ids:
                                results[pending.event_slots[seen[event.id]]].status = "duplicate"
                registry = RegistryBatch()
                registry.add_all(fresh)
                registry.write(conn)
                # After the registry write, so a report can name an entity first seen in
                # this very batch.
                resolve_report_targets(conn, fresh)
                record_reports(conn, fresh, now)
                runs.write_quarantine(conn, summary.run_id, pending.quarantine, now)
                writer.add(e for e in fresh if e.type == "report")
                files += writer.flush(stage_for=run_id)
                synced.wait()  # the batch's files on disk before the commit that records them
                if files:
                    batch_id = conn.execute(
                        insert(LakeBatch).returning(LakeBatch.id),
                        {
                            "run_id": run_id,
                            "files": [str(f.relative_to(lake)) for f in files],
                            "created_at": now,
                        },
                    ).scalar_one()
                runs.record_counts(conn, summary, summary.accepted + len(fresh))
        except BaseException:
            if synced is not None:
                with suppress(BaseException):  # the error that counts is the one raised here
                    synced.wait()
            discard(files, run_id)
            raise
        publish(files, run_id)
        self.written.extend(files)
        summary.accepted += len(fresh)
        summary.by_type.update(e.type for e in fresh)
        released: list[Event] = []
        if held or len(self.held):
            self.held.hold(held)
            attributed = [e for e in attributed if e.id not in later]
            if attributed:
                released = self.held.release(max(e.ts for e in attributed))
        self._detect(attributed + released)
        forget_batch(store, batch_id, released)
        # Whatever survives the batch (detection state, caches) leaves the scanned
        # generations; refcounting still frees what dies. See _young_gc_only.
        if self.manage_gc:
            gc.freeze()

    def _detect(self, events: list[Event]) -> None:
        if not events:
            return
        for consumer in self.ing.consumers:
            consumer.on_events(events)
        self.summary.enrich_failures = self._enrich_failures() - self._enrich_failures_before

    def finish(self) -> IngestSummary:
        self.flush()
        drained = self.held.drain()  # complaints made after the run's last event
        self._detect(drained)
        forget_batch(self.ing.store, None, drained)
        if self.reader is not None:
            self.reader.close()
        if self.ing.compact_after and self.written:
            compact(
                self.ing.lake_dir,
                min_files=8,
                partitions=partitions_of(self.written),
                keep=lambda: pending_files(self.ing.store, self.ing.lake_dir),
            )
        summary = self.summary
        summary.elapsed_s = time.perf_counter() - self.started
        runs.close_run(self.ing.store, self.ing.clock, summary, actor=self.ing.actor)
        self.lock.release()
        log.info(
            "ingest.done",
            extra=fields(origin=self.ing.origin, actor=self.ing.actor, **summary.to_dict()),
        )
        return summary

    def abort(self) -> None:
        """Called from the `except` of an entry point: the run's row says "failed"."""
        if self.reader is not None:
            self.reader.close()
        runs.fail_run(self.ing.store, self.summary.run_id)
        self.lock.release()
        error = sys.exc_info()[0]
        # The exception's type only: database errors can quote the batch's values.
        log.error(
            "ingest.failed",
            extra=fields(
                run_id=self.summary.run_id,
                origin=self.ing.origin,
                read=self.summary.read,
                error=error.__name__ if error is not None else None,
            ),
        )


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
