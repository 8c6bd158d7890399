"""Training labels from closed cases: the message events behind confirmed and false-positive
cases, read from the store (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from abusedesk.cases.labels import message_labels
from abusedesk.cases.services import do_close_case, list_cases
from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import Event
from abusedesk.workspace import Workspace

PACK = """
rules:
  - id: prize-words
    description: prize wording
    policy: spam
    severity: high
    when: type = 'message' AND body ILIKE '%prize%'
    verdict: review
    case: {queue: content, priority: P2}
"""


def test_closed_cases_label_their_message_events(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(PACK)
    engine = DetectionEngine(CompiledPack.load(tmp_path / "pack.yaml"))
    consumer = workspace.detection_consumer(engine)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    bodies = {"A1": "You won a prize, call now", "A2": "the prize-giving is at 6", "A3": "lunch?"}
    events = [
        Event(f"e-{account}", "message", t0 + timedelta(minutes=i), account,
              {"message_id": f"m{i}", "channel": "sms", "from": "+15005550006",
               "to": "+447700900123", "body": body})
        for i, (account, body) in enumerate(bodies.items())
    ]  # fmt: skip
    consumer.on_events(events)
    consumer.flush()
    cases = {c.account_id: c.case_id for c in list_cases(workspace.store)}
    assert set(cases) == {"A1", "A2"}
    do_close_case(workspace.store, workspace.clock, case_id=cases["A1"], resolution="violation_confirmed",
                  actor="analyst", reason="prize scam")  # fmt: skip
    assert message_labels(workspace.store) == {"e-A1": 1}  # open cases label nothing
    do_close_case(workspace.store, workspace.clock, case_id=cases["A2"], resolution="no_violation",
                  actor="analyst", reason="a school event")  # fmt: skip
    assert message_labels(workspace.store) == {"e-A1": 1, "e-A2": 0}
