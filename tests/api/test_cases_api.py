"""The case-work API: every route refuses missing, wrong and under-privileged tokens (walked
from the OpenAPI spec, so a new route cannot skip it), and a case can be worked end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from abusedesk.auth.tokens import do_create_token
from abusedesk.cases.lifecycle import do_open_case
from abusedesk.storage.models import Account, AccountEntity, Entity
from abusedesk.workspace import Workspace

PREFIXES = ("/v1/cases", "/v1/queues", "/v1/reports")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _token(ws: Workspace, role: str) -> str:
    value, _ = do_create_token(ws.store, ws.clock, name=f"{role}-1", role=role, actor="test")
    return value


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    out = []
    for path, methods in spec["paths"].items():
        if path.startswith(PREFIXES):
            for method in methods:
                out.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return out


def test_every_case_route_checks_the_token_and_role(
    api_client: TestClient, workspace: Workspace
) -> None:
    routes = _routes(api_client)
    assert len(routes) >= 20
    ingest = _token(workspace, "ingest")
    viewer = _token(workspace, "viewer")
    for method, path in routes:
        for headers in ({}, _auth("adk_not-a-token"), {"Authorization": "Basic x"}):
            response = api_client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]["code"] == "unauthorized"
        if (method, path) == ("POST", "/v1/reports"):
            lacking = viewer  # only the event sender's permission may post reports
        elif method == "GET":
            lacking = ingest  # reads need cases:read / reports:read
        else:
            lacking = viewer  # writes need cases:write
        response = api_client.request(method, path, headers=_auth(lacking), json={})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "forbidden"


def test_a_case_worked_end_to_end_over_the_api(
    api_client: TestClient, workspace: Workspace
) -> None:
    analyst = _auth(_token(workspace, "analyst"))
    opened = api_client.post(
        "/v1/cases",
        headers=analyst,
        json={"account_id": "AC1", "policy": "consent", "priority": "P2", "reason": "complaint"},
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    assert opened.json()["queue"] == "general"
    again = api_client.post(
        "/v1/cases", headers=analyst, json={"account_id": "AC1", "policy": "consent", "reason": "x"}
    )
    assert (again.status_code, again.json()["case_id"]) == (200, case_id)

    claimed = api_client.post("/v1/cases/claim-next", headers=analyst, json={})
    assert claimed.json()["case"]["case_id"] == case_id
    assert claimed.json()["case"]["assignee"] == "token:analyst-1"
    assert api_client.post("/v1/cases/claim-next", headers=analyst, json={}).json() == {
        "case": None
    }
    forbidden = api_client.post(
        "/v1/cases/claim-next", headers=analyst, json={"queues": ["escalations"]}
    )
    assert forbidden.status_code == 403
    note = api_client.post(
        f"/v1/cases/{case_id}/notes", headers=analyst, json={"text": "@lee please look"}
    )
    assert note.json()["mentions"] == ["lee"]
    status = api_client.post(
        f"/v1/cases/{case_id}/status",
        headers=analyst,
        json={"status": "pending_customer", "reason": "asked for opt-in proof"},
    )
    assert status.json()["status"] == "pending_customer"
    bad = api_client.post(
        f"/v1/cases/{case_id}/close", headers=analyst, json={"resolution": "nah", "reason": "r"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_input"
    closed = api_client.post(
        f"/v1/cases/{case_id}/close",
        headers=analyst,
        json={"resolution": "no_violation", "reason": "proof received"},
    )
    assert closed.json()["resolution"] == "no_violation"
    twice = api_client.post(
        f"/v1/cases/{case_id}/close",
        headers=analyst,
        json={"resolution": "no_violation", "reason": "again"},
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "conflict"
    shown = api_client.get(f"/v1/cases/{case_id}", headers=analyst).json()
    assert [e["kind"] for e in shown["timeline"]] == [
        "opened",
        "claimed",
        "note",
        "status",
        "closed",
    ]
    assert api_client.get("/v1/cases/999", headers=analyst).status_code == 404
    listed = api_client.get("/v1/cases?status=closed&limit=1", headers=analyst).json()
    assert [c["case_id"] for c in listed["cases"]] == [case_id]
    assert listed["next_cursor"] is None
    queues = api_client.get("/v1/queues", headers=analyst).json()["queues"]
    assert {q["name"] for q in queues} >= {"fraud", "general", "escalations"}
    assert api_client.get("/v1/queues/breached", headers=analyst).json() == {"cases": []}


def test_reports_posted_matched_unmatched_and_attached(
    api_client: TestClient, workspace: Workspace
) -> None:
    with workspace.store.transaction() as session:
        session.add(Account(account_id="AC1", first_seen=T0, last_seen=T0, event_count=1))
        entity = Entity(kind="phone", value="+15005550006", first_seen=T0, last_seen=T0)
        session.add(entity)
        session.flush()
        session.add(
            AccountEntity(
                account_id="AC1", entity_id=entity.id, first_seen=T0, last_seen=T0, event_count=1
            )
        )
    sender = _auth(_token(workspace, "ingest"))
    viewer = _auth(_token(workspace, "viewer"))
    analyst = _auth(_token(workspace, "analyst"))
    posted = api_client.post(
        "/v1/reports",
        headers=sender,
        json={
            "reporter": "user",
            "category": "spam",
            "target": "+1 500 555 0006",
            "reporter_contact": "alice@example.org",
            "report_id": "R1",
        },
    )
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert (body["status"], body["account_id"], body["reporter_hidden"]) == (
        "matched",
        "AC1",
        True,
    )
    assert body["reporter_contact"] == "alice@example.org"
    repeat = api_client.post(
        "/v1/reports",
        headers=sender,
        json={"reporter": "user", "category": "spam", "report_id": "R1"},
    )
    assert repeat.status_code == 200
    lost = api_client.post(
        "/v1/reports",
        headers=sender,
        json={"reporter": "host", "category": "spam", "target": "lost.example"},
    ).json()
    assert lost["status"] == "unmatched"
    wrong = api_client.post(
        "/v1/reports", headers=sender, json={"reporter": "user", "category": "nonsense"}
    )
    assert wrong.status_code == 400
    waiting = api_client.get("/v1/reports?status=unmatched", headers=viewer).json()
    assert [r["report_id"] for r in waiting["reports"]] == [lost["report_id"]]
    case_id, _ = do_open_case(
        workspace.store,
        workspace.clock,
        workspace.desk,
        account_id="AC2",
        policy="abuse-report",
        actor="t",
        reason="r",
    )
    attached = api_client.post(
        f"/v1/reports/{lost['report_id']}/attach",
        headers=analyst,
        json={"case_id": case_id, "reason": "the host names AC2 in the ticket"},
    )
    assert attached.json()["status"] == "matched"
    assert attached.json()["case_id"] == case_id
    assert api_client.get("/v1/reports?status=unmatched", headers=viewer).json()["reports"] == []
