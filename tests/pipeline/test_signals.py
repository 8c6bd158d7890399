"""Streaming detection through ingest: signals with their evidence, one case per account and
policy, repeats counted not duplicated, and re-running over the lake adds nothing twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import orjson
from sqlalchemy import select

from abusedesk.cases.services import list_cases
from abusedesk.detection.engine import DetectionEngine, Verdict
from abusedesk.detection.rules.pack import CompiledPack, RuleFailed, load_pack_text
from abusedesk.events.schema import Event
from abusedesk.pipeline.signals import DetectionConsumer
from abusedesk.storage.models import AuditEntry, CaseEvent, Signal
from abusedesk.workspace import Workspace

PACK = """
features:
  stops_1h: {count: opt_out, by: [account_id], window: 1h}
  sends_1h: {count: message, by: [account_id], window: 1h}
rules:
  - id: many-stops
    description: Many STOP replies within an hour
    policy: consent
    severity: high
    when: type = 'opt_out' AND stops_1h >= 3
    verdict: hold
    case: {queue: compliance, priority: P2}
  - id: busy-sender
    description: Sends a lot
    policy: volume
    severity: low
    mode: shadow
    when: type = 'message' AND sends_1h >= 2
    verdict: review
    case: {queue: general, priority: P4}
"""


def engine() -> DetectionEngine:
    analysis = load_pack_text(PACK, "test.yaml")
    return DetectionEngine(CompiledPack.from_analysis(analysis))


def stop(i: int, account: str, minute: int) -> dict[str, object]:
    return {
        "id": f"s{account}{i}",
        "type": "opt_out",
        "ts": f"2026-03-01T10:{minute:02d}:00Z",
        "account_id": account,
        "recipient": f"+1555000{i:04d}",
        "keyword": "STOP",
    }


def send(i: int, account: str, minute: int) -> dict[str, object]:
    return {
        "id": f"m{account}{i}",
        "type": "message",
        "ts": f"2026-03-01T10:{minute:02d}:00Z",
        "account_id": account,
        "message_id": f"SM{i}",
        "channel": "sms",
        "from": "+15005550006",
        "to": f"+1555000{i:04d}",
    }


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def test_a_live_rule_opens_one_case_and_repeats_are_hits(
    workspace: Workspace, tmp_path: Path
) -> None:
    rows = [stop(i, "A", i) for i in range(6)] + [stop(i, "B", i) for i in range(2)]
    rows += [send(i, "A", 30 + i) for i in range(3)]
    consumer = DetectionConsumer(engine(), workspace.store, workspace.clock)
    workspace.ingestor(consumers=[consumer]).ingest_paths([write(tmp_path / "e.jsonl", rows)])

    cases = list_cases(workspace.store)
    assert [(c.account_id, c.policy, c.queue, c.priority, c.rules) for c in cases] == [
        ("A", "consent", "compliance", "P2", ["many-stops"])
    ]
    case = cases[0]
    assert case.first_signal_at.isoformat() == "2026-03-01T10:02:00+00:00"
    with workspace.store.sessions() as session:
        signals = session.execute(select(Signal).order_by(Signal.id)).scalars().all()
        timeline = (
            session.execute(
                select(CaseEvent.kind)
                .where(CaseEvent.case_id == case.case_id)
                .order_by(CaseEvent.id)
            )
            .scalars()
            .all()
        )
        audit = session.execute(
            select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.object_type == "case")
        ).all()
    live = [s for s in signals if s.mode == "live"]
    assert len(live) == 1
    assert live[0].hits == 4
    assert live[0].features["stops_1h"] == 3
    shadow = [s for s in signals if s.mode == "shadow"]
    assert [s.rule_id for s in shadow] == ["busy-sender"]
    assert shadow[0].case_id is None
    assert timeline == ["opened", "signal"]
    assert audit == [("case.open", "rule:many-stops")]


def test_detect_over_the_lake_adds_nothing_twice(workspace: Workspace, tmp_path: Path) -> None:
    from abusedesk.lake.replay import lake_events

    rows = [stop(i, "A", i) for i in range(4)]
    first = DetectionConsumer(engine(), workspace.store, workspace.clock)
    workspace.ingestor(consumers=[first]).ingest_paths([write(tmp_path / "e.jsonl", rows)])
    again = DetectionConsumer(engine(), workspace.store, workspace.clock)
    with workspace.lake_reader() as reader:
        events = list(lake_events(reader))
    assert [e.id for e in events] == ["sA0", "sA1", "sA2", "sA3"]
    again.on_events(events)
    assert again.stats.matches == 2
    assert again.stats.signals == 0
    assert again.stats.cases_opened == 0
    assert len(list_cases(workspace.store)) == 1


def test_a_later_signal_attaches_to_the_open_case(workspace: Workspace, tmp_path: Path) -> None:
    consumer = DetectionConsumer(engine(), workspace.store, workspace.clock, cooldown_s=60)
    ingest = workspace.ingestor(consumers=[consumer])
    ingest.ingest_paths([write(tmp_path / "a.jsonl", [stop(i, "A", i * 2) for i in range(3)])])
    ingest.ingest_paths(
        [write(tmp_path / "b.jsonl", [stop(i, "A", 10 + i * 2) for i in range(3, 6)])]
    )
    cases = list_cases(workspace.store)
    assert len(cases) == 1
    assert cases[0].signal_count >= 2
    assert cases[0].last_signal_at.isoformat() == "2026-03-01T10:20:00+00:00"


def test_verdict_for_the_decision_api() -> None:
    from abusedesk.events.schema import validate_event

    detector = engine()
    verdicts = [detector.evaluate(validate_event(stop(i, "A", i))) for i in range(3)]
    assert [v.decision for v in verdicts] == ["allow", "allow", "hold"]
    body = verdicts[-1].to_api()
    assert body["decision"] == "hold"
    assert body["score"] == 0.7
    assert body["matched"] == [
        {
            "rule": "many-stops",
            "policy": "consent",
            "severity": "high",
            "verdict": "hold",
            "mode": "live",
        }
    ]
    assert body["features"]["stops_1h"] == 3


class _CountingEngine(DetectionEngine):
    """The real engine, noting how many events each evaluate_many call gets."""

    calls: list[int]

    def evaluate_many(self, events: Sequence[Event]) -> list[Verdict | RuleFailed]:
        self.calls.append(len(events))
        return super().evaluate_many(events)


def test_a_batch_goes_to_the_engine_in_slices_with_the_verdicts_of_one_by_one(
    workspace: Workspace,
) -> None:
    # A batch's verdicts (each with its row) are freed a slice at a time: freeing 10,000 at
    # once held the GIL tens of ms, a stall for the API's decisions in the same process.
    from abusedesk.events.schema import validate_event
    from abusedesk.pipeline.signals import DETECT_SLICE

    events = [validate_event(stop(i, f"A{i % 7}", i % 60)) for i in range(DETECT_SLICE * 2 + 7)]
    counting = _CountingEngine(CompiledPack.from_analysis(load_pack_text(PACK, "test.yaml")))
    counting.calls = []
    consumer = DetectionConsumer(counting, workspace.store, workspace.clock)
    consumer.on_events(events)
    assert counting.calls == [DETECT_SLICE, DETECT_SLICE, 7]
    one_by_one = engine()
    verdicts = [one_by_one.evaluate(event) for event in events]
    assert consumer.stats.decisions == Counter(v.decision for v in verdicts)
    assert consumer.stats.decisions["hold"] > 0
    assert consumer.stats.matches == sum(len(v.matched) for v in verdicts)
