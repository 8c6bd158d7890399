"""/v1/reports: take in an abuse report, list the unmatched ones, attach one to a case.

A report posted here is a `report` event like any other: it is validated, stored in the lake
and the reports table, seen by detection, then routed to the account's case (or held as
unmatched) by the same intake that routes ingested reports.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from abusedesk.api.access import CaseWorker, ReportReader, ReportSender
from abusedesk.api.events import _in_thread
from abusedesk.api.ids import BodyRowId
from abusedesk.api.responses import JSONBody
from abusedesk.cases.reports import do_attach_report, list_reports, report_json
from abusedesk.errors import InputError, NotFoundError
from abusedesk.storage.models import Report
from abusedesk.workspace import Workspace

router = APIRouter(prefix="/v1/reports", tags=["reports"])


class ReportBody(BaseModel):
    reporter: str = Field(..., description="user, host, carrier, third_party, anti_spam_org…")
    category: str = Field(..., description="spam, phishing, fraud, harassment, …")
    target: str | None = Field(None, description="A number, address, URL, domain or message id.")
    account_id: str | None = None
    description: str | None = None
    evidence: list[str] = Field(default_factory=list, max_length=50)
    reporter_contact: str | None = Field(
        None, max_length=320, description="Who reported; never shown to the reported customer."
    )
    report_id: str | None = Field(None, description="Default: a new id.")
    ts: datetime | None = Field(None, description="When it was reported. Default: now.")


class AttachBody(BaseModel):
    reason: str = Field(..., min_length=1)
    case_id: BodyRowId | None = None
    account_id: str | None = None


def _report(ws: Workspace, report_id: str) -> dict[str, Any]:
    with ws.store.sessions() as session:
        row = session.execute(
            select(Report).where(Report.report_id == report_id)
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"no report {report_id!r}")
        return report_json(row)


@router.post("", summary="Take in an abuse report", status_code=201)
async def post_report(request: Request, p: ReportSender, body: ReportBody) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    report_id = body.report_id or f"rpt_{uuid.uuid4().hex}"
    when = body.ts or ws.clock.now()
    event: dict[str, Any] = {
        "id": f"report:{report_id}",
        "type": "report",
        "ts": when.isoformat(),
        "report_id": report_id,
        "reporter": body.reporter,
        "category": body.category,
    }
    for name in ("target", "account_id", "description", "reporter_contact"):
        if getattr(body, name):
            event[name] = getattr(body, name)
    if body.evidence:
        event["evidence"] = body.evidence
    ingestor = ws.ingestor(
        consumers=request.app.state.consumers, actor=p.name, origin="api", beside_decisions=True
    )
    summary = await _in_thread(request, lambda: ingestor.ingest_objects([event], source="http"))
    result = (summary.results or [None])[0]
    if result is not None and result.status == "rejected":
        raise InputError(result.reason or "report rejected")
    status = 201 if result is not None and result.status == "accepted" else 200
    return JSONBody(_report(ws, report_id), status_code=status)


@router.get("", summary="List reports (status=unmatched: the unmatched queue)")
def get_reports(
    request: Request,
    _p: ReportReader,
    status: Annotated[str | None, Query(description="new, matched or unmatched")] = None,
    cursor: Annotated[int | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    rows, next_cursor = list_reports(ws.store, status=status, after_id=cursor, limit=limit)
    return JSONBody({"reports": rows, "next_cursor": next_cursor})


@router.post("/{report_id}/attach", summary="Attach an unmatched report to a case or account")
def attach_report(request: Request, p: CaseWorker, report_id: str, body: AttachBody) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    do_attach_report(
        ws.store,
        ws.clock,
        ws.desk,
        report_id=report_id,
        actor=p.name,
        reason=body.reason,
        case_id=body.case_id,
        account_id=body.account_id,
    )
    return JSONBody(_report(ws, report_id))
