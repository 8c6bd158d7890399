"""The investigation over HTTP and from the shell: masked by default, reveals audited, pages."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from abusedesk.api.app import create_app
from abusedesk.auth.tokens import do_create_token
from abusedesk.auth.users import do_create_user
from abusedesk.cases.lifecycle import do_open_case
from abusedesk.cases.read import show_case
from abusedesk.cli.main import app as cli
from abusedesk.investigate.account import Limits, account_360
from abusedesk.storage.models import AuditEntry
from abusedesk.workspace import Workspace

from .conftest import SENDER, A, B, C

runner = CliRunner()


@pytest.fixture
def client(world: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(world)) as c:
        yield c


def _token(ws: Workspace, username: str, role: str) -> dict[str, str]:
    do_create_user(ws.store, ws.clock, username=username, role=role, actor="test")
    token, _ = do_create_token(ws.store, ws.clock, name="t", user=username, actor="test")
    return {"Authorization": f"Bearer {token}"}


def _reveals(ws: Workspace) -> list[tuple[str, str, str | None]]:
    with ws.store.sessions() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == "pii.reveal"))
        return [(r.actor, r.object_id, r.reason) for r in rows.scalars()]


def test_account_360_is_masked_until_revealed(world: Workspace, client: TestClient) -> None:
    analyst = _token(world, "ann", "analyst")
    masked = client.get(f"/v1/accounts/{A}", headers=analyst).json()
    assert masked["account"]["company"] == "A Ltd"
    first = masked["messages"][0]
    assert first["body"].startswith("[body masked:")
    assert "•" in first["to"]
    assert _reveals(world) == []
    shown = client.get(
        f"/v1/accounts/{A}", headers=analyst, params={"reveal": "true", "reason": "case 7"}
    ).json()
    assert shown["messages"][0]["body"].startswith("Your parcel")
    assert _reveals(world) == [("user:ann", A, "case 7")]


def test_a_viewer_may_look_but_not_reveal(world: Workspace, client: TestClient) -> None:
    viewer = _token(world, "vic", "viewer")
    assert client.get(f"/v1/accounts/{A}", headers=viewer).status_code == 200
    refused = client.get(
        f"/v1/accounts/{A}", headers=viewer, params={"reveal": "true", "reason": "x"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    no_reason = client.get(f"/v1/accounts/{A}", headers=_token(world, "al", "lead"),
                           params={"reveal": "true"})  # fmt: skip
    assert no_reason.json()["error"]["code"] == "invalid_input"
    assert _reveals(world) == []


def test_linked_accounts_page_with_a_cursor(world: Workspace, client: TestClient) -> None:
    viewer = _token(world, "vic", "viewer")
    first = client.get(f"/v1/accounts/{A}/linked", headers=viewer, params={"limit": 1}).json()
    assert [r["account_id"] for r in first["items"]] == [B]
    second = client.get(
        f"/v1/accounts/{A}/linked",
        headers=viewer,
        params={"limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert [r["account_id"] for r in second["items"]] == [C]
    assert second["next_cursor"] is None
    assert first["too_common"][0]["value"] == "203.0.113.9"
    bad = client.get(f"/v1/accounts/{A}/linked", headers=viewer, params={"cursor": "%%%"})
    assert bad.status_code == 400


def test_entity_pivot_over_http_takes_a_url_as_the_value(
    world: Workspace, client: TestClient
) -> None:
    viewer = _token(world, "vic", "viewer")
    url = "http://parcel-fee.example/p/1"
    body = client.get(f"/v1/entities/url/{url}", headers=viewer).json()
    assert body["value"] == "parcel-fee.example"
    assert [a["account_id"] for a in body["items"]] == [A]
    assert body["messages"][0]["body"].startswith("[body masked:")
    number = client.get(f"/v1/entities/number/{SENDER}", headers=viewer).json()
    assert number["reports"][0]["report_id"] == "rep-1"
    unknown = client.get("/v1/entities/planet/mars", headers=viewer)
    assert unknown.status_code == 400


def test_users_over_http(world: Workspace, client: TestClient) -> None:
    admin = _token(world, "root", "admin")
    made = client.post("/v1/users", headers=admin, json={"username": "zoe", "role": "analyst"})
    assert made.status_code == 201
    token = client.post("/v1/users/zoe/tokens", headers=admin, json={"name": "cli"}).json()
    zoe = {"Authorization": f"Bearer {token['token']}"}
    assert client.get(f"/v1/accounts/{A}", headers=zoe).status_code == 200
    assert client.get("/v1/users", headers=zoe).status_code == 403
    listed = client.get("/v1/users", headers=admin, params={"limit": 1}).json()
    assert [u["username"] for u in listed["items"]] == ["root"]
    rest = client.get("/v1/users", headers=admin, params={"cursor": listed["next_cursor"]}).json()
    assert [u["username"] for u in rest["items"]] == ["zoe"]
    disabled = client.post("/v1/users/zoe/disable", headers=admin, json={"reason": "left"})
    assert disabled.json()["disabled"] is True
    assert client.get(f"/v1/accounts/{A}", headers=zoe).status_code == 401


@pytest.mark.usefixtures("cli_env")
def test_the_cli_masks_reveals_with_a_reason_and_audits(
    world: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ABUSEDESK_INVESTIGATE_COMMON_ENTITY", "2")
    shown = runner.invoke(cli, ["accounts", "show", A, "--json", "--linked"])
    assert shown.exit_code == 0, shown.output
    view = orjson.loads(shown.stdout)
    assert view["messages"][0]["body"].startswith("[body masked:")
    assert {r["account_id"] for r in view["linked"]["linked"]} == {B, C}
    table = runner.invoke(cli, ["accounts", "show", A])
    assert table.exit_code == 0, table.output
    assert "A Ltd" in table.stdout
    no_reason = runner.invoke(cli, ["accounts", "show", A, "--reveal"])
    assert no_reason.exit_code == 1
    assert "needs a reason" in no_reason.output
    revealed = runner.invoke(cli, ["entities", "show", "number", SENDER, "--json", "--reveal",
                                   "--reason", "ticket 9"])  # fmt: skip
    assert revealed.exit_code == 0, revealed.output
    assert orjson.loads(revealed.stdout)["messages"][0]["body"].startswith("Your parcel")
    assert _reveals(world) == [("cli", f"phone:{SENDER}", "ticket 9")]
    missing = runner.invoke(cli, ["accounts", "show", "ACnone"])
    assert missing.exit_code == 1
    assert "no account" in missing.output


@pytest.mark.usefixtures("cli_env")
def test_users_from_the_cli(world: Workspace) -> None:
    made = runner.invoke(cli, ["users", "create", "kim", "--role", "lead", "--name", "Kim L"])
    assert made.exit_code == 0, made.output
    token = runner.invoke(cli, ["tokens", "create", "--name", "k", "--user", "kim"])
    assert token.exit_code == 0, token.output
    listed = runner.invoke(cli, ["users", "list", "--json"])
    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["username"], r["role"], r["tokens"]) for r in rows] == [("kim", "lead", 1)]
    assert runner.invoke(cli, ["users", "disable", "kim", "--reason", "gone"]).exit_code == 0
    again = runner.invoke(cli, ["users", "disable", "kim"])
    assert again.exit_code == 1
    assert "disabled already" in again.output
    assert world.store is not None


def test_a_case_message_sample_is_read_from_the_lake(world: Workspace, client: TestClient) -> None:
    """`POST /v1/cases/{id}/evidence` with kind messages and no items freezes the account's
    newest messages as the lake holds them, bounded by the desk's sample size."""
    case_id, _ = do_open_case(
        world.store, world.clock, world.desk, account_id=A, policy="spam", actor="t", reason="r"
    )
    analyst = _token(world, "ann", "analyst")
    frozen = client.post(
        f"/v1/cases/{case_id}/evidence", headers=analyst, json={"kind": "messages", "note": "n"}
    )
    assert frozen.status_code == 201, frozen.text
    kept = frozen.json()["kept"]
    shown = show_case(world.store, case_id)
    sample = [e for e in shown["evidence"] if e["kind"] == "messages"]
    assert len(sample) == 1
    items = sample[0]["body"]["items"]
    assert sample[0]["body"]["source"] == "lake"
    assert 0 < len(items) == kept <= world.desk.message_sample
    # The same messages the account 360 samples, newest first.
    limits = Limits(days=world.settings.investigate_days, sample=world.desk.message_sample)
    view = account_360(world.store, world.account_lake(), A, limits)
    assert [item["id"] for item in items] == [m["id"] for m in view["messages"]]
    assert {item["account_id"] for item in items} == {A}
    times = [item["ts"] for item in items]
    assert times == sorted(times, reverse=True)
    metrics = client.post(
        f"/v1/cases/{case_id}/evidence", headers=analyst, json={"kind": "metrics"}
    )
    assert metrics.status_code == 400
