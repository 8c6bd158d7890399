"""POST /v1/decisions: the real-time verdict on one event (the hot path).

The handler validates the event and evaluates it in the event loop (no thread hop: evaluation
is pure CPU, tens of microseconds); feature state is updated as it goes. Signals for matches are
handed to a background writer, so a request never waits on the database.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request

from abusedesk.api.auth import require
from abusedesk.api.events import read_body
from abusedesk.api.responses import JSONBody
from abusedesk.auth.tokens import Principal
from abusedesk.detection.engine import DetectionEngine, Verdict
from abusedesk.detection.stream import DetectionConsumer
from abusedesk.enforcement.state import honour
from abusedesk.errors import FormatError, InputError
from abusedesk.events.schema import EventInvalid, validate_event

log = logging.getLogger("abusedesk.api.decisions")
router = APIRouter()


class SignalWriter:
    """Writes decision signals off the request path: a queue and one thread."""

    def __init__(self, consumer: DetectionConsumer, *, flush_every_s: float = 0.5) -> None:
        self.consumer = consumer
        self.flush_every_s = flush_every_s
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
            log.exception("writing decision signals failed")

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)


@router.post(
    "/v1/decisions",
    summary="Decide on one event",
    description=(
        "Body: one canonical event. Answers {decision, score, matched, features}: the strictest "
        "verdict of the live rules that matched (allow, review, hold, block), a score in [0, 1], "
        "every matching rule (shadow ones too, marked), and the non-NULL values of the features "
        "the rules for the event's type read. Feature state is updated with the event; signals "
        "and cases for matches are recorded in the background. An action in force on the "
        "account or entity wins: `block` for a suspended, terminated, paused or blocked scope, "
        "`throttle` with `rate_per_min` for a throttle (unless a rule blocks or holds), and "
        "`enforcement` names the action."
    ),
)
async def post_decision(
    request: Request,
    _principal: Annotated[Principal, Depends(require("decisions:write"))],
) -> JSONBody:
    body = await read_body(request, 1_048_576)
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"body is not valid JSON: {exc}") from None
    try:
        event = validate_event(raw)
    except EventInvalid as exc:
        raise InputError(str(exc)) from None
    engine: DetectionEngine = request.app.state.engine
    verdict = engine.evaluate(event)
    writer: SignalWriter | None = request.app.state.signal_writer
    if writer is not None:
        writer.submit(verdict)
    # Actions in force win over the rules: one dict lookup in the in-memory restriction index.
    now = request.app.state.workspace.clock.now()
    held = request.app.state.restrictions.index.check(event.account_id, event.data, now)
    return JSONBody(honour(verdict.to_api(), held))
