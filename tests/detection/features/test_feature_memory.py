"""MemoryStore stays bounded by keys x buckets however many events pass, and says so.

The store is driven directly (no engine) so a million events take a couple of seconds; sizes
are measured on the structure, never with a clock.
"""

from __future__ import annotations

import pytest
from featstream import feature

from abusedesk.detection.features import FeatureEngine, MemoryStore, TableSpec

DAY = 86400
START = 1_772_409_600  # 2026-03-02T00:00:00Z


def _drive(store: MemoryStore, events: int, keys: int, span_s: int, check_every: int) -> list[int]:
    """events spread evenly over span_s, round robin over keys; returns stored-bucket samples."""
    samples = []
    reads = [(0, 0), (1, 0)]
    for i in range(events):
        ts = START + i * span_s // events
        key = [f"k{i % keys}"]
        store.apply(ts, key, [(0, 0, 1), (1, 0, i % 7)], reads)
        if i % check_every == 0:
            samples.append(sum(store.stored_buckets().values()))
    return samples


def test_a_million_events_over_ten_days_stay_within_keys_times_buckets() -> None:
    store = MemoryStore(lateness_s=0)
    store.bind(
        [TableSpec("c5m", "window", 60, 5, integer=True), TableSpec("d5m", "distinct", 60, 5)]
    )
    samples = _drive(store, 1_000_000, keys=100, span_s=10 * DAY, check_every=10_000)
    bound = 100 * 5 * 2  # keys x n_buckets, for each of the two tables
    assert max(samples) <= bound
    assert samples[-1] > 0
    assert store.key_counts() == {"c5m": 100, "d5m": 100}


def test_with_lateness_a_key_keeps_at_most_n_plus_lateness_buckets() -> None:
    store = MemoryStore(lateness_s=600)  # 10 one-minute buckets reachable by late events
    store.bind(
        [TableSpec("c5m", "window", 60, 5, integer=True), TableSpec("d5m", "distinct", 60, 5)]
    )
    samples = _drive(store, 200_000, keys=100, span_s=2 * DAY, check_every=5_000)
    assert max(samples) <= 100 * (5 + 10) * 2


def test_keys_that_go_quiet_are_swept() -> None:
    store = MemoryStore(lateness_s=0, sweep_every=64, sweep_chunk=64)
    store.bind([TableSpec("c", "window", 60, 5, integer=True)])
    for i in range(5000):  # 500 keys busy for a while
        store.apply(START + i, [f"k{i % 500}"], [(0, 0, 1)], [])
    for i in range(20_000):  # then only 10 keys, an hour later and on
        store.apply(START + 3600 + i, [f"k{i % 10}"], [(0, 0, 1)], [])
    assert store.key_counts()["c"] <= 10 + 64  # at most one sweep chunk behind
    store.sweep()
    assert store.key_counts()["c"] == 10


def test_one_key_far_ahead_makes_the_sweep_forget_no_other_key() -> None:
    """The sweep's clock is the 4th newest of the keys sampled, not the newest second seen: one
    key a day ahead neither makes the others too late nor makes them look idle."""

    def store() -> MemoryStore:
        made = MemoryStore(lateness_s=0, sweep_every=64, sweep_chunk=64)
        made.bind([TableSpec("c", "window", 60, 5, integer=True)])
        return made

    alone, mixed = store(), store()
    mixed.apply(START + DAY, ["far"], [(0, 0, 1)], [])
    for i in range(5000):
        key = [f"k{i % 50}"]
        assert mixed.apply(START + i, key, [(0, 0, 1)], [(0, 0)]) == alone.apply(
            START + i, key, [(0, 0, 1)], [(0, 0)]
        )
    assert mixed.purged == alone.purged == 0
    mixed.sweep()
    assert mixed.key_counts()["c"] == 51
    assert mixed.dropped_late == 0


def test_the_key_cap_evicts_and_counts() -> None:
    store = MemoryStore(max_keys_per_group=1000)
    store.bind([TableSpec("c", "window", 60, 5, integer=True)])
    for i in range(5000):
        store.apply(START + i, [f"k{i}"], [(0, 0, 1)], [])
    assert store.key_counts()["c"] <= 1000
    assert store.evictions >= 4000
    # the most recent keys survive
    assert store.apply(START + 5000, ["k4999"], [], [(0, 0)]) == [1]


def test_ages_are_kept_without_a_window_but_under_the_cap() -> None:
    store = MemoryStore(max_keys_per_group=100)
    store.bind([TableSpec("age", "age")])
    for i in range(1000):
        store.apply(START + i * DAY, [f"k{i}"], [(0, 0, None)], [])
    store.sweep()
    assert store.key_counts()["age"] <= 100
    assert store.apply(START + 1000 * DAY, ["k999"], [], [(0, 0)]) == [START + 999 * DAY]


def test_engine_rejects_inconsistent_features() -> None:
    with pytest.raises(ValueError, match="unknown feature 'nope'"):
        FeatureEngine([feature("r", "ratio", parts=("nope", "x"))], MemoryStore())
    with pytest.raises(ValueError, match="cycle"):
        FeatureEngine(
            [feature("a", "ratio", parts=("b", "b")), feature("b", "ratio", parts=("a", "a"))],
            MemoryStore(),
        )
    with pytest.raises(ValueError, match="unique"):
        FeatureEngine([feature("a", "count"), feature("a", "count")], MemoryStore())
    with pytest.raises(ValueError, match="needs `of`"):
        FeatureEngine([feature("s", "sum")], MemoryStore())


def test_naive_timestamps_are_refused() -> None:
    engine = FeatureEngine([feature("c", "count")], MemoryStore())
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        engine.observe(
            {"id": "1", "type": "message", "ts": datetime(2026, 1, 1), "account_id": "A"}
        )
