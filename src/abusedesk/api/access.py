"""Who may call the case-work routes: the one place they name their permissions.

Each alias is a FastAPI dependency that authenticates the bearer token and checks the role's
permission (roles and permissions are rows of the `roles` table). When user accounts arrive,
this module is the one to change; the routes only name these aliases.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from abusedesk.api.auth import require
from abusedesk.auth.tokens import Principal
from abusedesk.cases.queues import QueueBook
from abusedesk.errors import ForbiddenError

CaseReader = Annotated[Principal, Depends(require("cases:read"))]
CaseWorker = Annotated[Principal, Depends(require("cases:write"))]
ReportReader = Annotated[Principal, Depends(require("reports:read"))]
# Reports are events from outside: the ingest credential that sends events may send them.
ReportSender = Annotated[Principal, Depends(require("events:write"))]


def workable_queues(principal: Principal, book: QueueBook, asked: list[str] | None) -> list[str]:
    """The queues this principal may claim from: those asked for, each checked against the
    queue's roles, or every queue its role works."""
    allowed = book.workable_by(principal.role)
    if not asked:
        return allowed
    for name in asked:
        book.get(name)
        if name not in allowed:
            raise ForbiddenError(f"role {principal.role!r} may not work queue {name!r}")
    return asked
