"""Decision signals written off the request path: the decision API's background writer.

`POST /v1/decisions` answers from the engine at once; the rule matches it found still become
signals and cases, through the same `DetectionConsumer` as ingest, but in a thread that drains
a queue and writes in batches (every 500 matches or every `flush_every_s`), so a request never
waits on the database. A failed write is logged and counted in `failed_flushes`; the writer
carries on.
"""

from __future__ import annotations

import logging
import queue
import threading

from abusedesk.detection.engine import Verdict
from abusedesk.pipeline.signals import DetectionConsumer

log = logging.getLogger("abusedesk.pipeline.signal_writer")


class SignalWriter:
    """Writes decision signals off the request path: a queue and one thread."""

    def __init__(self, consumer: DetectionConsumer, *, flush_every_s: float = 0.5) -> None:
        self.consumer = consumer
        self.flush_every_s = flush_every_s
        self.failed_flushes = 0
        self._queue: queue.SimpleQueue[Verdict | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="signal-writer", daemon=True)
        self._thread.start()

    def submit(self, verdict: Verdict) -> None:
        if verdict.matched:
            self._queue.put(verdict)

    def _run(self) -> None:
        running = True
        while running:
            try:
                item = self._queue.get(timeout=self.flush_every_s)
            except queue.Empty:
                item = None
                if self.consumer.pending:
                    self._flush()
                continue
            if item is None:
                running = False
            else:
                self.consumer.collect(item)
                if self.consumer.pending >= 500:
                    self._flush()
        self._flush()

    def _flush(self) -> None:
        try:
            self.consumer.flush()
        except Exception:  # a failed write must not kill the writer; the log has it
            self.failed_flushes += 1
            log.exception("writing decision signals failed")

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
