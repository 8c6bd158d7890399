"""The FastAPI application, built around one Workspace (no import-time globals)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from abusedesk import __version__
from abusedesk.api import errors
from abusedesk.api.access import check_routes
from abusedesk.api.auth import TokenCache
from abusedesk.api.cases import router as cases_router
from abusedesk.api.decisions import DecisionLane, Decisions
from abusedesk.api.decisions import router as decisions_router
from abusedesk.api.enforcement import router as enforcement_router
from abusedesk.api.events import router as events_router
from abusedesk.api.investigate import router as investigate_router
from abusedesk.api.notices_bulk import router as notices_bulk_router
from abusedesk.api.openapi import complete
from abusedesk.api.probation import router as probation_router
from abusedesk.api.queues import router as queues_router
from abusedesk.api.reports import router as reports_router
from abusedesk.api.users import router as users_router
from abusedesk.detection.engine import DetectionEngine
from abusedesk.enforcement.state import RestrictionCache
from abusedesk.enforcement.worker import enforcement_worker
from abusedesk.enrich import failure_count, warm_up
from abusedesk.logs import configure
from abusedesk.pipeline.signal_writer import SignalWriter
from abusedesk.probation.worker import ProbationSweep
from abusedesk.workspace import Workspace


async def _young_gc_only(
    busy: Callable[[], bool] = lambda: False, every_s: float = 1.0, max_defer_s: float = 30.0
) -> None:
    """Keep full garbage collections off the decision path.

    Feature state grows to millions of plain containers; each automatic full collection walks
    them all, which measured as 200-350 ms stalls at the 99th percentile of /v1/decisions. The
    state holds no reference cycles, so the server freezes what exists at start, turns automatic
    collection off, and collects only the young generations (a few ms) once a second, where
    the garbage cycles of request handling live.

    Not while `busy()` (a write, such as a `POST /v1/events`, holds the write lock), for up to
    `max_defer_s`: a young collection then walks the batch being ingested, everything allocated
    since the last one, on the event loop. Measured during posts of 10,000 events (21.9 MB):
    8-15 ms each, once a second, every decision waiting behind it. After the write most of
    the batch is freed, and the collection walks what is left.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    last = time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        now = time.monotonic()
        if busy() and now - last < max_defer_s:
            continue
        gc.collect(1)
        last = now


class DeskAPI(FastAPI):
    """FastAPI, with POST /v1/decisions answered by its lane before the framework's stack
    (api/decisions.py says why); every other request goes through FastAPI as usual."""

    lane: DecisionLane | None = None

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = complete(super().openapi())
        return self.openapi_schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lane
        if lane is not None and lane.wants(scope):
            await lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    ws: Workspace,
    *,
    consumers: list[Any] | None = None,
    engine: DetectionEngine | None = None,
    worker: bool = False,
) -> DeskAPI:
    """The API of one workspace. Events posted to /v1/events go through `consumers`; the
    decision engine (loaded from the workspace's rule pack unless given) serves /v1/decisions.
    With `worker`, a thread lifts expired actions and delivers the outbox (`abusedesk serve`)."""
    configure(ws.settings.log_level)
    detection = engine or ws.detection_engine()
    # Load the enrichment tables now, not on the first request (about 0.4 s).
    warm_up()
    writer = SignalWriter(ws.detection_consumer(detection))
    restrictions = RestrictionCache(ws.store, every_s=ws.settings.enforcement_cache_s)
    loop = (
        enforcement_worker(
            ws.enforcement,
            ws.outbox,
            every_s=ws.settings.outbox_interval_s,
            sweeps=[ProbationSweep(ws.run_probations, every_s=ws.settings.probation_interval_s)],
        )
        if worker
        else None
    )
    token_cache = TokenCache(ws.settings.api_auth_cache_s)
    decisions = Decisions(ws, detection, token_cache, writer, restrictions)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_young_gc_only(_app.state.write_lock.locked))
        restrictions.start()
        if loop is not None:
            loop.start()
        try:
            yield
        finally:
            sweeper.cancel()
            gc.unfreeze()
            gc.enable()
            decisions.close()
            writer.close()
            restrictions.close()
            if loop is not None:
                loop.stop()

    app = DeskAPI(
        title="abusedesk",
        version=__version__,
        description="Trust & Safety operations for messaging platforms.",
        lifespan=lifespan,
    )
    app.state.engine = detection
    app.state.signal_writer = writer
    app.state.restrictions = restrictions
    app.state.workspace = ws
    app.state.token_cache = token_cache
    app.state.decisions = decisions
    app.state.write_lock = threading.Lock()
    # Events posted over HTTP are detected on like ingested files, by the same engine.
    app.state.consumers = consumers if consumers is not None else [ws.detection_consumer(detection)]
    errors.install(app)
    ws.store  # noqa: B018 - migrate before the first request, not during it
    ws.desk  # noqa: B018 - a bad queue file fails at start, not on the first case

    @app.get("/v1/health", summary="Liveness, version and failure counts since start")
    def health() -> dict[str, str | int]:
        """Public (a load balancer asks it): no data, only counts. `enrich_failures` are events
        enrichment failed on in this process (each was still evaluated, without the fields it
        could not compute; the log names them); `signal_write_failures` are batches of
        decision signals the background writer could not store (the log has the error)."""
        return {
            "status": "ok",
            "version": __version__,
            "enrich_failures": failure_count(),
            "signal_write_failures": writer.failed_flushes,
        }

    app.include_router(events_router)
    app.include_router(decisions_router)
    app.include_router(cases_router)
    app.include_router(queues_router)
    app.include_router(reports_router)
    app.include_router(investigate_router)
    app.include_router(users_router)
    app.include_router(enforcement_router)
    app.include_router(notices_bulk_router)
    app.include_router(probation_router)
    check_routes(app)
    app.lane = DecisionLane(decisions)
    return app
