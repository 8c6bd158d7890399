"""Evaluation off the event loop, in batches, for feature state that lives over the network.

With state in Redis, DetectionEngine.evaluate waits on a round trip; run in the event loop it
would stall every other request for that long. `OffLoopEvaluator` instead queues each event and
one worker thread evaluates whatever has queued up since its last batch with
`DetectionEngine.evaluate_many`: one Redis round trip per batch, not per request. Under light
load a batch is one event (the latency of one round trip plus a thread hop); under heavy load
the batch grows, so round trips per second stay bounded while throughput rises.

Order: events are evaluated in the order they were queued, which is the order their requests
reached this point in the event loop. In-process state does not need any of this: the route
evaluates in the loop, where it is pure CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass

from abusedesk.detection.engine import DetectionEngine, Verdict
from abusedesk.events.schema import Event

log = logging.getLogger("abusedesk.api.offloop")

_Waiting = tuple[Event, asyncio.Future[Verdict], asyncio.AbstractEventLoop]


@dataclass
class BatchStats:
    batches: int = 0
    events: int = 0
    largest: int = 0


class OffLoopEvaluator:
    """`await evaluate(event)`: the engine's verdict, computed in a worker thread, batched."""

    def __init__(self, engine: DetectionEngine, *, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.stats = BatchStats()
        self._waiting: list[_Waiting] = []
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="decision-evaluator", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        """Events waiting for the next batch."""
        return len(self._waiting)

    async def evaluate(self, event: Event) -> Verdict:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Verdict] = loop.create_future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the evaluator is closed")
            self._waiting.append((event, future, loop))
            self._ready.notify()
        return await future

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:  # closed and drained
                    return
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
            self._evaluate(batch)

    def _evaluate(self, batch: list[_Waiting]) -> None:
        stats = self.stats
        stats.batches += 1
        stats.events += len(batch)
        stats.largest = max(stats.largest, len(batch))
        try:
            outcomes: list[Verdict | BaseException] = list(
                self.engine.evaluate_many([event for event, _, _ in batch])
            )
        except Exception as exc:  # the store failed: every request of the batch hears of it
            log.warning("evaluating a batch of %d decisions failed: %s", len(batch), exc)
            outcomes = [exc] * len(batch)
        for (_, future, loop), outcome in zip(batch, outcomes, strict=True):
            # A loop that has closed has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, outcome)

    def close(self) -> None:
        """Finish what is queued, then stop the worker."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join(timeout=10)


def _settle(future: asyncio.Future[Verdict], outcome: Verdict | BaseException) -> None:
    if future.cancelled():  # the client went away; the event was still evaluated
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
