"""User management over HTTP (admins: users:manage): list, create, disable, make tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from abusedesk.api import pagination
from abusedesk.api.access import GUARDED_RESPONSES
from abusedesk.api.auth import require
from abusedesk.api.responses import JSONBody
from abusedesk.auth import roles
from abusedesk.auth.tokens import Principal, do_create_token
from abusedesk.auth.users import do_create_user, do_disable_user, find_user, list_users
from abusedesk.workspace import Workspace

router = APIRouter(responses=GUARDED_RESPONSES)
Manager = Annotated[Principal, Depends(require(roles.USERS_MANAGE))]


class NewUser(BaseModel):
    username: str = Field(max_length=64)
    role: str = Field(description="viewer, analyst, lead or admin")
    display_name: str | None = Field(default=None, max_length=256)


class Disable(BaseModel):
    reason: str | None = Field(default=None, max_length=1000)


class NewToken(BaseModel):
    name: str = Field(max_length=128, description="What the token is for.")


@router.get("/v1/users", summary="List users")
def get_users(
    request: Request,
    _principal: Manager,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    after = int(pagination.decode(cursor).get("after_id", 0))
    users = list_users(ws.store, after_id=after, limit=limit + 1)
    more = len(users) > limit
    users = users[:limit]
    position = {"after_id": users[-1].id} if more else None
    return JSONBody(pagination.page([u.to_dict() for u in users], position))


@router.post("/v1/users", summary="Create a user", status_code=201)
def post_user(request: Request, body: NewUser, principal: Manager) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    do_create_user(
        ws.store,
        ws.clock,
        username=body.username,
        role=body.role,
        display_name=body.display_name,
        actor=principal.name,
    )
    return JSONBody(_one(ws, body.username), status_code=201)


@router.post("/v1/users/{username}/disable", summary="Disable a user (their tokens stop)")
def post_disable(request: Request, username: str, body: Disable, principal: Manager) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    do_disable_user(ws.store, ws.clock, username=username, actor=principal.name, reason=body.reason)
    # The cache would let the user's tokens work for a few more seconds on this server.
    request.app.state.token_cache.clear()
    return JSONBody(_one(ws, username))


@router.post(
    "/v1/users/{username}/tokens", summary="Make a token for a user (shown once)", status_code=201
)
def post_token(request: Request, username: str, body: NewToken, principal: Manager) -> JSONBody:
    ws: Workspace = request.app.state.workspace
    token, token_id = do_create_token(
        ws.store, ws.clock, name=body.name, user=username, actor=principal.name
    )
    return JSONBody({"id": token_id, "token": token, "user": username}, status_code=201)


def _one(ws: Workspace, username: str) -> dict[str, object]:
    user = find_user(ws.store, username)
    view = list_users(ws.store, after_id=user.id - 1, limit=1)[0]
    return view.to_dict()
