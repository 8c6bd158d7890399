"""One exception tree with stable codes that clients can branch on.

    AbusedeskError                 code           HTTP
    ├── ConfigError                config_error    500  a setting is missing or wrong
    ├── InputError                 invalid_input   400  a request or file the user gave is wrong
    │   ├── FormatError            bad_format      400  a file is not in the format named
    │   └── QueryError             bad_query       400  a SQL query is refused or failed
    ├── AuthError                  unauthorized    401  no or unknown credentials
    ├── ForbiddenError             forbidden       403  the role may not do this
    ├── NotFoundError              not_found       404
    ├── ConflictError              conflict        409  the state does not allow this now
    ├── LimitError                 limit_exceeded  413  input over a configured bound
    └── DeadlineError              timeout         408  work stopped at its time limit

The API renders every one of them as {"error": {"code", "message", "details"}}; the CLI prints
`error: <message>` in red and exits 1 (2 for usage errors, which typer handles).
"""

from __future__ import annotations

from typing import Any, ClassVar


class AbusedeskError(Exception):
    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class ConfigError(AbusedeskError):
    code = "config_error"
    http_status = 500


class InputError(AbusedeskError):
    code = "invalid_input"
    http_status = 400


class FormatError(InputError):
    code = "bad_format"


class QueryError(InputError):
    code = "bad_query"


class AuthError(AbusedeskError):
    code = "unauthorized"
    http_status = 401


class ForbiddenError(AbusedeskError):
    code = "forbidden"
    http_status = 403


class NotFoundError(AbusedeskError):
    code = "not_found"
    http_status = 404


class ConflictError(AbusedeskError):
    code = "conflict"
    http_status = 409


class LimitError(AbusedeskError):
    code = "limit_exceeded"
    http_status = 413


class DeadlineError(AbusedeskError):
    code = "timeout"
    http_status = 408
