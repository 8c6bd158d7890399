"""Bearer-token authentication and permission checks for API routes."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import Request

from abusedesk.auth.roles import check_permission
from abusedesk.auth.tokens import Principal, authenticate, hash_token
from abusedesk.errors import ForbiddenError
from abusedesk.workspace import Workspace


class TokenCache:
    """Checked tokens for a few seconds, so the decision hot path skips the database lookup."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, ws: Workspace, token: str | None) -> Principal:
        if not token or self.ttl_s <= 0:
            return authenticate(ws.store, token)
        key = hash_token(token)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = authenticate(ws.store, token)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (now + self.ttl_s, principal)
        return principal


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """A route's guard: the caller's principal if its role holds `permission`, else 401/403.

    Every route but /v1/health depends on exactly one of these, with the permission that
    api/access.py ROUTE_PERMISSIONS names for it (checked when the app is built)."""
    check_permission(permission)

    # Async, so FastAPI calls it in the event loop: a sync dependency costs a thread-pool hop
    # on every request, a measurable share of the decision path. The lookup behind a cache miss
    # blocks the loop for one indexed query, once per token per ABUSEDESK_API_AUTH_CACHE_S.
    async def dependency(request: Request) -> Principal:
        ws: Workspace = request.app.state.workspace
        cache: TokenCache = request.app.state.token_cache
        principal = cache.get(ws, bearer(request))
        if not principal.can(permission):
            raise ForbiddenError(f"role {principal.role!r} may not do this (needs {permission})")
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by check_routes
    return dependency
