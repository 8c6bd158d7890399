"""ABUSEDESK_STATE_URL=redis://… gives the same detection as in-process state: the default
playbook over the same simulated events, every verdict and every feature value compared, with
each event reading only the features of its type (reads move window heads, so both stores must
follow the same read sets). Needs the Redis server on 127.0.0.1:6379; it fails (never skips)
when Redis is missing."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest
from redis import Redis

from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.features.redis_store import RedisStore
from abusedesk.events.schema import validate_event
from abusedesk.settings import Settings
from abusedesk.sim.generator import generate
from abusedesk.workspace import Workspace

pytestmark = pytest.mark.redis


def test_redis_and_memory_state_give_the_same_verdicts(tmp_path: Path) -> None:
    generate(tmp_path, days=1, seed=5, scale=0.15)
    with (tmp_path / "events.jsonl").open("rb") as fh:
        events = [validate_event(orjson.loads(line)) for line in fh][:12_000]
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
