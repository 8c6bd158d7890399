"""/v1/cases: list, show and work cases. Every write goes through a cases/ service (one
transaction, a timeline entry, an audit row naming the token's principal)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from abusedesk.api.access import CaseReader, CaseWorker, workable_queues
from abusedesk.api.ids import BodyRowId, RowId
from abusedesk.api.responses import JSONBody
from abusedesk.cases.assignment import (
    do_assign_case,
    do_claim_next_case,
    do_escalate_case,
    do_release_case,
    do_snooze_case,
)
from abusedesk.cases.evidence import do_add_evidence, do_gather_messages
from abusedesk.cases.lifecycle import (
    do_close_case,
    do_open_case,
    do_reopen_case,
    do_set_case_status,
)
from abusedesk.cases.merge import do_merge_cases, do_split_case
from abusedesk.cases.notes import do_add_note
from abusedesk.cases.read import page_cases, show_case
from abusedesk.errors import InputError
from abusedesk.investigate.account import account_messages
from abusedesk.workspace import Workspace

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def _case(ws: Workspace, case_id: RowId) -> JSONBody:
    return JSONBody(show_case(ws.store, case_id)["case"])


class Reason(BaseModel):
    reason: str = Field(..., min_length=1, max_length=4000)


class OpenBody(Reason):
    account_id: str = Field(..., min_length=1, max_length=128)
    policy: str = Field(..., min_length=1, max_length=128)
    severity: str = "medium"
    priority: str = "P3"
    title: str | None = None
    queue: str | None = None


class ClaimBody(BaseModel):
    queues: list[str] | None = Field(None, description="Default: every queue the role works.")


class AssignBody(BaseModel):
    assignee: str = Field(..., min_length=1, max_length=128)
    reason: str = ""


class ReleaseBody(BaseModel):
    reason: str = ""


class EscalateBody(Reason):
    queue: str | None = Field(None, description="Default: the queue's escalation target.")


class SnoozeBody(Reason):
    until: datetime


class NoteBody(BaseModel):
    text: str = Field(..., min_length=1, max_length=20_000)


class StatusBody(Reason):
    status: str


class MergeBody(Reason):
    cases: list[BodyRowId] = Field(..., min_length=1, description="Cases merged into this one.")


class SplitBody(Reason):
    signals: list[BodyRowId] = Field(..., min_length=1)
    policy: str | None = None


class EvidenceBody(BaseModel):
    kind: str = Field(..., description="messages (a sample) or metrics (a snapshot)")
    items: list[dict[str, Any]] | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="The items to freeze; without them a `messages` sample is read from the "
        "lake: the account's newest messages, at most ABUSEDESK_CASE_MESSAGE_SAMPLE.",
    )
    note: str = ""


class CloseBody(Reason):
    resolution: str = Field(
        ..., description="violation_confirmed, no_violation, duplicate or escalated_out."
    )


@router.get("", summary="List cases", description="Most urgent first; cursor pagination.")
def list_cases_route(
    request: Request,
    _p: CaseReader,
    *,
    status: Annotated[str | None, Query(description="open, or one state")] = None,
    queue: str | None = None,
    policy: str | None = None,
    account_id: str | None = None,
    assignee: Annotated[str | None, Query(description="a name, or `none`")] = None,
    priority: str | None = None,
    source: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSONBody:
    rows, next_cursor = page_cases(
        _ws(request).store,
        status=status,
        queue=queue,
        policy=policy,
        account_id=account_id,
        assignee=assignee,
        priority=priority,
        source=source,
        cursor=cursor,
        limit=limit,
    )
    return JSONBody({"cases": [r.to_json() for r in rows], "next_cursor": next_cursor})


@router.post("", summary="Open a case by hand", status_code=201)
def open_case_route(request: Request, p: CaseWorker, body: OpenBody) -> JSONBody:
    ws = _ws(request)
    case_id, opened = do_open_case(
        ws.store,
        ws.clock,
        ws.desk,
        account_id=body.account_id,
        policy=body.policy,
        severity=body.severity,
        priority=body.priority,
        title=body.title,
        queue=body.queue,
        actor=p.name,
        reason=body.reason,
    )
    shown = show_case(ws.store, case_id)["case"]
    return JSONBody({**shown, "opened": opened}, status_code=201 if opened else 200)


@router.post("/claim-next", summary="Claim the most urgent unassigned case")
def claim_next_route(request: Request, p: CaseWorker, body: ClaimBody) -> JSONBody:
    ws = _ws(request)
    queues = workable_queues(p, ws.desk.queues, body.queues)
    case_id = do_claim_next_case(ws.store, ws.clock, analyst=p.name, queues=queues)
    if case_id is None:
        return JSONBody({"case": None})
    return JSONBody({"case": show_case(ws.store, case_id)["case"]})


@router.get("/{case_id}", summary="A case with its timeline, evidence, signals and reports")
def show_case_route(request: Request, _p: CaseReader, case_id: RowId) -> JSONBody:
    return JSONBody(show_case(_ws(request).store, case_id))


@router.post("/{case_id}/assign", summary="Assign or reassign a case")
def assign_route(request: Request, p: CaseWorker, case_id: RowId, body: AssignBody) -> JSONBody:
    ws = _ws(request)
    do_assign_case(
        ws.store,
        ws.clock,
        case_id=case_id,
        assignee=body.assignee,
        actor=p.name,
        reason=body.reason,
    )
    return _case(ws, case_id)


@router.post("/{case_id}/release", summary="Put a case back in its queue")
def release_route(request: Request, p: CaseWorker, case_id: RowId, body: ReleaseBody) -> JSONBody:
    ws = _ws(request)
    do_release_case(ws.store, ws.clock, case_id=case_id, actor=p.name, reason=body.reason)
    return _case(ws, case_id)


@router.post("/{case_id}/escalate", summary="Escalate a case, with a reason")
def escalate_route(request: Request, p: CaseWorker, case_id: RowId, body: EscalateBody) -> JSONBody:
    ws = _ws(request)
    do_escalate_case(
        ws.store,
        ws.clock,
        ws.desk,
        case_id=case_id,
        actor=p.name,
        reason=body.reason,
        to_queue=body.queue,
    )
    return _case(ws, case_id)


@router.post("/{case_id}/snooze", summary="Keep a case out of claim-next until a time")
def snooze_route(request: Request, p: CaseWorker, case_id: RowId, body: SnoozeBody) -> JSONBody:
    ws = _ws(request)
    do_snooze_case(
        ws.store, ws.clock, case_id=case_id, until=body.until, actor=p.name, reason=body.reason
    )
    return _case(ws, case_id)


@router.post("/{case_id}/notes", summary="Add a note (@name mentions)", status_code=201)
def note_route(request: Request, p: CaseWorker, case_id: RowId, body: NoteBody) -> JSONBody:
    ws = _ws(request)
    named = do_add_note(ws.store, ws.clock, case_id=case_id, text=body.text, actor=p.name)
    return JSONBody({"case_id": case_id, "mentions": named}, status_code=201)


@router.post("/{case_id}/status", summary="Move an open case to another open state")
def status_route(request: Request, p: CaseWorker, case_id: RowId, body: StatusBody) -> JSONBody:
    ws = _ws(request)
    do_set_case_status(
        ws.store, ws.clock, case_id=case_id, status=body.status, actor=p.name, reason=body.reason
    )
    return _case(ws, case_id)


@router.post("/{case_id}/merge", summary="Merge other cases into this one")
def merge_route(request: Request, p: CaseWorker, case_id: RowId, body: MergeBody) -> JSONBody:
    ws = _ws(request)
    merged = do_merge_cases(
        ws.store,
        ws.clock,
        survivor_id=case_id,
        case_ids=body.cases,
        actor=p.name,
        reason=body.reason,
    )
    return JSONBody({"case": show_case(ws.store, case_id)["case"], "merged": merged})


@router.post("/{case_id}/split", summary="Move signals into a new case", status_code=201)
def split_route(request: Request, p: CaseWorker, case_id: RowId, body: SplitBody) -> JSONBody:
    ws = _ws(request)
    new_id = do_split_case(
        ws.store,
        ws.clock,
        ws.desk,
        case_id=case_id,
        signal_ids=body.signals,
        actor=p.name,
        reason=body.reason,
        policy=body.policy,
    )
    return JSONBody(show_case(ws.store, new_id)["case"], status_code=201)


@router.post(
    "/{case_id}/evidence",
    summary="Freeze a message sample or metric snapshot on a case",
    description="Items beyond ABUSEDESK_CASE_MESSAGE_SAMPLE are dropped; the count kept is "
    "returned. A `messages` sample without items is read from the lake.",
    status_code=201,
)
def evidence_route(request: Request, p: CaseWorker, case_id: RowId, body: EvidenceBody) -> JSONBody:
    ws = _ws(request)
    if body.items is None:
        if body.kind != "messages":
            raise InputError("only a `messages` sample is read from the lake; give the items")
        days = ws.settings.investigate_days
        kept = do_gather_messages(
            ws.store,
            ws.clock,
            ws.desk,
            case_id=case_id,
            read=lambda account, last, size: account_messages(
                ws.account_lake(), account, last, days, size
            ),
            actor=p.name,
            note=body.note,
        )
        return JSONBody({"case_id": case_id, "kept": kept}, status_code=201)
    kept = do_add_evidence(
        ws.store,
        ws.clock,
        ws.desk,
        case_id=case_id,
        kind=body.kind,
        items=body.items,
        actor=p.name,
        note=body.note,
    )
    return JSONBody({"case_id": case_id, "kept": kept}, status_code=201)


@router.post("/{case_id}/close", summary="Close a case with its resolution")
def close_route(request: Request, p: CaseWorker, case_id: RowId, body: CloseBody) -> JSONBody:
    ws = _ws(request)
    do_close_case(
        ws.store,
        ws.clock,
        case_id=case_id,
        resolution=body.resolution,
        actor=p.name,
        reason=body.reason,
    )
    return _case(ws, case_id)


@router.post("/{case_id}/reopen", summary="Reopen a closed case")
def reopen_route(request: Request, p: CaseWorker, case_id: RowId, body: Reason) -> JSONBody:
    ws = _ws(request)
    do_reopen_case(ws.store, ws.clock, ws.desk, case_id=case_id, actor=p.name, reason=body.reason)
    return _case(ws, case_id)
