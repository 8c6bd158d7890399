"""POST /v1/decisions: a verdict per event in real time, state updated as it goes, signals and
cases recorded in the background."""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from abusedesk.api.app import create_app
from abusedesk.cases.services import list_cases
from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.rules.pack import CompiledPack, load_pack_text
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
    case: {queue: compliance, priority: P2}
"""


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    engine = DetectionEngine(CompiledPack.from_analysis(load_pack_text(PACK, "t.yaml")))
    with TestClient(create_app(workspace, engine=engine)) as test_client:
        yield test_client


def stop(i: int) -> bytes:
    return orjson.dumps(
        {
            "id": f"s{i}",
            "type": "opt_out",
            "ts": f"2026-03-01T10:0{i}:00Z",
            "account_id": "AC1",
            "recipient": f"+1555000{i:04d}",
        }
    )


def test_verdicts_follow_the_state_and_matches_become_cases(
    client: TestClient, token: str, workspace: Workspace
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    answers = [
        client.post("/v1/decisions", content=stop(i), headers=headers).json() for i in range(4)
    ]
    assert [a["decision"] for a in answers] == ["allow", "allow", "hold", "hold"]
    assert answers[2]["matched"] == [
        {
            "rule": "many-stops",
            "policy": "consent",
            "severity": "high",
            "verdict": "hold",
            "mode": "live",
        }
    ]
    assert answers[2]["features"] == {"stops_1h": 3}
    assert answers[2]["score"] == 0.7
    deadline = time.monotonic() + 10
    while not list_cases(workspace.store) and time.monotonic() < deadline:
        time.sleep(0.1)  # the signal writer flushes every half second
    cases = list_cases(workspace.store)
    assert [(c.account_id, c.policy, c.rules) for c in cases] == [
        ("AC1", "consent", ["many-stops"])
    ]


def test_a_bad_event_is_one_clear_error(client: TestClient, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/v1/decisions", content=b'{"id": "x", "type": "opt_out"}', headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "missing required field 'ts'",
    }
    broken = client.post("/v1/decisions", content=b"{nope", headers=headers)
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "bad_format"


def test_decisions_need_a_token_with_the_permission(client: TestClient, viewer_token: str) -> None:
    assert client.post("/v1/decisions", content=stop(1)).status_code == 401
    forbidden = client.post(
        "/v1/decisions", content=stop(1), headers={"Authorization": f"Bearer {viewer_token}"}
    )
    assert forbidden.status_code == 403
