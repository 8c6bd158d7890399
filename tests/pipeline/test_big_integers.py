"""Integers beyond 64 bits in fields the contract does not know are kept exact, never turned
into floats: in the lake's JSON text (attrs, object fields) and when the lake is read back."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from abusedesk.api.app import create_app
from abusedesk.auth.tokens import do_create_token
from abusedesk.events import jsontext
from abusedesk.lake.replay import lake_events
from abusedesk.workspace import Workspace

BIG = 123456789012345678901234567890
HUGE_NEGATIVE = -(2**64) - 1


def line(event_id: str) -> bytes:
    # Written by hand: orjson would refuse the integers, and a float must not sneak in.
    return (
        f'{{"id":"{event_id}","type":"message","ts":"2026-03-01T12:00:00Z","account_id":"AC1",'
        f'"message_id":"SM-{event_id}","channel":"sms","from":"+15005550006","to":"+15005550007",'
        f'"body":"hi","headers":{{"X-Seq":{BIG}}},'
        f'"carrier_ref":{BIG},"nested":{{"list":[{HUGE_NEGATIVE},1.5,{2**63}]}}}}'
    ).encode()


def stored(ws: Workspace, event_id: str) -> tuple[str, str]:
    with ws.lake_reader() as reader:
        row = reader.con.execute(
            "SELECT attrs, headers FROM messages WHERE id = ?", [event_id]
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def expect_exact(ws: Workspace, event_id: str) -> None:
    attrs, headers = stored(ws, event_id)
    assert jsontext.loads(attrs) == {
        "carrier_ref": BIG,
        "nested": {"list": [HUGE_NEGATIVE, 1.5, 2**63]},
    }
    assert str(BIG) in attrs
    assert "e+" not in attrs
    assert jsontext.loads(headers) == {"X-Seq": BIG}
    with ws.lake_reader() as reader:
        (event,) = [e for e in lake_events(reader) if e.id == event_id]
    assert event.attrs is not None
    assert event.attrs["carrier_ref"] == BIG
    assert type(event.attrs["carrier_ref"]) is int


def test_a_file_keeps_big_integers(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(line("f1") + b"\n")
    summary = workspace.ingestor().ingest_paths([path])
    assert (summary.accepted, summary.quarantined) == (1, 0)
    expect_exact(workspace, "f1")


def test_the_api_keeps_big_integers(workspace: Workspace) -> None:
    value, _ = do_create_token(workspace.store, workspace.clock, name="s", role="ingest", actor="t")
    headers = {"Authorization": f"Bearer {value}"}
    with TestClient(create_app(workspace)) as client:
        ndjson = client.post("/v1/events", content=line("a1") + b"\n", headers=headers)
        array = client.post("/v1/events", content=b"[" + line("a2") + b"]", headers=headers)
    assert ndjson.json()["accepted"] == 1, ndjson.text
    assert array.json()["accepted"] == 1, array.text
    expect_exact(workspace, "a1")
    expect_exact(workspace, "a2")


def test_jsontext_matches_orjson_where_orjson_can() -> None:
    value = {"b": [1, 2.5, None, "x" * 30, 2**63 - 1], "a": {"n": -(2**63)}}
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    assert jsontext.dumps(value, sort_keys=True) == text  # content digests are unchanged
    assert jsontext.loads(text) == orjson.loads(text)
    assert (
        jsontext.dumps({"b": 2**64, "a": 1}, sort_keys=True) == b'{"a":1,"b":18446744073709551616}'
    )
