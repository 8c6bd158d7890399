"""Notice, bulk-action and appeal routes: preview and send a notice; plan, approve, run, roll
back and read a bulk job; open, decide and list appeals. Bulk selection over the API takes
account lists, clusters and campaigns; lake SQL selection is on the CLI (`abusedesk bulk plan
--sql`), where the sandbox's time limit applies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from abusedesk.api.enforcement import allowed
from abusedesk.api.ids import RowId
from abusedesk.api.responses import JSONBody
from abusedesk.appeals.services import do_decide_appeal, do_open_appeal, list_appeals
from abusedesk.auth.tokens import Principal
from abusedesk.enforcement.bulk import (
    bulk_results,
    cluster_of,
    do_approve_bulk,
    do_plan_bulk,
    do_rollback_bulk,
    do_run_bulk,
    get_job,
)
from abusedesk.errors import InputError
from abusedesk.investigate.campaigns import campaign_selector, find_campaign, lake_campaigns
from abusedesk.notices.services import do_send_notice, draft_notice
from abusedesk.workspace import Workspace

router = APIRouter(tags=["notices", "bulk", "appeals"])


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


class NoticeBody(BaseModel):
    fills: dict[str, str] = Field(default_factory=dict, description="Placeholder values.")
    examples: list[dict[str, Any]] = Field(
        default_factory=list, description="Example messages ({to, ts, body}); masked."
    )
    channel: str = "email"
    recipient: str | None = None


class PlanBody(BaseModel):
    policy: str
    reason: str = Field(min_length=1)
    accounts: list[str] | None = None
    cluster: str | None = None
    campaign: str | None = Field(
        default=None, description="A campaign id (abusedesk campaigns list): its accounts."
    )
    since: datetime | None = Field(
        default=None,
        description="With campaign: the window it is found in (default: the 7 days up to the "
        "lake's newest message).",
    )
    kind: str | None = None
    duration: str | None = None
    override_reason: str | None = None


class RollbackBody(BaseModel):
    reason: str = Field(min_length=1)


@router.post("/v1/actions/{action_id}/notice/preview", summary="Render an action's notice")
def preview_notice(
    request: Request,
    action_id: RowId,
    body: NoticeBody,
    _p: Annotated[Principal, allowed("cases:read")],
) -> JSONBody:
    ws = _ws(request)
    draft = draft_notice(
        ws.enforcement(),
        ws.notice_renderer(),
        action_id=action_id,
        fills=body.fills,
        examples=body.examples,
        appeal_days=ws.settings.notice_appeal_days,
    )
    return JSONBody(draft.rendered.__dict__)


@router.post(
    "/v1/actions/{action_id}/notice",
    status_code=201,
    summary="Send an action's notice (queued in the outbox)",
    description="409 conflict with details.missing while placeholders are unfilled.",
)
def send_notice(
    request: Request,
    action_id: RowId,
    body: NoticeBody,
    principal: Annotated[Principal, allowed("notices:send")],
) -> JSONBody:
    ws = _ws(request)
    sent = do_send_notice(
        ws.enforcement(),
        ws.notice_renderer(),
        action_id=action_id,
        actor=principal.name,
        channel=body.channel,
        recipient=body.recipient,
        fills=body.fills,
        examples=body.examples,
        appeal_days=ws.settings.notice_appeal_days,
    )
    return JSONBody(sent, status_code=201)


@router.post("/v1/bulk", status_code=201, summary="Plan a bulk action (dry run)")
def plan_bulk(
    request: Request, body: PlanBody, principal: Annotated[Principal, allowed("actions:write")]
) -> JSONBody:
    ws = _ws(request)
    given = [x for x in (body.accounts, body.cluster, body.campaign) if x is not None]
    if len(given) != 1:
        raise InputError("select with exactly one of accounts, cluster, campaign")
    if body.since is not None and body.campaign is None:
        raise InputError("since goes with campaign (the window the campaign is found in)")
    if body.campaign is not None:
        since = body.since
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        with ws.lake_reader() as reader:
            scan = lake_campaigns(reader, ws.lake_dir, since=since)
        campaign = find_campaign(scan, body.campaign)
        accounts = sorted(campaign.accounts)
        selector: dict[str, Any] = campaign_selector(scan, campaign)
    elif body.cluster is not None:
        with ws.store.sessions() as session:
            accounts = cluster_of(session, body.cluster)
        selector = {"cluster": body.cluster}
    else:
        accounts = body.accounts or []
        selector = {"accounts": accounts}
    job, items = do_plan_bulk(
        ws.enforcement(),
        accounts=accounts,
        selector=selector,
        policy=body.policy,
        reason=body.reason,
        actor=principal.name,
        approval_size=ws.settings.bulk_approval_size,
        kind=body.kind,
        duration=body.duration,
        override_reason=body.override_reason,
    )
    return JSONBody({"job": job.to_json(), "items": items}, status_code=201)


@router.get("/v1/bulk/{job_id}", summary="A bulk job with its per-account results")
def read_bulk(
    request: Request, job_id: RowId, _p: Annotated[Principal, allowed("cases:read")]
) -> JSONBody:
    ws = _ws(request)
    enf = ws.enforcement()
    job = get_job(enf, job_id, ws.settings.bulk_approval_size)
    return JSONBody({"job": job.to_json(), "results": bulk_results(enf, job_id)})


@router.post("/v1/bulk/{job_id}/approve", summary="Approve a bulk job (a second person)")
def approve_bulk(
    request: Request, job_id: RowId, principal: Annotated[Principal, allowed("actions:reverse")]
) -> JSONBody:
    ws = _ws(request)
    job = do_approve_bulk(
        ws.enforcement(),
        job_id=job_id,
        actor=principal.name,
        approval_size=ws.settings.bulk_approval_size,
    )
    return JSONBody(job.to_json())


@router.post("/v1/bulk/{job_id}/run", summary="Run a bulk job")
def run_bulk(
    request: Request, job_id: RowId, principal: Annotated[Principal, allowed("actions:write")]
) -> JSONBody:
    ws = _ws(request)
    job = do_run_bulk(
        ws.enforcement(),
        job_id=job_id,
        actor=principal.name,
        approval_size=ws.settings.bulk_approval_size,
    )
    request.app.state.restrictions.invalidate()
    return JSONBody(job.to_json())


@router.post("/v1/bulk/{job_id}/rollback", summary="Reverse every action of a bulk job")
def rollback_bulk(
    request: Request,
    job_id: RowId,
    body: RollbackBody,
    principal: Annotated[Principal, allowed("actions:reverse")],
) -> JSONBody:
    ws = _ws(request)
    job = do_rollback_bulk(
        ws.enforcement(),
        job_id=job_id,
        actor=principal.name,
        reason=body.reason,
        approval_size=ws.settings.bulk_approval_size,
    )
    request.app.state.restrictions.invalidate()
    return JSONBody(job.to_json())


class AppealBody(BaseModel):
    message: str = Field(min_length=1, description="The customer's words.")


class DecideBody(BaseModel):
    decision: str = Field(description="uphold or overturn")
    reason: str = Field(min_length=1)
    channel: str = "email"
    probation: bool = Field(
        default=True,
        description="On overturn, put the account on probation with its policy's goals "
        "(when it names any and the action was on a case).",
    )


@router.post(
    "/v1/actions/{action_id}/appeals", status_code=201, summary="Open an appeal of an action"
)
def open_appeal(
    request: Request,
    action_id: RowId,
    body: AppealBody,
    principal: Annotated[Principal, allowed("cases:write")],
) -> JSONBody:
    appeal = do_open_appeal(
        _ws(request).enforcement(),
        action_id=action_id,
        message=body.message,
        channel="api",
        actor=principal.name,
    )
    return JSONBody(appeal.to_json(), status_code=201)


@router.post(
    "/v1/appeals/{appeal_id}/decide",
    summary="Uphold or overturn an appeal (not by who took the action)",
)
def decide_appeal(
    request: Request,
    appeal_id: RowId,
    body: DecideBody,
    principal: Annotated[Principal, allowed("actions:reverse")],
) -> JSONBody:
    ws = _ws(request)
    appeal = do_decide_appeal(
        ws.enforcement(),
        ws.notice_renderer(),
        appeal_id=appeal_id,
        decision=body.decision,
        actor=principal.name,
        reason=body.reason,
        channel=body.channel,
        probation=body.probation,
    )
    request.app.state.restrictions.invalidate()
    return JSONBody(appeal.to_json())


@router.get("/v1/appeals", summary="List appeals, newest first")
def get_appeals(
    request: Request, _p: Annotated[Principal, allowed("cases:read")], status: str | None = None
) -> JSONBody:
    rows = list_appeals(_ws(request).enforcement(), status=status)
    return JSONBody({"appeals": [a.to_json() for a in rows]})
