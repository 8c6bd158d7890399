"""Probation routes: start one, list them, show one (measured on the lake now), run a sweep.

Handlers are thin: they parse, call one service, and answer (probation/services.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from abusedesk.api.enforcement import allowed
from abusedesk.api.ids import BodyRowId, RowId
from abusedesk.api.responses import JSONBody
from abusedesk.auth import roles
from abusedesk.auth.tokens import Principal
from abusedesk.probation.services import do_start_probation, list_probations, show_probation
from abusedesk.workspace import Workspace

router = APIRouter(tags=["probation"])


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


class StartBody(BaseModel):
    policy: str = Field(min_length=1, description="A policy whose catalogue entry names goals.")
    case_id: BodyRowId = Field(description="The case the probation escalates back to.")
    reason: str = Field(min_length=1)
    action_id: BodyRowId | None = Field(default=None, description="The action it follows.")
    days: int | None = Field(default=None, gt=0, description="Default: the policy's days.")
    channel: str = "email"
    recipient: str | None = Field(default=None, description="Default: the account's email.")


@router.post(
    "/v1/accounts/{account_id}/probation",
    status_code=201,
    summary="Put an account on probation with its policy's goals",
)
def start(
    request: Request,
    account_id: str,
    body: StartBody,
    principal: Annotated[Principal, allowed(roles.ACTIONS_WRITE)],
) -> JSONBody:
    probation = do_start_probation(
        _ws(request).enforcement(),
        account_id=account_id,
        policy=body.policy,
        case_id=body.case_id,
        actor=principal.name,
        reason=body.reason,
        action_id=body.action_id,
        channel=body.channel,
        recipient=body.recipient,
        days=body.days,
    )
    return JSONBody(probation, status_code=201)


@router.get("/v1/probations", summary="List probations, newest first")
def get_probations(
    request: Request,
    _p: Annotated[Principal, allowed(roles.CASES_READ)],
    status: str | None = None,
    account_id: str | None = None,
) -> JSONBody:
    rows = list_probations(_ws(request).enforcement(), status=status, account_id=account_id)
    return JSONBody({"probations": rows})


@router.get(
    "/v1/probations/{probation_id}",
    summary="One probation; an active one with its goals measured on the lake now",
)
def get_probation(
    request: Request, probation_id: RowId, _p: Annotated[Principal, allowed(roles.CASES_READ)]
) -> JSONBody:
    ws = _ws(request)
    with ws.lake_reader() as reader:
        return JSONBody(show_probation(ws.enforcement(), reader, probation_id))


@router.post(
    "/v1/probations/run",
    summary="One sweep: graduate or escalate every probation whose outcome is decided",
)
def run(
    request: Request, principal: Annotated[Principal, allowed(roles.ACTIONS_WRITE)]
) -> JSONBody:
    results = _ws(request).run_probations(actor=principal.name)
    return JSONBody({"results": [r.to_json() for r in results]})
