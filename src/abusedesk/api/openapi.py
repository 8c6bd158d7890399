"""The OpenAPI document, completed where FastAPI cannot see: the bearer scheme, the one error
shape on every route, and the bodies of routes that read their request themselves.

Routes check tokens in a dependency that reads the header (api/auth.py), and answer errors
through handlers (api/errors.py), so FastAPI's generated spec names neither. `complete` adds:

- `bearerAuth` (HTTP bearer) and, on every route but the open ones, `security: bearerAuth`;
- the `Error` schema ({"error": {"code", "message", "details"?}}, codes listed) as the answer
  of every error status a route can give (400, 401, 403, 404, 405?, 408, 409, 413, 415, 500),
  in place of FastAPI's 422 `HTTPValidationError`, which this API never sends (it answers 400);
- the canonical event as the body of POST /v1/decisions (read raw for speed).
"""

from __future__ import annotations

from typing import Any, Final

from abusedesk.api.errors import _HTTP_CODES as HTTP_CODES
from abusedesk.errors import AbusedeskError
from abusedesk.events.schema import FIELDS

OPEN_PATHS: Final = frozenset({"/v1/health"})
ERROR_STATUSES: Final = ("400", "401", "403", "404", "408", "409", "413", "415", "500")
_DESCRIPTIONS: Final = {
    "400": "Invalid input (code invalid_input, bad_format, bad_query)",
    "401": "Missing, unknown or revoked token (code unauthorized)",
    "403": "The token's role may not do this (code forbidden)",
    "404": "No such resource (code not_found)",
    "408": "A read over its time limit (code timeout)",
    "409": "Conflicts with the resource's state (code conflict)",
    "413": "Body, item count or result over a limit (code limit_exceeded)",
    "415": "Unsupported media type (code unsupported_media_type)",
    "500": "Internal or configuration error (code internal_error, config_error)",
}


def error_codes() -> list[str]:
    """Every stable code an error answer may carry."""
    codes = {"internal_error", "http_error", *HTTP_CODES.values()}
    stack: list[type[AbusedeskError]] = [AbusedeskError]
    while stack:
        cls = stack.pop()
        codes.add(cls.code)
        stack.extend(cls.__subclasses__())
    return sorted(codes)


def _error_schema() -> dict[str, Any]:
    return {
        "title": "Error",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": error_codes()},
                    "message": {"type": "string"},
                    "details": {},
                },
            }
        },
    }


def _event_schema() -> dict[str, Any]:
    return {
        "title": "Event",
        "type": "object",
        "description": "One canonical event (docs/events.md): id, type, ts, account_id and the "
        "type's fields; unknown fields are kept.",
        "required": ["id", "type", "ts"],
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string", "enum": sorted(FIELDS)},
            "ts": {"type": "string", "format": "date-time", "description": "RFC 3339"},
            "account_id": {"type": "string"},
        },
    }


def complete(spec: dict[str, Any]) -> dict[str, Any]:
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `abusedesk tokens create` or POST /v1/users/{username}/tokens.",
    }
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = _error_schema()
    schemas["Event"] = _event_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            statuses = ("500",) if path in OPEN_PATHS else ERROR_STATUSES
            for status in statuses:
                responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
                responses[status]["content"] = error
            if path not in OPEN_PATHS:
                operation["security"] = [{"bearerAuth": []}]
            if path == "/v1/decisions" and method == "post":
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Event"}}
                    },
                }
    return spec
