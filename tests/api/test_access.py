"""Every route refuses a missing token, a wrong token and every role that may not use it.

The test walks the OpenAPI spec, so a new route is covered the day it is added; the
permission each route needs comes from api/access.py ROUTE_PERMISSIONS, the same list the app
checks its routes against when it starts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from abusedesk.api.access import ROUTE_PERMISSIONS, check_routes, route_key
from abusedesk.api.auth import require
from abusedesk.auth.roles import DEFAULT_PERMISSIONS, PERSON_ROLES, SERVICE_ROLES
from abusedesk.auth.tokens import do_create_token
from abusedesk.auth.users import do_create_user, do_disable_user
from abusedesk.workspace import Workspace

ROLES = PERSON_ROLES + SERVICE_ROLES


def _operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [(m.upper(), path) for path, item in spec["paths"].items() for m in item]


def _call(client: TestClient, method: str, path: str, token: str | None) -> Any:
    url = re.sub(r"\{[^}]+\}", "x", path)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, url, headers=headers, json=body)


@pytest.fixture
def tokens(workspace: Workspace) -> dict[str, str]:
    out = {}
    for role in ROLES:
        out[role], _ = do_create_token(
            workspace.store, workspace.clock, name=f"t-{role}", role=role, actor="test"
        )
    return out


def test_the_spec_and_the_permission_list_name_the_same_routes(api_client: TestClient) -> None:
    operations = {route_key(m, p) for m, p in _operations(api_client)}
    assert operations == set(ROUTE_PERMISSIONS)
    public = {k for k, v in ROUTE_PERMISSIONS.items() if v is None}
    assert public == {"GET /v1/health"}


def test_every_route_refuses_missing_wrong_and_unentitled_tokens(
    api_client: TestClient, tokens: dict[str, str]
) -> None:
    checked = 0
    for method, path in _operations(api_client):
        needed = ROUTE_PERMISSIONS[route_key(method, path)]
        if needed is None:
            continue
        for token in (None, "adk_not-a-real-token", "Basic something"):
            response = _call(api_client, method, path, token)
            assert response.status_code == 401, (method, path, token, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
        for role in ROLES:
            response = _call(api_client, method, path, tokens[role])
            allowed = needed in DEFAULT_PERMISSIONS[role] or "admin" in DEFAULT_PERMISSIONS[role]
            if allowed:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
                assert response.json()["error"]["code"] == "forbidden"
            checked += 1
    assert checked >= 9 * len(ROLES)


def test_a_disabled_users_tokens_stop_working(workspace: Workspace, api_client: TestClient) -> None:
    do_create_user(workspace.store, workspace.clock, username="ann", role="analyst", actor="t")
    token, _ = do_create_token(workspace.store, workspace.clock, name="ann", user="ann", actor="t")
    headers = {"Authorization": f"Bearer {token}"}
    assert api_client.get("/v1/accounts/ACx", headers=headers).status_code == 404
    do_disable_user(workspace.store, workspace.clock, username="ann", actor="t")
    api_client.app.state.token_cache.clear()  # type: ignore[attr-defined]
    refused = api_client.get("/v1/accounts/ACx", headers=headers)
    assert refused.status_code == 401


def test_a_route_missing_from_the_list_stops_the_app() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/v1/secret")
    def secret() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(RuntimeError, match="GET /v1/secret is not in"):
        check_routes(app)


def test_a_route_guarded_by_another_permission_stops_the_app() -> None:
    app = FastAPI()

    @app.get("/v1/users", dependencies=[Depends(require("cases:read"))])
    def users() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="must depend on require"):
        check_routes(app)


def test_an_unknown_permission_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        require("cases:reed")
