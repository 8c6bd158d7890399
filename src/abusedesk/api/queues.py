"""/v1/queues: the work queues, their load, and the SLA at-risk and breached lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from abusedesk.api.access import CaseReader
from abusedesk.api.responses import JSONBody
from abusedesk.cases.read import queue_summaries, sla_lists
from abusedesk.workspace import Workspace

router = APIRouter(prefix="/v1/queues", tags=["queues"])


@router.get("", summary="Queues with their roles, SLA and open, unassigned and breached counts")
def list_queues(request: Request, _p: CaseReader) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    return JSONBody({"queues": queue_summaries(ws.store, ws.desk, ws.clock.now())})


@router.get("/at-risk", summary="Open cases with little of their SLA left")
def at_risk(
    request: Request,
    _p: CaseReader,
    queue: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    rows = sla_lists(ws.store, ws.desk, ws.clock.now(), which="at_risk", queue=queue, limit=limit)
    return JSONBody({"cases": rows})


@router.get("/breached", summary="Open cases past a first-response or resolution due time")
def breached(
    request: Request,
    _p: CaseReader,
    queue: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    rows = sla_lists(ws.store, ws.desk, ws.clock.now(), which="breached", queue=queue, limit=limit)
    return JSONBody({"cases": rows})
