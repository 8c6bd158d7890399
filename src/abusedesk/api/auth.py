"""Bearer-token authentication and permission checks for API routes."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

import anyio
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

    def cached(self, token: str) -> Principal | None:
        """The principal of a token checked less than `ttl_s` ago, or None (no database)."""
        hit = self._entries.get(hash_token(token))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def get(self, ws: Workspace, token: str | None) -> Principal:
        if not token or self.ttl_s <= 0:
            return authenticate(ws.store, token)
        hit = self.cached(token)
        if hit is not None:
            return hit
        key = hash_token(token)
        now = time.monotonic()
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


async def principal_of(ws: Workspace, cache: TokenCache, token: str | None) -> Principal:
    """Who sends `token`. A token checked within ABUSEDESK_API_AUTH_CACHE_S is answered from
    memory in the event loop; otherwise the database lookup runs in a worker thread, so the
    loop never waits on the database (a revoked token stops working within that time)."""
    if token:
        hit = cache.cached(token)
        if hit is not None:
            return hit
    return await anyio.to_thread.run_sync(cache.get, ws, token)


def check(principal: Principal, permission: str) -> Principal:
    if not principal.can(permission):
        raise ForbiddenError(f"role {principal.role!r} may not do this (needs {permission})")
    return principal


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """A route's guard: the caller's principal if its role holds `permission`, else 401/403.

    Every route but /v1/health depends on exactly one of these, with the permission that
    api/access.py ROUTE_PERMISSIONS names for it (checked when the app is built)."""
    check_permission(permission)

    # Async, so FastAPI calls it in the event loop: a sync dependency costs a thread-pool hop
    # on every request, where a cached token needs none.
    async def dependency(request: Request) -> Principal:
        ws: Workspace = request.app.state.workspace
        cache: TokenCache = request.app.state.token_cache
        return check(await principal_of(ws, cache, bearer(request)), permission)

    dependency.permission = permission  # type: ignore[attr-defined]  # read by check_routes
    return dependency
