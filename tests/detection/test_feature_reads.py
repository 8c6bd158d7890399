"""An event reads only the features the rules that can match its type use: the read sets of a
small pack spelled out, the verdict's features following them, and, on the default playbook,
every signal's evidence still read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from abusedesk.detection.engine import DetectionEngine, default_pack_path, evidence
from abusedesk.detection.feature_reads import feature_reads
from abusedesk.detection.features import CompiledFeature, FeatureEngine, MemoryStore
from abusedesk.detection.rules.pack import CompiledPack, load_pack_text
from abusedesk.events.schema import EVENT_TYPES, Event

PACK = """
features:
  sends_1h: {count: message, by: [account_id], window: 1h}
  calls_1h: {count: call, by: [account_id], window: 1h}
  failed_24h: {count: delivery, where: "status = 'failed'", by: [account_id], window: 24h}
  deliveries_24h: {count: delivery, by: [account_id], window: 24h}
  failure_rate_24h: {ratio_of: [failed_24h, deliveries_24h]}
  stops_1h: {count: opt_out, by: [account_id], window: 1h}
  reports_7d: {count: report, by: [account_id], window: 7d}
  unused_7d: {count: message, by: [account_id], window: 7d}
rules:
  - id: busy-sender
    description: Many messages
    policy: volume
    severity: low
    when: type = 'message' AND sends_1h > 100
    verdict: review
  - id: failing-sender
    description: Most deliveries fail
    policy: quality
    severity: medium
    when: type = 'delivery' AND failure_rate_24h > 0.5
    verdict: review
  - id: busy-caller
    description: Calls and messages at once
    policy: volume
    severity: low
    when: type IN ('message', 'call') AND calls_1h > 10
    verdict: review
  - id: reported
    description: Reported accounts, whatever the event
    policy: reports
    severity: high
    when: reports_7d >= 3
    verdict: hold
  - id: stops-or-messages
    description: The type is not a top-level conjunct, so the rule admits every type
    policy: consent
    severity: low
    when: type = 'opt_out' OR stops_1h > 5
    verdict: review
"""

UNTYPED = frozenset({"reports_7d", "stops_1h"})


def pack() -> CompiledPack:
    return CompiledPack.from_analysis(load_pack_text(PACK, "reads.yaml"))


def test_each_type_reads_what_its_rules_use_with_the_parts_of_ratios() -> None:
    reads = feature_reads(pack())
    assert reads.other == UNTYPED
    assert reads.for_type("message") == UNTYPED | {"sends_1h", "calls_1h"}
    assert reads.for_type("call") == UNTYPED | {"calls_1h"}
    assert reads.for_type("delivery") == UNTYPED | {
        "failure_rate_24h",
        "failed_24h",
        "deliveries_24h",
    }
    for event_type in set(EVENT_TYPES) - {"message", "call", "delivery"}:
        assert reads.for_type(event_type) == UNTYPED, event_type
    assert reads.for_type("no-such-type") == UNTYPED
    assert all("unused_7d" not in names for names in reads.by_type.values())


def test_the_verdict_holds_the_features_read_for_its_type() -> None:
    engine = DetectionEngine(pack())
    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    data = {"status": "failed", "recipient": "+15550001"}
    delivery = engine.evaluate(Event("d1", "delivery", at, "AC1", data))
    assert delivery.features == {
        "failed_24h": 1,
        "deliveries_24h": 1,
        "failure_rate_24h": 1.0,
        "stops_1h": 0,
        "reports_7d": 0,
    }
    assert delivery.to_api()["features"] == delivery.features
    assert [r.id for r in delivery.matched] == ["failing-sender"]
    # The evidence a signal keeps is what the rule read, ratio parts included.
    assert evidence(engine, delivery.matched[0], delivery.row) == {
        "type": "delivery",
        "failure_rate_24h": 1.0,
        "failed_24h": 1,
        "deliveries_24h": 1,
    }


def test_on_the_default_playbook_every_evidence_value_is_read() -> None:
    engine = DetectionEngine.load(default_pack_path())
    features = engine.pack.features
    for rule in engine.pack.rules:
        shown = {n for n in engine.evidence_names[rule.spec.id] if n in features}
        types = engine.pack.rule_types[rule.spec.id] or EVENT_TYPES
        for event_type in types:
            assert shown <= engine.reads.for_type(event_type), (rule.spec.id, event_type)
            assert engine.features.reads_for(event_type) == engine.reads.for_type(event_type)
    # The point of it: no type reads close to all of the playbook's features.
    assert max(len(names) for names in engine.reads.by_type.values()) < len(features) / 2


SHARED = """
features:
  out_1h: {count: message, where: "direction = 'outbound'", by: [account_id], window: 1h}
  out_24h: {count: message, where: "direction = 'outbound'", by: [account_id], window: 24h}
  spaced_24h: {count: message, where: "body = 'a  b'", by: [account_id], window: 24h}
  single_24h: {count: message, where: "body = 'a b'", by: [account_id], window: 24h}
  all_24h: {count: message, by: [account_id], window: 24h}
rules:
  - id: busy
    description: Many messages
    policy: volume
    severity: low
    when: type = 'message' AND out_1h + out_24h + spaced_24h + single_24h + all_24h > 100
    verdict: review
"""


def test_equal_filter_texts_run_once_an_event() -> None:
    """Features with the same `where` text share one filter, which the fast path runs once an
    event; different texts stay apart, even when they differ only in spacing inside a string;
    a feature without `where` runs no filter at all."""
    engine = DetectionEngine(CompiledPack.from_analysis(load_pack_text(SHARED, "shared.yaml")))
    filters = {f.spec.name: f for f in engine.features.features}
    assert filters["out_1h"].where_fn is filters["out_24h"].where_fn
    assert filters["spaced_24h"].where_fn is not filters["single_24h"].where_fn
    assert filters["all_24h"].where_fn is None
    outbound = filters["out_1h"].where_fn
    assert outbound is not None
    calls: list[Mapping[str, Any]] = []

    def counting(row: Mapping[str, Any]) -> Any:
        calls.append(row)
        return outbound(row)

    shared = [
        CompiledFeature(f.spec, counting, None) if f.where_fn is outbound else f
        for f in engine.features.features
    ]
    features = FeatureEngine(shared, MemoryStore())
    row = {
        "id": "e1",
        "type": "message",
        "ts": datetime(2026, 3, 1, 12, tzinfo=UTC),
        "account_id": "AC1",
        "direction": "outbound",
        "body": "a  b",
    }
    values = features.observe(row)
    assert len(calls) == 1
    assert values == {"out_1h": 1, "out_24h": 1, "spaced_24h": 1, "single_24h": 0, "all_24h": 1}
