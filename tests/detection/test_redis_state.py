"""ABUSEDESK_STATE_URL=redis://… gives the same detection as in-process state: the default
playbook over the same simulated events, every verdict and every feature value compared, with
each event reading only the features of its type (reads move window heads, so both stores must
follow the same read sets), one event at a time and in batches (evaluate_many: one round trip
per batch). Needs the Redis server on 127.0.0.1:6379; it fails (never skips) when Redis is
missing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis import Redis

from abusedesk.detection.engine import DetectionEngine, Verdict
from abusedesk.detection.features.redis_store import RedisStore
from abusedesk.detection.rules.pack import CompiledPack, load_pack_text
from abusedesk.events.schema import Event, validate_event
from abusedesk.settings import Settings
from abusedesk.sim.generator import generate
from abusedesk.workspace import Workspace

pytestmark = pytest.mark.redis


class CountingRedis(Redis):
    """A real client that counts the state scripts Redis ran for it: each is one round trip
    (a first call that finds the script not yet loaded is retried after SCRIPT LOAD; only the
    run that succeeds counts)."""

    commands = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        result = super().execute_command(*args, **options)
        if args and args[0] == "EVALSHA":
            self.commands += 1
        return result


@pytest.fixture
def redis_prefix() -> Iterator[tuple[CountingRedis, str]]:
    client = CountingRedis.from_url("redis://127.0.0.1:6379/0")
    client.ping()  # no server: fail here, loudly
    prefix = f"adk-test-{uuid.uuid4().hex[:8]}"
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def sim_events(tmp_path_factory: pytest.TempPathFactory) -> list[Event]:
    folder = tmp_path_factory.mktemp("sim")
    generate(folder, days=1, seed=5, scale=0.15)
    with (folder / "events.jsonl").open("rb") as fh:
        return [validate_event(orjson.loads(line)) for line in fh][:12_000]


def same(a: Verdict, b: Verdict) -> bool:
    return (a.event.id, a.decision, [r.id for r in a.matched], a.features) == (
        b.event.id,
        b.decision,
        [r.id for r in b.matched],
        b.features,
    )


def test_batches_in_redis_give_the_verdicts_of_one_by_one_in_memory(
    sim_events: list[Event], redis_prefix: tuple[CountingRedis, str]
) -> None:
    """evaluate_many over Redis, in batches of uneven sizes (split inside the store too), equals
    evaluate() event by event in memory: verdicts, features, and related-account matches, which
    depend on flags set by matches earlier in the same batch."""
    client, prefix = redis_prefix
    memory = DetectionEngine.load()
    shared = DetectionEngine.load(store=RedisStore(client, prefix=prefix, max_batch=300))
    sizes = [1, 2, 7, 64, 500, 1000, 33]
    start = 0
    batches = 0
    calls_before = client.commands
    related = 0
    while start < len(sim_events):
        size = sizes[batches % len(sizes)]
        batch = sim_events[start : start + size]
        expected = [memory.evaluate(event) for event in batch]
        got = shared.evaluate_many(batch)
        for a, b in zip(expected, got, strict=True):
            assert isinstance(b, Verdict)
            assert same(a, b), a.event.id
            related += any(r.id == "related-account-of-flagged" for r in a.matched)
        start += size
        batches += 1
    # One EVALSHA per batch, plus one per 300 events of the large ones (the store's split).
    split = sum(
        -(-len(sim_events[i : i + s]) // 300) - 1 for i, s in _spans(sizes, len(sim_events))
    )
    assert client.commands - calls_before == batches + split
    assert related > 0  # links set inside a batch were exercised


def _spans(sizes: list[int], total: int) -> Iterator[tuple[int, int]]:
    start, i = 0, 0
    while start < total:
        yield start, sizes[i % len(sizes)]
        start += sizes[i % len(sizes)]
        i += 1


LINKED_FEATURE_PACK = """
features:
  linked_stops_1h: {count: opt_out, by: [account_id], window: 1h, where: "linked_flagged_accounts >= 1"}
rules:
  - id: linked-sender
    description: opt-outs at an account linked to a flagged one
    policy: fraud
    severity: low
    when: type = 'opt_out' AND linked_stops_1h >= 1
    verdict: review
"""


def test_a_feature_that_reads_link_state_keeps_one_round_trip_per_event(
    redis_prefix: tuple[CountingRedis, str],
) -> None:
    """Link state changes with each match, so a batch cannot read such a feature before it
    matches: the engine then goes event by event (correct first, batched where exact)."""
    client, prefix = redis_prefix
    pack = CompiledPack.from_analysis(load_pack_text(LINKED_FEATURE_PACK, "t.yaml"))
    engine = DetectionEngine(pack, RedisStore(client, prefix=prefix))
    events = [
        validate_event(
            {
                "id": f"m{i}",
                "type": "opt_out",
                "ts": f"2026-03-01T10:0{i}:00Z",
                "account_id": "AC1",
                "recipient": f"+1555000{i:04d}",
            }
        )
        for i in range(5)
    ]
    before = client.commands
    verdicts = engine.evaluate_many(events)
    assert all(isinstance(v, Verdict) for v in verdicts)
    assert client.commands - before == len(events)


def test_redis_and_memory_state_give_the_same_verdicts(sim_events: list[Event]) -> None:
    events = sim_events
    client = Redis.from_url("redis://127.0.0.1:6379/0")
    client.ping()  # no server: fail here, loudly
    prefix = f"adk-test-{uuid.uuid4().hex[:8]}"
    try:
        memory = DetectionEngine.load()
        shared = DetectionEngine.load(store=RedisStore(client, prefix=prefix))
        matched = 0
        for event in events:
            a, b = memory.evaluate(event), shared.evaluate(event)
            assert (a.decision, [r.id for r in a.matched]) == (
                b.decision,
                [r.id for r in b.matched],
            )
            assert a.features == b.features, event.id
            assert a.features.keys() == memory.reads.for_type(event.type), event.id
            matched += bool(a.matched)
        assert matched > 100  # the comparison covers real matches, not only quiet traffic
        assert memory.reads.for_type("message") < set(memory.pack.features)
    finally:
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def test_the_workspace_builds_a_redis_store_from_the_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, state_url="redis://127.0.0.1:6379/0")
    with Workspace(settings) as ws:
        assert isinstance(ws.feature_store(), RedisStore)
