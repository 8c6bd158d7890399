"""Which permission each route needs: the one list, read by the app at start and by the test
that walks the OpenAPI spec (tests/api/test_access.py).

A route missing from this list, or whose `require(...)` names another permission than the list,
stops the app from starting (`check_routes`), so a new route cannot go out unguarded. `None`
marks a public route; /v1/health is the only one.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from abusedesk.auth import roles

ROUTE_PERMISSIONS: Final[dict[str, str | None]] = {
    "GET /v1/health": None,
    "POST /v1/events": roles.EVENTS_WRITE,
    "POST /v1/decisions": roles.DECISIONS_WRITE,
    "GET /v1/accounts/{account_id}": roles.ACCOUNTS_READ,
    "GET /v1/accounts/{account_id}/linked": roles.ACCOUNTS_READ,
    "GET /v1/entities/{kind}/{value}": roles.ACCOUNTS_READ,
    "GET /v1/users": roles.USERS_MANAGE,
    "POST /v1/users": roles.USERS_MANAGE,
    "POST /v1/users/{username}/disable": roles.USERS_MANAGE,
    "POST /v1/users/{username}/tokens": roles.USERS_MANAGE,
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Documented on every guarded route, so the spec shows the one error shape.
GUARDED_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    400: _error("Invalid input (code invalid_input or a more precise one)"),
    401: _error("Missing, unknown or revoked token, or a disabled user (code unauthorized)"),
    403: _error("The token's role lacks the permission (code forbidden)"),
}


def route_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def _required(route: Any) -> set[str]:
    found: set[str] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        permission = getattr(dep.call, "permission", None)
        if isinstance(permission, str):
            found.add(permission)
        stack.extend(dep.dependencies)
    return found


def check_routes(app: FastAPI) -> None:
    """Refuse to start an app whose routes and ROUTE_PERMISSIONS disagree."""
    problems = []
    # iter_route_contexts flattens included routers (FastAPI keeps them nested), the way the
    # OpenAPI generator sees them.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        for method in sorted(route.methods or ()):
            key = route_key(method, route.path_format or "")
            if key not in ROUTE_PERMISSIONS:
                problems.append(f"{key} is not in api/access.py ROUTE_PERMISSIONS")
                continue
            wanted = ROUTE_PERMISSIONS[key]
            have = _required(route)
            if wanted is None and have:
                problems.append(f"{key} is public in ROUTE_PERMISSIONS but requires {have}")
            elif wanted is not None and have != {wanted}:
                problems.append(f"{key} must depend on require({wanted!r}), has {have or 'none'}")
    if problems:
        raise RuntimeError("routes and permissions disagree: " + "; ".join(problems))
