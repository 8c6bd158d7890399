"""Which permission each route needs: the one list, read by the app at start and by the test
that walks the OpenAPI spec (tests/api/test_access.py).

A route missing from this list, or whose `require(...)` names another permission than the list,
stops the app from starting (`check_routes`), so a new route cannot go out unguarded. `None`
marks a public route; /v1/health is the only one.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from abusedesk.api.auth import require
from abusedesk.auth import roles
from abusedesk.auth.tokens import Principal
from abusedesk.cases.queues import QueueBook
from abusedesk.errors import ForbiddenError

ROUTE_PERMISSIONS: Final[dict[str, str | None]] = {
    "GET /v1/health": None,
    "POST /v1/events": roles.EVENTS_WRITE,
    "POST /v1/decisions": roles.DECISIONS_WRITE,
    "GET /v1/cases": roles.CASES_READ,
    "POST /v1/cases": roles.CASES_WRITE,
    "POST /v1/cases/claim-next": roles.CASES_WRITE,
    "GET /v1/cases/{case_id}": roles.CASES_READ,
    "POST /v1/cases/{case_id}/assign": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/release": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/escalate": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/snooze": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/notes": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/status": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/merge": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/split": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/close": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/reopen": roles.CASES_WRITE,
    "POST /v1/cases/{case_id}/evidence": roles.CASES_WRITE,
    "GET /v1/queues": roles.CASES_READ,
    "GET /v1/queues/at-risk": roles.CASES_READ,
    "GET /v1/queues/breached": roles.CASES_READ,
    "POST /v1/reports": roles.EVENTS_WRITE,
    "GET /v1/reports": roles.REPORTS_READ,
    "POST /v1/reports/{report_id}/attach": roles.CASES_WRITE,
    "GET /v1/accounts/{account_id}": roles.ACCOUNTS_READ,
    "GET /v1/accounts/{account_id}/linked": roles.ACCOUNTS_READ,
    "GET /v1/entities/{kind}/{value}": roles.ACCOUNTS_READ,
    "GET /v1/users": roles.USERS_MANAGE,
    "POST /v1/users": roles.USERS_MANAGE,
    "POST /v1/users/{username}/disable": roles.USERS_MANAGE,
    "POST /v1/users/{username}/tokens": roles.USERS_MANAGE,
    "GET /v1/policies": roles.CASES_READ,
    "GET /v1/policies/{policy_id}": roles.CASES_READ,
    "GET /v1/accounts/{account_id}/proposal": roles.CASES_READ,
    "GET /v1/accounts/{account_id}/status": roles.DECISIONS_WRITE,
    "POST /v1/actions": roles.ACTIONS_WRITE,
    "POST /v1/actions/{action_id}/reverse": roles.ACTIONS_REVERSE,
    "GET /v1/actions": roles.CASES_READ,
    "GET /v1/outbox": roles.ACTIONS_WRITE,
    "POST /v1/outbox/{outbox_id}/retry": roles.ACTIONS_WRITE,
    "POST /v1/actions/{action_id}/notice/preview": roles.CASES_READ,
    "POST /v1/actions/{action_id}/notice": roles.NOTICES_SEND,
    "POST /v1/bulk": roles.ACTIONS_WRITE,
    "GET /v1/bulk/{job_id}": roles.CASES_READ,
    "POST /v1/bulk/{job_id}/approve": roles.ACTIONS_REVERSE,
    "POST /v1/bulk/{job_id}/run": roles.ACTIONS_WRITE,
    "POST /v1/bulk/{job_id}/rollback": roles.ACTIONS_REVERSE,
    "POST /v1/actions/{action_id}/appeals": roles.CASES_WRITE,
    "POST /v1/appeals/{appeal_id}/decide": roles.ACTIONS_REVERSE,
    "GET /v1/appeals": roles.CASES_READ,
    "POST /v1/accounts/{account_id}/probation": roles.ACTIONS_WRITE,
    "GET /v1/probations": roles.CASES_READ,
    "GET /v1/probations/{probation_id}": roles.CASES_READ,
    "POST /v1/probations/run": roles.ACTIONS_WRITE,
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


# The case-work routes name these aliases (each a `require(...)` on the bearer token).
CaseReader = Annotated[Principal, Depends(require(roles.CASES_READ))]
CaseWorker = Annotated[Principal, Depends(require(roles.CASES_WRITE))]
ReportReader = Annotated[Principal, Depends(require(roles.REPORTS_READ))]
# Reports are events from outside: the ingest credential that sends events may send them.
ReportSender = Annotated[Principal, Depends(require(roles.EVENTS_WRITE))]


def workable_queues(principal: Principal, book: QueueBook, asked: list[str] | None) -> list[str]:
    """The queues this principal may claim from: those asked for, each checked against the
    queue's roles, or every queue its role works."""
    allowed = book.workable_by(principal.role)
    if not asked:
        return allowed
    for name in asked:
        book.asked(name)
        if name not in allowed:
            raise ForbiddenError(f"role {principal.role!r} may not work queue {name!r}")
    return asked
