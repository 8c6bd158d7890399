"""POST /v1/events: the same validation, quarantine and idempotency as file ingest."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from abusedesk.errors import FormatError
from abusedesk.workspace import Workspace


def ev(i: int, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": f"h{i}",
        "type": "opt_out",
        "ts": "2026-03-01T12:00:00Z",
        "account_id": "AC1",
        "recipient": f"+1555000{i:04d}",
        "keyword": "STOP",
    }
    body.update(extra)
    return body


def ndjson(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_ndjson_answers_with_counts_and_rejections_and_keeps_good_lines(
    api_client: TestClient, token: str, workspace: Workspace
) -> None:
    body = ndjson(
        orjson.dumps(ev(1)), b"{broken", orjson.dumps(ev(2, ts="noon")), orjson.dumps(ev(3))
    )
    response = api_client.post("/v1/events", content=body, headers=auth(token))
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["rejected"], data["duplicates"]) == (2, 2, 0)
    assert [r["line"] for r in data["rejections"]] == [2, 3]
    assert data["rejections"][0]["reason"].startswith("not valid JSON")
    assert data["rejections"][1] == {
        "line": 3,
        "reason": "field 'ts' is not an RFC 3339 timestamp: 'noon'",
    }
    again = api_client.post("/v1/events", content=body, headers=auth(token)).json()
    assert (again["accepted"], again["rejected"], again["duplicates"]) == (0, 2, 2)
    assert [r["line"] for r in again["rejections"]] == [2, 3]
    with workspace.lake_reader() as reader:
        assert reader.con.execute("SELECT count(*) FROM opt_outs").fetchone() == (2,)


def test_json_array_answers_with_counts_and_rejections(api_client: TestClient, token: str) -> None:
    body = orjson.dumps([ev(1), ev(1), {"id": "z"}, "text"])
    data = api_client.post("/v1/events", content=body, headers=auth(token)).json()
    assert (data["accepted"], data["duplicates"], data["rejected"]) == (1, 1, 2)
    assert data["rejections"] == [
        {"item": 3, "reason": "missing required field 'type'"},
        {"item": 4, "reason": "an event must be a JSON object, got string"},
    ]


def test_the_answer_lists_only_the_first_rejections(workspace: Workspace) -> None:
    from abusedesk.api.app import create_app
    from abusedesk.auth.tokens import do_create_token

    small = Workspace(workspace.settings.model_copy(update={"api_max_rejections_shown": 3}))
    value, _ = do_create_token(small.store, small.clock, name="s", role="ingest", actor="test")
    body = ndjson(orjson.dumps(ev(1)), *(b"{bad" for _ in range(50)), orjson.dumps(ev(2)))
    try:
        with TestClient(create_app(small)) as client:
            data = client.post("/v1/events", content=body, headers=auth(value)).json()
    finally:
        small.close()
    assert (data["accepted"], data["rejected"]) == (2, 50)
    assert [r["line"] for r in data["rejections"]] == [2, 3, 4]


def test_a_broken_array_is_one_clear_error(api_client: TestClient, token: str) -> None:
    response = api_client.post("/v1/events", content=b'[{"id": 1},', headers=auth(token))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_format"
    assert error["message"].startswith("body is not a valid JSON array")


def test_no_token_wrong_token_and_wrong_role_are_refused(
    api_client: TestClient, viewer_token: str
) -> None:
    body = orjson.dumps(ev(1))
    missing = api_client.post("/v1/events", content=body)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = api_client.post("/v1/events", content=body, headers=auth("adk_not-a-real-token"))
    assert wrong.status_code == 401
    forbidden = api_client.post("/v1/events", content=body, headers=auth(viewer_token))
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == {
        "code": "forbidden",
        "message": "role 'viewer' may not do this (needs events:write)",
    }


def test_oversize_body_is_refused(workspace: Workspace, token: str) -> None:
    from abusedesk.api.app import create_app
    from abusedesk.settings import Settings

    settings = Settings(**{**workspace.settings.model_dump(), "api_max_body_bytes": 2048})
    with Workspace(settings) as small, TestClient(create_app(small)) as client:
        response = client.post("/v1/events", content=b" " * 4096, headers=auth(token))
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "limit_exceeded",
        "message": "request body over 2048 bytes (ABUSEDESK_API_MAX_BODY_BYTES)",
    }


def test_the_decision_body_limit_names_no_setting_it_does_not_follow(
    api_client: TestClient, token: str
) -> None:
    """The decision route's 1 MiB limit is fixed: ABUSEDESK_API_MAX_BODY_BYTES does not govern
    it, so its error must not send anyone to change that setting."""
    response = api_client.post("/v1/decisions", content=b" " * 1_048_577, headers=auth(token))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "limit_exceeded"
    assert "over 1048576 bytes" in error["message"]
    assert "ABUSEDESK_" not in error["message"]


def test_a_post_with_no_event_writes_nothing(
    api_client: TestClient, token: str, workspace: Workspace
) -> None:
    from sqlalchemy import func, select

    from abusedesk.storage.models import AuditEntry, IngestRun

    for body in (b"[]", b"", b"\n\n  \n", b"  [ ]  "):
        response = api_client.post("/v1/events", content=body, headers=auth(token))
        assert response.status_code == 200, body
        assert response.json() == {
            "run_id": None,
            "accepted": 0,
            "duplicates": 0,
            "rejected": 0,
            "rejections": [],
        }
    with workspace.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestRun)) == 0
        ingests = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ingest")
        assert session.scalar(ingests) == 0


def test_a_post_over_the_item_limit_is_refused_whole(workspace: Workspace) -> None:
    from abusedesk.api.app import create_app
    from abusedesk.auth.tokens import do_create_token

    small = Workspace(workspace.settings.model_copy(update={"api_max_events": 3}))
    value, _ = do_create_token(small.store, small.clock, name="s", role="ingest", actor="test")
    try:
        with TestClient(create_app(small)) as client:
            three = ndjson(*(orjson.dumps(ev(i)) for i in range(3))) + b"\n\n"
            assert (
                client.post("/v1/events", content=three, headers=auth(value)).json()["accepted"]
                == 3
            )
            four = [ev(i) for i in range(10, 14)]
            for body in (orjson.dumps(four), ndjson(*(orjson.dumps(e) for e in four))):
                response = client.post("/v1/events", content=body, headers=auth(value))
                assert response.status_code == 413
                error = response.json()["error"]
                assert error["code"] == "limit_exceeded"
                assert "ABUSEDESK_API_MAX_EVENTS" in error["message"]
    finally:
        small.close()
    with workspace.lake_reader() as reader:
        assert reader.con.execute("SELECT count(*) FROM opt_outs").fetchone() == (3,)


def test_an_ndjson_body_is_counted_in_slices_as_a_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit counts the body a slice at a time (a short hold of the GIL, for the API's
    # decisions); slices end after a newline, so the count is that of the whole body.
    from abusedesk.api import events

    lines = [orjson.dumps(ev(i)) for i in range(40)]
    bodies = [
        ndjson(*lines),
        b"\n".join(lines),  # no final newline
        b"\r\n".join(lines) + b"\r\n\r\n",
        b"\n  \n".join(lines) + b"\n\t\n",  # blank lines count for nothing
        b"\n" * 300,
        b"",
    ]
    monkeypatch.setattr(events, "_SLICE_BYTES", 64)
    for body in bodies:
        whole = sum(1 for line in body.splitlines() if line.strip())
        assert events._count_lines(body) == whole


def test_json_array_items_are_parsed_one_by_one_as_the_whole_body() -> None:
    from abusedesk.api.events import _array_items
    from abusedesk.events import jsontext

    body = orjson.dumps([ev(1), ev(2, unicode="h\u00e9\U0001f600"), [1, {"a": None}], "x", 2.5])
    assert _array_items(body) == jsontext.loads(body)
    # An item with an integer beyond 64 bits keeps it exact, as the whole body did.
    big = b'[{"id": "b", "n": 123456789012345678901234567890}, {"id": "c", "m": -1.5e300}]'
    assert _array_items(big) == jsontext.loads(big)
    assert _array_items(big)[0]["n"] == 123456789012345678901234567890


def test_a_bad_array_is_refused_in_orjsons_words_over_the_whole_body() -> None:
    from abusedesk.api.events import _array_items

    # The last two are JSON msgspec reads and orjson refuses: orjson stays the judge.
    for body in (b"[1, 2,]", b"[1] [2]", b'[{"a": "\\ud800"}]', b'["\xff"]'):
        with pytest.raises(FormatError) as refused:
            _array_items(body)
        with pytest.raises(orjson.JSONDecodeError) as whole:
            orjson.loads(body)
        assert refused.value.message == f"body is not a valid JSON array: {whole.value}"
