"""The FastAPI application, built around one Workspace (no import-time globals)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from abusedesk import __version__
from abusedesk.api import errors
from abusedesk.api.auth import TokenCache
from abusedesk.api.decisions import SignalWriter
from abusedesk.api.decisions import router as decisions_router
from abusedesk.api.events import router as events_router
from abusedesk.detection.engine import DetectionEngine
from abusedesk.workspace import Workspace


def create_app(
    ws: Workspace,
    *,
    consumers: list[Any] | None = None,
    engine: DetectionEngine | None = None,
) -> FastAPI:
    """The API of one workspace. Events posted to /v1/events go through `consumers`; the
    decision engine (loaded from the workspace's rule pack unless given) serves /v1/decisions."""
    detection = engine or ws.detection_engine()
    writer = SignalWriter(ws.detection_consumer(detection))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        writer.close()

    app = FastAPI(
        title="abusedesk",
        version=__version__,
        description="Trust & Safety operations for messaging platforms.",
        lifespan=lifespan,
    )
    app.state.engine = detection
    app.state.signal_writer = writer
    app.state.workspace = ws
    app.state.token_cache = TokenCache(ws.settings.api_auth_cache_s)
    app.state.write_lock = threading.Lock()
    # Events posted over HTTP are detected on like ingested files, by the same engine.
    app.state.consumers = consumers if consumers is not None else [ws.detection_consumer(detection)]
    errors.install(app)
    ws.store  # noqa: B018 - migrate before the first request, not during it

    @app.get("/v1/health", summary="Liveness and version")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(events_router)
    app.include_router(decisions_router)
    return app
