"""Every error the API returns has one shape: {"error": {"code", "message", "details"?}}.

Codes are stable (see abusedesk.errors); clients branch on them, never on messages.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from abusedesk.api.responses import JSONBody
from abusedesk.errors import AbusedeskError

log = logging.getLogger("abusedesk.api")

_HTTP_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    409: "conflict",
    413: "limit_exceeded",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error shape, as data (the decision lane renders it without a Response)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def envelope(status: int, code: str, message: str, details: Any = None) -> JSONBody:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONBody(error_body(code, message, details), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(AbusedeskError)
    async def _domain(_: Request, exc: AbusedeskError) -> JSONBody:
        return envelope(exc.http_status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONBody:
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(first["loc"])
        return envelope(400, "invalid_input", f"{where}: {first['message']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONBody:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = envelope(exc.status_code, code, str(exc.detail))
        if exc.headers:  # e.g. Allow on a 405 (RFC 9110 requires it)
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONBody:
        log.exception("unhandled error", exc_info=exc)
        return envelope(500, "internal_error", "internal error; the server log has the details")
