"""The enforcement API: actions through HTTP take effect on POST /v1/decisions at once, the
account status answers in one lookup, idempotency keys, reversal, permissions, one error shape."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from abusedesk.api.app import create_app
from abusedesk.auth.tokens import do_create_token
from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.rules.pack import CompiledPack, load_pack_text
from abusedesk.storage.models import Account
from abusedesk.workspace import Workspace

PACK = """
features:
  sent_1h: {count: message, by: [account_id], window: 1h}
rules:
  - id: never
    description: Matches nothing in these tests
    policy: consent
    severity: low
    when: type = 'message' AND sent_1h >= 1000000
    verdict: block
"""


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    engine = DetectionEngine(CompiledPack.from_analysis(load_pack_text(PACK, "t.yaml")))
    with TestClient(create_app(workspace, engine=engine)) as test_client:
        yield test_client


def bearer(ws: Workspace, role: str) -> dict[str, str]:
    token, _ = do_create_token(ws.store, ws.clock, name=role, role=role, actor="test")
    return {"Authorization": f"Bearer {token}"}


def message(i: int, account: str = "AC1", **extra: str) -> bytes:
    event = {
        "id": f"m{i}",
        "type": "message",
        "message_id": f"m{i}",
        "ts": "2026-03-01T10:00:00Z",
        "account_id": account,
        "channel": "sms",
        "from": "+14155550100",
        "to": "+2348031234567",
        "body": "hello",
    }
    event.update(extra)
    return orjson.dumps(event)


def test_actions_take_effect_on_decisions_at_once(client: TestClient, workspace: Workspace) -> None:
    ingest = bearer(workspace, "ingest")
    analyst = bearer(workspace, "analyst")
    lead = bearer(workspace, "lead")
    assert (
        client.post("/v1/decisions", content=message(1), headers=ingest).json()["decision"]
        == "allow"
    )

    throttle = client.post(
        "/v1/actions",
        json={"account_id": "AC1", "kind": "throttle", "rate_per_min": 30, "reason": "r"},
        headers=analyst,
    )
    assert throttle.status_code == 201, throttle.text
    answer = client.post("/v1/decisions", content=message(2), headers=ingest).json()
    assert answer["decision"] == "throttle"
    assert answer["rate_per_min"] == 30
    assert answer["enforcement"]["action_id"] == throttle.json()["id"]

    pause = client.post(
        "/v1/actions",
        json={
            "account_id": "AC1",
            "kind": "pause",
            "scope": "country",
            "target": "NG",
            "reason": "pumping to NG",
        },
        headers=analyst,
    ).json()
    blocked = client.post("/v1/decisions", content=message(3), headers=ingest).json()
    assert blocked["decision"] == "block"
    assert blocked["enforcement"]["action_id"] == pause["id"]
    # A destination outside the paused country is only throttled.
    other = client.post(
        "/v1/decisions", content=message(4, to="+447700900123"), headers=ingest
    ).json()
    assert other["decision"] == "throttle"
    # Another account is untouched.
    assert (
        client.post("/v1/decisions", content=message(5, account="AC2"), headers=ingest).json()[
            "decision"
        ]
        == "allow"
    )

    status = client.get("/v1/accounts/AC1/status", headers=ingest).json()
    assert status["state"] == "throttled"
    assert {a["kind"] for a in status["actions"]} == {"throttle", "pause"}

    reversed_ = client.post(
        f"/v1/actions/{pause['id']}/reverse", json={"reason": "FP"}, headers=lead
    )
    assert reversed_.status_code == 201
    assert reversed_.json()["reverses_id"] == pause["id"]
    assert (
        client.post("/v1/decisions", content=message(6), headers=ingest).json()["decision"]
        == "throttle"
    )


def test_suspension_blocks_and_a_blocked_domain_blocks_everyone(
    client: TestClient, workspace: Workspace
) -> None:
    ingest = bearer(workspace, "ingest")
    analyst = bearer(workspace, "analyst")
    client.post(
        "/v1/actions",
        json={"account_id": "AC1", "policy": "phishing", "reason": "kit on bank-login.example"},
        headers=analyst,
    )
    answer = client.post("/v1/decisions", content=message(1), headers=ingest).json()
    assert answer["decision"] == "block"
    assert answer["enforcement"]["kind"] == "suspend"
    assert client.get("/v1/accounts/AC1/status", headers=ingest).json()["state"] == "suspended"
    client.post(
        "/v1/actions",
        json={
            "account_id": "AC1",
            "kind": "block",
            "scope": "domain",
            "target": "bank-login.example",
            "reason": "phishing kit",
        },
        headers=analyst,
    )
    other = client.post(
        "/v1/decisions",
        content=message(2, account="AC9", body="verify at https://bank-login.example/x"),
        headers=ingest,
    ).json()
    assert other["decision"] == "block"
    assert other["enforcement"]["scope"] == "domain"


def test_idempotency_key_and_permissions(client: TestClient, workspace: Workspace) -> None:
    analyst = bearer(workspace, "analyst")
    body = {"account_id": "AC1", "kind": "suspend", "reason": "r"}
    first = client.post("/v1/actions", json=body, headers={**analyst, "Idempotency-Key": "x1"})
    second = client.post("/v1/actions", json=body, headers={**analyst, "Idempotency-Key": "x1"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    # Analysts take actions; reversing one is for leads.
    denied = client.post(
        f"/v1/actions/{first.json()['id']}/reverse", json={"reason": "x"}, headers=analyst
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    viewer = bearer(workspace, "viewer")
    assert client.post("/v1/actions", json=body, headers=viewer).status_code == 403
    listed = client.get("/v1/actions?account_id=AC1", headers=viewer).json()["actions"]
    assert [a["id"] for a in listed] == [first.json()["id"]]


def test_errors_have_the_one_shape(client: TestClient, workspace: Workspace) -> None:
    analyst = bearer(workspace, "analyst")
    bad = client.post(
        "/v1/actions",
        json={
            "account_id": "AC1",
            "policy": "email-complaint-rate",
            "kind": "terminate",
            "reason": "r",
        },
        headers=analyst,
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_input"
    assert "proposes warn" in bad.json()["error"]["message"]
    missing = client.get("/v1/policies/nope", headers=analyst)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    ladder = client.get("/v1/policies/phishing", headers=analyst).json()["ladder"]
    assert ladder == ["suspend", "terminate"]
    proposal = client.get(
        "/v1/accounts/AC1/proposal?policy=email-complaint-rate", headers=analyst
    ).json()
    assert proposal["action"] == "warn"
    assert proposal["strikes"] == 0


def test_bulk_and_notices_over_the_api(client: TestClient, workspace: Workspace) -> None:
    analyst = bearer(workspace, "analyst")
    lead = bearer(workspace, "lead")
    ingest = bearer(workspace, "ingest")
    planned = client.post(
        "/v1/bulk",
        json={"policy": "phishing", "reason": "kit", "accounts": ["B1", "B2"]},
        headers=analyst,
    )
    assert planned.status_code == 201, planned.text
    job = planned.json()["job"]
    assert [i["will_take"] for i in planned.json()["items"]] == ["suspend", "suspend"]
    ran = client.post(f"/v1/bulk/{job['id']}/run", headers=analyst).json()
    assert ran["done"] == 2
    blocked = client.post("/v1/decisions", content=message(1, account="B2"), headers=ingest)
    assert blocked.json()["decision"] == "block"
    client.post(f"/v1/bulk/{job['id']}/rollback", json={"reason": "oops"}, headers=lead)
    allowed = client.post("/v1/decisions", content=message(2, account="B2"), headers=ingest)
    assert allowed.json()["decision"] == "allow"

    action_id = client.get("/v1/actions?account_id=B1&status=reversed", headers=analyst).json()[
        "actions"
    ][0]["id"]
    preview = client.post(f"/v1/actions/{action_id}/notice/preview", json={}, headers=analyst)
    assert preview.json()["missing"] == ["threshold"]
    refused = client.post(
        f"/v1/actions/{action_id}/notice", json={"recipient": "x@y.example"}, headers=analyst
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"missing": ["threshold"]}


def test_appeal_overturned_over_the_api(client: TestClient, workspace: Workspace) -> None:
    analyst = bearer(workspace, "analyst")
    lead = bearer(workspace, "lead")
    ingest = bearer(workspace, "ingest")
    action = client.post(
        "/v1/actions",
        json={"account_id": "AP1", "policy": "phishing", "reason": "kit"},
        headers=analyst,
    ).json()
    appeal = client.post(
        f"/v1/actions/{action['id']}/appeals", json={"message": "not us"}, headers=analyst
    )
    assert appeal.status_code == 201
    decide = {"decision": "overturn", "reason": "verified ownership", "channel": "email"}
    # The account has no email: the reinstatement notice cannot go, so nothing is decided.
    refused = client.post(f"/v1/appeals/{appeal.json()['id']}/decide", json=decide, headers=lead)
    assert refused.status_code == 400
    assert "no email" in refused.json()["error"]["message"]
    with workspace.store.transaction() as s:
        s.add(
            Account(
                account_id="AP1",
                first_seen=workspace.clock.now(),
                last_seen=workspace.clock.now(),
                event_count=0,
                email="ops@ap1.example",
            )
        )
    decided = client.post(f"/v1/appeals/{appeal.json()['id']}/decide", json=decide, headers=lead)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "overturned"
    assert decided.json()["notice_id"] is not None
    answer = client.post("/v1/decisions", content=message(1, account="AP1"), headers=ingest)
    assert answer.json()["decision"] == "allow"
