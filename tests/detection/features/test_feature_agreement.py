"""The three implementations of the window semantics agree event by event.

- MemoryStore and RedisStore: identical values (floats bit for bit) on a disordered stream with
  late and too-late events, through observe() and observe_many() alike, reading every feature
  or only the features of each event's type (reads move window heads, so both must follow the
  same read sets).
- FeatureEngine(MemoryStore) and feature_sql() in DuckDB: equal values on a (ts, id) ordered
  stream, floats within 1e-9 (SQL sums in its own order).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import redis
from featstream import READS_BY_TYPE, READS_OTHER, agreement_features, stream

from abusedesk.detection.features import FeatureEngine, FeatureStore, MemoryStore
from abusedesk.detection.features.backtest_sql import feature_sql
from abusedesk.detection.features.redis_store import RedisStore

N_EVENTS = 5000
READS = ["every-feature", "per-type"]


def engine(store: FeatureStore, reads: str, *, fast: bool = True) -> FeatureEngine:
    if reads == "every-feature":
        return FeatureEngine(agreement_features(), store, fast=fast)
    return FeatureEngine(
        agreement_features(),
        store,
        fast=fast,
        reads_by_type=READS_BY_TYPE,
        reads_other=READS_OTHER,
    )


@pytest.mark.redis
@pytest.mark.parametrize("reads", READS)
@pytest.mark.parametrize(
    ("lateness_s", "n_events"), [(3600, N_EVENTS), (300, 2500), (1800, N_EVENTS)]
)
def test_memory_and_redis_give_identical_values(
    feature_redis: redis.Redis, redis_prefix: str, lateness_s: int, n_events: int, reads: str
) -> None:
    """A short lateness makes many events too late and keys trim their old buckets often. With
    lateness 1800 the stream has a sum whose per-type value differs in the last bits from the
    every-feature one (test_feature_read_sets.py): Redis must follow the same reads to match."""
    events = stream(n_events, seed=11 + lateness_s)
    memory = engine(MemoryStore(lateness_s=lateness_s), reads)
    remote = engine(
        RedisStore(feature_redis, prefix=redis_prefix, lateness_s=lateness_s, max_batch=700),
        reads,
    )

    expected = [memory.observe(row) for row in events]
    half = n_events // 2
    got = [remote.observe(row) for row in events[:200]]
    got += remote.observe_many(events[200:half])
    got += [remote.observe(row) for row in events[half : half + 100]]
    got += remote.observe_many(events[half + 100 :])

    for row, want, have in zip(events, expected, got, strict=True):
        assert have == want, f"event {row['id']} at {row['ts']}: {_diff(want, have)}"
    assert memory.store.dropped_late == remote.store.dropped_late > 0
    assert _nonzero_share(expected) > 0.5, "the stream should exercise non-trivial values"


def test_sweeping_and_trimming_do_not_change_values() -> None:
    """Trimming is invisible, and so is purging idle keys for events no later than lateness +
    margin behind the sweep's clock (all of this stream's): an aggressive sweep gives the same
    values. (An event later than that, of a purged key, reads from empty state: memory.py.)"""
    events = stream(3000, seed=5)
    lazy = FeatureEngine(agreement_features(), MemoryStore(sweep_every=10**9))
    eager = FeatureEngine(agreement_features(), MemoryStore(sweep_every=1, sweep_chunk=64))
    for row in events:
        assert eager.observe(row) == lazy.observe(row), row["id"]
    assert eager.store.purged > 0  # type: ignore[attr-defined]


def test_streaming_matches_duckdb_sql() -> None:
    events = sorted(stream(N_EVENTS, seed=23, disorder=False), key=lambda r: (r["ts"], r["id"]))
    features = agreement_features()
    engine = FeatureEngine(features, MemoryStore())
    expected = [engine.observe(row) for row in events]

    con = duckdb.connect()
    columns = sorted({key for row in events for key in row})
    con.register("events", pa.Table.from_pylist(events, schema=_schema(columns)))
    query = feature_sql([f.spec for f in features], "events", lambda sql: sql)
    result = con.execute(query).fetchall()
    names = [d[0] for d in con.description]

    assert len(result) == len(events)
    for row, want, values in zip(events, expected, result, strict=True):
        have = dict(zip(names, values, strict=True))
        assert have.pop("id") == row["id"]
        assert have.keys() == want.keys()
        for name, value in want.items():
            assert _close(value, have[name]), f"{row['id']} {name}: stream {value} sql {have[name]}"
    assert _nonzero_share(expected) > 0.5


def _schema(columns: list[str]) -> pa.Schema:
    types = {
        "ts": pa.timestamp("us", tz="UTC"),
        "price": pa.float64(),
        "segments": pa.int64(),
        "success": pa.bool_(),
    }
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _diff(want: dict[str, Any], have: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (want[k], have.get(k)) for k in want if want[k] != have.get(k)}


def _nonzero_share(results: list[dict[str, Any]]) -> float:
    values = [v for r in results for v in r.values()]
    return sum(1 for v in values if v) / len(values)


@pytest.mark.parametrize("reads", READS)
def test_generated_fast_path_matches_the_generic_path(reads: str) -> None:
    """The in-memory hot path is generated code; on a disordered stream with late and
    too-late events it must give exactly what the table-by-table path gives, with the same
    reads per event type (this stream has a sum whose per-type value differs in the last bits
    from the every-feature one: see test_feature_read_sets.py)."""
    events = stream(N_EVENTS, seed=3)
    fast = engine(MemoryStore(lateness_s=1800), reads)
    generic = engine(MemoryStore(lateness_s=1800), reads, fast=False)
    for row in events:
        assert fast.observe(row) == generic.observe(row), row["id"]
    assert fast.store.dropped_late == generic.store.dropped_late > 0


@pytest.mark.parametrize("reads", READS)
def test_full_row_writers_match_the_generic_path(reads: str) -> None:
    """The writers for full rows (every name they read present, None where absent; they read
    row[name] and write the values into the row) give what the generic path gives on the
    same disordered stream, in the same order."""
    events = stream(N_EVENTS, seed=5)
    fast = engine(MemoryStore(lateness_s=1800), reads)
    generic = engine(MemoryStore(lateness_s=1800), reads, fast=False)
    template = dict.fromkeys(fast.full_row_columns)
    assert {"account_id", "to_prefix", "price", "to"} <= template.keys()
    for row in events:
        full = {**template, **row}
        fast.writer(row["type"])(full)
        written = {name: full[name] for name in fast.read_names(row["type"])}
        expected = generic.observe(row)
        assert written == expected, row["id"]
        assert list(written) == list(expected)
    assert fast.store.dropped_late == generic.store.dropped_late > 0


@pytest.mark.redis
@pytest.mark.parametrize("reads", READS)
def test_an_event_a_day_ahead_changes_no_other_key_in_either_store(
    feature_redis: redis.Redis, redis_prefix: str, reads: str
) -> None:
    """Lateness is judged per key: one event of another account (its own prefix and country)
    dated a day after the whole stream, taken in early, leaves every other event's values as
    they are without it, in memory and in Redis alike."""
    clean = stream(2500, seed=41)
    last = max(row["ts"] for row in clean)
    far = dict(clean[10], id="far", account_id="FAR", to_prefix="+999", country="ZZ")
    far["ts"] = last + timedelta(days=1)
    mixed = [*clean[:20], far, *clean[20:]]
    alone = engine(MemoryStore(lateness_s=1800), reads)
    memory = engine(MemoryStore(lateness_s=1800), reads)
    remote = engine(RedisStore(feature_redis, prefix=redis_prefix, lateness_s=1800), reads)

    expected = [alone.observe(row) for row in clean]
    got = [memory.observe(row) for row in mixed]
    assert remote.observe_many(mixed) == got
    del got[20]
    for row, want, have in zip(clean, expected, got, strict=True):
        assert have == want, f"event {row['id']} at {row['ts']}: {_diff(want, have)}"
    assert memory.store.dropped_late == alone.store.dropped_late > 0
    assert remote.store.dropped_late == memory.store.dropped_late


@pytest.mark.redis
def test_redis_keeps_each_keys_watermark_in_its_state_and_none_store_wide(
    feature_redis: redis.Redis, redis_prefix: str
) -> None:
    """No store-wide watermark: each window state holds its key's (field w) and expires with
    it, so a watermark nothing writes to any more goes with the state it judges."""
    store = RedisStore(feature_redis, prefix=redis_prefix, lateness_s=600, ttl_margin_s=60)
    features = engine(store, "every-feature")
    features.observe_many(stream(50, seed=3, disorder=False))
    assert not list(feature_redis.scan_iter(f"{redis_prefix}:wm*"))
    windows = [
        key
        for key in feature_redis.scan_iter(f"{redis_prefix}:f:*", count=10_000)
        if feature_redis.type(key) == b"hash" and feature_redis.hexists(key, "h")
    ]
    assert windows, "the events should have written window state"
    for key in windows:
        assert feature_redis.hexists(key, "w"), key
        assert feature_redis.ttl(key) > 0, key
