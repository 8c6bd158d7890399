"""Probation over HTTP and on the command line: start, list, show (measured now), run; bad
input answers the one error shape (API) or one line and a non-zero exit (CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from abusedesk.api.app import create_app
from abusedesk.auth.tokens import do_create_token
from abusedesk.cli.main import app as cli
from abusedesk.clock import FixedClock
from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.rules.pack import CompiledPack, load_pack_text
from abusedesk.workspace import Workspace

from .conftest import POLICY, T0, add_account_and_case, email_traffic, ingest

PACK = """
rules:
  - id: never
    description: Matches nothing in these tests
    policy: consent
    severity: low
    when: type = 'message' AND body = 'never sent by these tests'
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


def test_api_start_list_show_run(
    client: TestClient, workspace: Workspace, clock: FixedClock
) -> None:
    case_id = add_account_and_case(workspace, "AC1", email_="ops@one.example")
    analyst, viewer = bearer(workspace, "analyst"), bearer(workspace, "viewer")
    body = {"policy": POLICY, "case_id": case_id, "reason": "agreed on the call"}
    # Reading is not enough to start one.
    denied = client.post("/v1/accounts/AC1/probation", json=body, headers=viewer)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    started = client.post("/v1/accounts/AC1/probation", json=body, headers=analyst)
    assert started.status_code == 201, started.text
    pid = started.json()["id"]
    assert started.json()["started_by"] == "token:analyst"

    again = client.post("/v1/accounts/AC1/probation", json=body, headers=analyst)
    assert again.status_code == 409
    assert "is on probation" in again.json()["error"]["message"]
    no_goals = client.post(
        "/v1/accounts/AC1/probation", json={**body, "policy": "phishing"}, headers=analyst
    )
    assert no_goals.status_code == 400
    assert no_goals.json()["error"]["code"] == "invalid_input"

    clock.set(T0 + timedelta(days=2))
    ingest(workspace, email_traffic("AC1", T0 + timedelta(days=1), sends=200, bounces=1))
    listed = client.get("/v1/probations?status=active", headers=viewer).json()
    assert [p["id"] for p in listed["probations"]] == [pid]
    shown = client.get(f"/v1/probations/{pid}", headers=viewer).json()
    assert shown["now"]["outcome"] == "continue"
    assert {m["metric"]: m["rate"] for m in shown["now"]["measurements"]} == {
        "complaint_rate": 0.0,
        "bounce_rate": 0.005,
    }
    assert client.get("/v1/probations/999", headers=viewer).status_code == 404

    clock.set(T0 + timedelta(days=15))
    ran = client.post("/v1/probations/run", headers=analyst)
    assert ran.status_code == 200
    [result] = ran.json()["results"]
    assert (result["probation_id"], result["outcome"]) == (pid, "graduated")
    assert client.get(f"/v1/probations/{pid}", headers=viewer).json()["status"] == "graduated"


def test_cli_start_list_show_run(workspace: Workspace, cli_env: dict[str, str]) -> None:
    # The CLI runs on the system clock: the probation starts now and is still running.
    case_id = add_account_and_case(workspace, "AC2", email_="ops@two.example")
    runner = CliRunner()
    started = runner.invoke(
        cli,
        ["probation", "start", "AC2", "--policy", "email-bounce-rate", "--case", str(case_id),
         "--reason", "agreed", "--as", "ana", "--days", "21"],
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    assert "goals bounce_rate < 2.00 %" in started.output
    listed = runner.invoke(cli, ["probation", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert '"account":"AC2"' in listed.output
    shown = runner.invoke(cli, ["probation", "show", "1"])
    assert shown.exit_code == 0, shown.output
    assert "bounce_rate: - (0 of 0), goal below 2.00 %: too little traffic" in shown.output
    ran = runner.invoke(cli, ["probation", "run"])
    assert ran.exit_code == 0, ran.output
    assert "probation 1 AC2: continuing" in ran.output
    assert "1 measured, 0 graduated, 0 escalated" in ran.output

    bad = runner.invoke(
        cli,
        ["probation", "start", "AC2", "--policy", "nope", "--case", str(case_id),
         "--reason", "r", "--as", "ana"],
    )  # fmt: skip
    assert bad.exit_code != 0
    assert "no policy 'nope'" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
