"""The decision lane (api/decisions.py): POST /v1/decisions answered before the framework's
stack, with the API's one error shape, its authentication, its OpenAPI entry, and feature
state in Redis evaluated off the event loop in batches."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis import Redis
from starlette.types import Receive, Scope, Send

from abusedesk.api.app import DeskAPI, create_app
from abusedesk.api.decisions import MAX_BODY_BYTES, Decisions
from abusedesk.auth.tokens import do_create_token, do_revoke_token
from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.features.redis_store import RedisStore
from abusedesk.detection.rules.pack import CompiledPack, load_pack_text
from abusedesk.settings import Settings
from abusedesk.workspace import Workspace

PACK = """
features:
  stops_1h: {count: opt_out, by: [account_id], window: 1h}
rules:
  - id: many-stops
    description: Many STOP replies within an hour
    policy: consent
    severity: high
    when: type = 'opt_out' AND stops_1h >= 3
    verdict: hold
"""


def engine(store: RedisStore | None = None) -> DetectionEngine:
    return DetectionEngine(CompiledPack.from_analysis(load_pack_text(PACK, "t.yaml")), store)


def stop(i: int, account: str = "AC1") -> bytes:
    return orjson.dumps(
        {
            "id": f"s-{account}-{i}",
            "type": "opt_out",
            "ts": f"2026-03-01T10:0{i}:00Z",
            "account_id": account,
            "recipient": f"+1555000{i:04d}",
        }
    )


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(workspace, engine=engine())) as test_client:
        yield test_client


def test_an_oversized_body_is_refused_in_the_one_shape(client: TestClient, token: str) -> None:
    response = client.post(
        "/v1/decisions",
        content=b" " * (MAX_BODY_BYTES + 1),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "limit_exceeded"
    # The bound is the decision route's own, not the setting that governs POST /v1/events.
    assert "ABUSEDESK_API_MAX_BODY_BYTES" not in error["message"]


def test_credentials_are_checked_before_the_body(client: TestClient) -> None:
    missing = client.post("/v1/decisions", content=b"{nope")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    unknown = client.post(
        "/v1/decisions", content=stop(1), headers={"Authorization": "Bearer adk_nope"}
    )
    assert unknown.status_code == 401
    other_scheme = client.post(
        "/v1/decisions", content=stop(1), headers={"Authorization": "Basic eDp5"}
    )
    assert other_scheme.status_code == 401


def test_other_methods_on_the_path_go_to_the_framework(client: TestClient) -> None:
    response = client.get("/v1/decisions")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_revoked_token_stops_working_once_the_cache_lets_go(db_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=db_url, api_auth_cache_s=0)
    with Workspace(settings) as ws:
        value, token_id = do_create_token(ws.store, ws.clock, name="t", role="ingest", actor="test")
        headers = {"Authorization": f"Bearer {value}"}
        with TestClient(create_app(ws, engine=engine())) as api:
            assert api.post("/v1/decisions", content=stop(1), headers=headers).status_code == 200
            do_revoke_token(ws.store, ws.clock, token_id=token_id, actor="test")
            refused = api.post("/v1/decisions", content=stop(2), headers=headers)
            assert refused.status_code == 401


def test_a_checked_token_is_trusted_for_the_cache_time(workspace: Workspace) -> None:
    """Within ABUSEDESK_API_AUTH_CACHE_S (10 s by default) a token is not looked up again:
    the documented price of keeping the database off the decision path."""
    value, token_id = do_create_token(
        workspace.store, workspace.clock, name="t", role="ingest", actor="test"
    )
    headers = {"Authorization": f"Bearer {value}"}
    with TestClient(create_app(workspace, engine=engine())) as api:
        assert api.post("/v1/decisions", content=stop(1), headers=headers).status_code == 200
        do_revoke_token(workspace.store, workspace.clock, token_id=token_id, actor="test")
        assert api.post("/v1/decisions", content=stop(2), headers=headers).status_code == 200


def test_openapi_describes_the_decision_route(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/decisions"]["post"]
    assert operation["summary"] == "Decide on one event"
    assert "decisions:write" in operation["description"]


def test_the_framework_route_answers_as_the_lane_does(workspace: Workspace, token: str) -> None:
    """Reached when a request passes the lane by (here: FastAPI called directly)."""
    headers = {"Authorization": f"Bearer {token}"}
    lane_app = create_app(workspace, engine=engine())
    routed_app = create_app(workspace, engine=engine())

    async def framework_only(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(routed_app, scope, receive, send)

    with TestClient(lane_app) as lane, TestClient(framework_only) as routed:
        for i in range(4):
            assert (
                lane.post("/v1/decisions", content=stop(i), headers=headers).json()
                == routed.post("/v1/decisions", content=stop(i), headers=headers).json()
            )
        bad = routed.post("/v1/decisions", content=b"{nope", headers=headers)
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "bad_format"
        assert routed.post("/v1/decisions", content=stop(1)).status_code == 401


@pytest.mark.redis
def test_redis_state_is_evaluated_off_the_loop_in_batches(workspace: Workspace, token: str) -> None:
    """Requests that arrive while a batch is being evaluated go together in the next one (one
    Redis round trip); the verdicts are those of the same events one at a time."""
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    redis.ping()  # no server: fail here, loudly
    prefix = f"adk-test-{uuid.uuid4().hex[:8]}"
    shared = engine(RedisStore(redis, prefix=prefix))
    app: DeskAPI = create_app(workspace, engine=shared)
    decisions: Decisions = app.state.decisions
    offloop = decisions.offloop
    assert offloop is not None  # state over the network: not evaluated in the loop
    accounts = [f"AC{n}" for n in range(5)]
    bodies = [stop(i, account) for i in range(4) for account in accounts]
    headers = {"Authorization": f"Bearer {token}"}

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            # Warm the token cache, then hold the engine so that every request queues.
            assert (
                await http.post("/v1/decisions", content=stop(9, "AC9"), headers=headers)
            ).status_code == 200
            taken = offloop.stats.events
            with shared._lock:
                posts = [
                    asyncio.create_task(http.post("/v1/decisions", content=b, headers=headers))
                    for b in bodies
                ]
                # The worker took the first request(s) and waits for the engine; the rest queue.
                while offloop.queued + offloop.stats.events - taken < len(bodies):
                    await asyncio.sleep(0.01)
            return list(await asyncio.gather(*posts))

    try:
        batches_before = offloop.stats.batches
        responses = asyncio.run(run())
        # The warm-up request, the one(s) the worker took first, then all the others at once.
        assert offloop.stats.batches - batches_before <= 3
        by_account: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for response in responses:
            assert response.status_code == 200
            answer = response.json()
            account = answer["event_id"].split("-")[1]
            by_account[account].append((answer["features"]["stops_1h"], answer["decision"]))
        # Whatever the order within an account, its 1st..4th stop counts 1..4 and holds at 3.
        for account in accounts:
            assert sorted(by_account[account]) == [
                (1, "allow"),
                (2, "allow"),
                (3, "hold"),
                (4, "hold"),
            ]
    finally:
        decisions.close()
        app.state.signal_writer.close()
        keys = list(redis.scan_iter(f"{prefix}*", count=1000))
        if keys:
            redis.delete(*keys)
        redis.close()
