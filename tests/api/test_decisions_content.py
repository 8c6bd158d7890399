"""The content models' scores in the decision API: the same as streaming and the backtest read,
and the playbook's content rules answer in shadow (no effect, no case)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from fastapi.testclient import TestClient

from abusedesk.api.app import create_app
from abusedesk.cases.services import list_cases
from abusedesk.content.scorer import shipped_scorer
from abusedesk.detection.backtest import build_rows
from abusedesk.detection.engine import DetectionEngine, default_pack_path
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import Event
from abusedesk.workspace import Workspace

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LURE = "USPS: your parcel {c} is held, pay the £1.99 fee within 24h: https://usps-fee{d}.com/p/{c}"


def lure_events() -> list[Event]:
    """One smishing lure from three accounts, eight messages each."""
    events = []
    for i in range(24):
        data = {
            "message_id": f"m{i}",
            "channel": "sms",
            "direction": "outbound",
            "from": f"+1555010{i % 6:04d}",
            "to": f"+1555020{i:04d}",
            "body": LURE.format(c=f"RX{4000 + i}", d=i % 3),
        }
        events.append(
            Event(f"e{i:02d}", "message", T0 + timedelta(minutes=i), f"ring{i % 3}", data)
        )
    return events


def signups() -> list[Event]:
    """The three accounts, signed up an hour before: the content rules read young accounts."""
    return [
        Event(f"s{i}", "account", T0 - timedelta(hours=1), f"ring{i}", {"action": "signup"})
        for i in range(3)
    ]


def test_streaming_decision_api_and_backtest_read_the_same_scores(
    workspace: Workspace, token: str
) -> None:
    events = lure_events()
    pack = CompiledPack.load(default_pack_path())
    engine = DetectionEngine(pack)
    for signup in signups():
        engine.evaluate(signup)
    streamed = [engine.evaluate(e).row["spam_score"] for e in events]
    table = build_rows(events, shipped_scorer())
    backtested = table.column("spam_score").to_pylist()
    assert streamed == backtested
    assert all(s is not None and s >= 0.9 for s in streamed)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(workspace, engine=DetectionEngine(pack))) as client:
        answers = []
        for e in [*signups(), *events]:
            body = {"id": e.id, "type": e.type, "ts": e.ts.isoformat(), "account_id": e.account_id}
            body.update(e.data)
            answers.append(
                client.post("/v1/decisions", content=orjson.dumps(body), headers=headers).json()
            )
    answers = answers[len(signups()) :]
    assert [a["features"]["spam_score"] for a in answers] == streamed
    shadow = [m for a in answers for m in a["matched"] if m["rule"] == "content-model-spam"]
    assert shadow
    assert all(m["mode"] == "shadow" for m in shadow)
    assert not [c for c in list_cases(workspace.store) if "content-model-spam" in c.rules]
