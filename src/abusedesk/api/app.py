"""The FastAPI application, built around one Workspace (no import-time globals)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI

from abusedesk import __version__
from abusedesk.api import errors
from abusedesk.api.auth import TokenCache
from abusedesk.api.events import router as events_router
from abusedesk.workspace import Workspace


def create_app(ws: Workspace, *, consumers: list[Any] | None = None) -> FastAPI:
    app = FastAPI(
        title="abusedesk",
        version=__version__,
        description="Trust & Safety operations for messaging platforms.",
    )
    app.state.workspace = ws
    app.state.token_cache = TokenCache(ws.settings.api_auth_cache_s)
    app.state.write_lock = threading.Lock()
    app.state.consumers = consumers or []
    errors.install(app)
    ws.store  # noqa: B018 - migrate before the first request, not during it

    @app.get("/v1/health", summary="Liveness and version")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(events_router)
    return app
