"""Enforcement routes: policies and ladder proposals, actions, account status, the outbox.

Handlers are thin: they parse, call one service, and answer. Every write invalidates the
in-memory restriction index so the decision API sees it on the next request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from abusedesk.api.auth import require
from abusedesk.api.ids import BodyRowId, RowId
from abusedesk.api.responses import JSONBody
from abusedesk.auth.tokens import Principal
from abusedesk.enforcement.kinds import KINDS, ActionRequest
from abusedesk.enforcement.outbox import do_retry_delivery, list_outbox
from abusedesk.enforcement.services import (
    do_reverse_action,
    do_take_action,
    list_actions,
    proposal,
)
from abusedesk.policies.catalogue import parse_duration
from abusedesk.workspace import Workspace

router = APIRouter(tags=["enforcement"])


def allowed(permission: str) -> Any:
    """The one permission check of these routes (token roles today; user roles at merge)."""
    return Depends(require(permission))


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


class TakeAction(BaseModel):
    account_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1)
    kind: str | None = Field(
        default=None, description=f"One of {', '.join(KINDS)}; omit to take the ladder's step."
    )
    policy: str | None = None
    case_id: BodyRowId | None = None
    scope: str = "account"
    target: str | None = None
    rate_per_min: float | None = None
    duration: str | None = Field(default=None, description="30m, 72h, 14d: lifts itself then.")
    override_reason: str | None = Field(
        default=None, description="Required when `kind` differs from the ladder's proposal."
    )


class Reverse(BaseModel):
    reason: str = Field(min_length=1)


@router.get("/v1/policies", summary="The policy catalogue")
def get_policies(request: Request, _p: Annotated[Principal, allowed("cases:read")]) -> JSONBody:
    return JSONBody({"policies": [p.to_json() for p in _ws(request).catalogue]})


@router.get("/v1/policies/{policy_id}", summary="One policy with its ladder")
def get_policy(
    request: Request, policy_id: str, _p: Annotated[Principal, allowed("cases:read")]
) -> JSONBody:
    return JSONBody(_ws(request).catalogue.get(policy_id).to_json())


@router.get(
    "/v1/accounts/{account_id}/proposal",
    summary="What the policy's ladder proposes for this account now",
)
def get_proposal(
    request: Request,
    account_id: str,
    policy: Annotated[str, Query()],
    _p: Annotated[Principal, allowed("cases:read")],
) -> JSONBody:
    return JSONBody(proposal(_ws(request).enforcement(), account_id, policy).to_json())


@router.get(
    "/v1/accounts/{account_id}/status",
    summary="Whether the account may send, in one lookup",
    description="The state derived from the account's active actions (active, "
    "verification_required, throttled, paused, suspended, terminated) and the actions in force, "
    "read from the in-memory restriction index the decision API uses.",
)
async def get_status(
    request: Request, account_id: str, _p: Annotated[Principal, allowed("decisions:write")]
) -> JSONBody:
    now = _ws(request).clock.now()
    return JSONBody(request.app.state.restrictions.index.status(account_id, now))


@router.post(
    "/v1/actions",
    status_code=201,
    summary="Take an action",
    description="Idempotent: send an Idempotency-Key header; the same key answers the first "
    "action with 200. Without a key an identical lasting action in force is returned (200).",
)
def post_action(
    request: Request,
    body: TakeAction,
    principal: Annotated[Principal, allowed("actions:write")],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONBody:
    ws = _ws(request)
    result = do_take_action(
        ws.enforcement(),
        ActionRequest(
            account_id=body.account_id,
            actor=principal.name,
            reason=body.reason,
            kind=body.kind,
            policy=body.policy,
            case_id=body.case_id,
            scope=body.scope,
            target=body.target,
            rate_per_min=body.rate_per_min,
            duration=parse_duration(body.duration) if body.duration else None,
            override_reason=body.override_reason,
            idempotency_key=idempotency_key,
        ),
    )
    request.app.state.restrictions.invalidate()
    return JSONBody(result.action, status_code=201 if result.created else 200)


@router.post("/v1/actions/{action_id}/reverse", status_code=201, summary="Reverse an action")
def post_reverse(
    request: Request,
    action_id: RowId,
    body: Reverse,
    principal: Annotated[Principal, allowed("actions:reverse")],
) -> JSONBody:
    result = do_reverse_action(
        _ws(request).enforcement(), action_id=action_id, actor=principal.name, reason=body.reason
    )
    request.app.state.restrictions.invalidate()
    return JSONBody(result.action, status_code=201 if result.created else 200)


@router.get("/v1/actions", summary="List actions, newest first")
def get_actions(
    request: Request,
    _p: Annotated[Principal, allowed("cases:read")],
    account_id: str | None = None,
    status: str | None = None,
    case_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONBody:
    rows = list_actions(
        _ws(request).store, account_id=account_id, status=status, case_id=case_id, limit=limit
    )
    return JSONBody({"actions": rows})


@router.get("/v1/outbox", summary="Deliveries: pending, delivered or dead")
def get_outbox(
    request: Request,
    _p: Annotated[Principal, allowed("actions:write")],
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONBody:
    rows = list_outbox(_ws(request).store, status=status, limit=limit)
    return JSONBody({"items": [r.__dict__ for r in rows]})


@router.post("/v1/outbox/{outbox_id}/retry", summary="Send a dead delivery again")
def post_outbox_retry(
    request: Request, outbox_id: RowId, principal: Annotated[Principal, allowed("actions:write")]
) -> JSONBody:
    ws = _ws(request)
    row = do_retry_delivery(ws.store, ws.clock, outbox_id=outbox_id, actor=principal.name)
    return JSONBody(row.__dict__)
