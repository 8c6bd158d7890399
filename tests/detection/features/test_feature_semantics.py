"""Window semantics spelled out on small hand-made streams, against both stores.

Buckets are epoch-aligned; T0 (12:00:00) starts a minute bucket. A 5m window has five 1-minute
buckets: an event reads its own bucket and the four before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from featstream import at, eq, feature

from abusedesk.detection.features import CompiledFeature, FeatureEngine, MemoryStore
from abusedesk.detection.features.redis_store import RedisStore
from abusedesk.detection.features.store import FeatureStore

MakeEngine = Callable[..., FeatureEngine]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_engine(request: pytest.FixtureRequest) -> MakeEngine:
    def make(features: list[CompiledFeature], lateness_s: int = 3600) -> FeatureEngine:
        store: FeatureStore
        if request.param == "memory":
            store = MemoryStore(lateness_s=lateness_s)
        else:
            client = request.getfixturevalue("feature_redis")
            prefix = request.getfixturevalue("redis_prefix")
            store = RedisStore(client, prefix=prefix, lateness_s=lateness_s)
        return FeatureEngine(features, store)

    return make


def msg(
    seconds: float, account: str | None = "A", type_: str = "message", **fields: Any
) -> dict[str, Any]:
    return {"id": f"{seconds}", "type": type_, "ts": at(seconds), "account_id": account, **fields}


def values(engine: FeatureEngine, name: str, rows: list[dict[str, Any]]) -> list[Any]:
    return [engine.observe(row)[name] for row in rows]


def test_an_event_counts_itself_and_leaves_the_window_n_buckets_later(
    make_engine: MakeEngine,
) -> None:
    engine = make_engine([feature("c", "count", window="5m")])
    # 12:00:00, 12:04:59 (bucket +4), 12:05:00 (bucket +5: the 12:00 bucket has left)
    assert values(engine, "c", [msg(0), msg(299), msg(300)]) == [1, 2, 2]


def test_a_window_reaches_back_between_window_minus_bucket_and_window(
    make_engine: MakeEngine,
) -> None:
    engine = make_engine([feature("c", "count", window="5m")])
    # 12:00:59 is still bucket 12:00, so at 12:05:00 (4m01s later) it is already out.
    assert values(engine, "c", [msg(59), msg(300)]) == [1, 1]
    # 12:01:00 is in the window of 12:05:59 (4m59s later)
    assert values(engine, "c", [msg(60, "B"), msg(359, "B")]) == [1, 2]


def test_large_windows_use_window_over_60_buckets(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("c", "count", window="24h")])  # 24-minute buckets
    day = 86400
    # 12:00 is 30 whole 24-minute buckets into the day, so T0 starts a bucket.
    assert values(engine, "c", [msg(0), msg(day - 1), msg(day)]) == [1, 2, 2]


def test_other_types_read_without_updating(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("c", "count", window="5m")])
    rows = [msg(0), msg(1, type_="delivery"), msg(2), msg(400, type_="delivery")]
    assert values(engine, "c", rows) == [1, 1, 2, 0]


def test_null_keys_neither_update_nor_read(make_engine: MakeEngine) -> None:
    engine = make_engine(
        [
            feature("c", "count", window="5m"),
            feature("pair", "count", by="account_id,to_prefix", window="5m"),
            feature("prefix", "count", by="to_prefix", window="5m"),
        ]
    )
    out = [
        engine.observe(r)
        for r in [
            msg(0, to_prefix="+33"),
            msg(1, None, to_prefix="+33"),
            msg(2, "A", to_prefix=None),
            msg(3, to_prefix="+33"),
        ]
    ]
    assert [o["c"] for o in out] == [1, None, 2, 3]
    assert [o["pair"] for o in out] == [1, None, None, 2]
    assert [o["prefix"] for o in out] == [1, 2, None, 3]


def test_filters_pass_only_on_true(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("hi", "count", window="5m", where=eq("tier", "high"))])
    rows = [msg(0, tier="high"), msg(1, tier=None), msg(2, tier="low"), msg(3, tier="high")]
    assert values(engine, "hi", rows) == [1, 1, 1, 2]


def test_ratio_is_none_until_the_denominator_is_positive(make_engine: MakeEngine) -> None:
    engine = make_engine(
        [
            feature(
                "r",
                "ratio",
                on="v",
                window="1h",
                where=eq("stage", "check"),
                over=eq("stage", "start"),
            )
        ]
    )
    rows = [
        msg(0, type_="v", stage="check"),  # numerator only: 1/0
        msg(1, type_="message"),
        msg(2, type_="v", stage="start"),  # 1/1
        msg(3, type_="v", stage="start"),  # 1/2
        msg(3700, type_="v", stage="other"),  # the first hour has left: 0/0
    ]
    assert values(engine, "r", rows) == [None, None, 1.0, 0.5, None]


def test_ratio_of_two_features(make_engine: MakeEngine) -> None:
    engine = make_engine(
        [
            feature("bad", "count", window="1h", where=eq("ok", False)),
            feature("all", "count", window="1h"),
            feature("share", "ratio", window="1h", parts=("bad", "all")),
            feature("none", "ratio", window="1h", parts=("all", "bad")),
        ]
    )
    out = [engine.observe(r) for r in [msg(0, ok=True), msg(1, ok=False), msg(2, None)]]
    assert [o["share"] for o in out] == [0.0, 0.5, None]
    assert [o["none"] for o in out] == [None, 2.0, None]


def test_sum_skips_nulls_and_is_zero_on_an_empty_window(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("s", "sum", window="5m", of="price")])
    rows = [msg(0, price=0.1), msg(1, price=None), msg(2, price=0.2), msg(600, type_="x")]
    assert values(engine, "s", rows) == [0.1, 0.1, 0.1 + 0.2, 0.0]


def test_distinct_counts_values_once_and_forgets_them_with_their_bucket(
    make_engine: MakeEngine,
) -> None:
    engine = make_engine([feature("d", "distinct", window="5m", of="to")])
    rows = [
        msg(0, to="x"),
        msg(1, to="x"),
        msg(2, to=None),
        msg(60, to="y"),
        msg(300, to="x"),
        msg(360, to="z"),
    ]
    # at 12:05 the 12:00 bucket left, but x came back in 12:05 itself; at 12:06 12:01 left.
    assert values(engine, "d", rows) == [1, 1, 1, 2, 2, 2]


def test_distinct_treats_equal_python_values_as_one(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("d", "distinct", window="5m", of="v")])
    rows = [msg(0, v=1), msg(1, v=1.0), msg(2, v=True), msg(3, v="1"), msg(4, v=1.5)]
    assert values(engine, "d", rows) == [1, 1, 1, 2, 3]


def test_age_is_hours_since_the_first_matching_event(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("age", "age", window=None, where=eq("ok", True))])
    rows = [
        msg(0, type_="login"),
        msg(60, ok=False),
        msg(3600, ok=True),
        msg(9000, ok=None),
        msg(12600, "B", ok=True),
    ]
    assert values(engine, "age", rows) == [None, None, 0.0, 1.5, 0.0]


def test_an_out_of_order_event_counts_in_its_own_bucket_and_reads_its_own_window(
    make_engine: MakeEngine,
) -> None:
    engine = make_engine([feature("c", "count", window="5m")], lateness_s=600)
    rows = [msg(300), msg(180), msg(330), msg(480)]
    # 12:05 -> 1; 12:03 (late, within lateness) reads 11:59..12:03 -> itself only;
    # 12:05:30 reads 12:01..12:05 -> 3; 12:08 reads 12:04..12:08 -> 12:05 x2 + itself
    assert values(engine, "c", rows) == [1, 1, 3, 3]
    assert engine.store.dropped_late == 0


def test_a_too_late_event_is_read_but_not_counted(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("c", "count", window="1h")], lateness_s=600)
    rows = [msg(0), msg(1800), msg(1100), msg(1810)]
    # watermark 12:30, lateness 10 min: 12:18:20 is too late. It reads its window but is not
    # counted in it, so it sees the 12:00 event only; 12:30:10 sees 12:00, 12:30 and itself.
    assert values(engine, "c", rows) == [1, 2, 1, 3]
    assert engine.store.dropped_late == 1


def test_a_too_late_event_reads_only_what_is_still_kept(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("c", "count", window="5m")], lateness_s=60)
    # the watermark reaches 12:10; at 12:06:30 (too late) buckets < bucket(12:09) - 4 = 12:05
    # are out of reach, so the 12:03 event is not seen although it is in 12:06's window.
    rows = [msg(180), msg(330), msg(600), msg(390)]
    assert values(engine, "c", rows) == [1, 2, 1, 1]
    assert engine.store.dropped_late == 1


def test_lateness_is_judged_per_key_so_an_event_far_ahead_moves_only_its_own_keys(
    make_engine: MakeEngine,
) -> None:
    features = [
        feature("c", "count", window="1h"),
        feature("d", "distinct", window="1h", of="to"),
        feature("s", "sum", window="1h", of="price"),
        feature("age", "age", window=None),
    ]
    engine = make_engine(features, lateness_s=600)
    day = 86400
    # B's event a day ahead comes first; A's events after it are not late for A's keys.
    rows = [msg(day, "B", to="x", price=1.0)]
    rows += [msg(60 * i, "A", to=f"t{i % 2}", price=0.5) for i in range(4)]
    seen = [engine.observe(row) for row in rows]
    assert [v["c"] for v in seen] == [1, 1, 2, 3, 4]
    assert [v["d"] for v in seen] == [1, 1, 2, 2, 2]
    assert [v["s"] for v in seen] == [1.0, 0.5, 1.0, 1.5, 2.0]
    assert [v["age"] for v in seen] == [0.0, 0.0, 1 / 60, 2 / 60, 3 / 60]
    assert engine.store.dropped_late == 0
    # For B itself the clock did move: an event of B a day earlier is too late for B's keys.
    late = engine.observe(msg(240, "B", to="y", price=2.0))
    assert (late["c"], late["d"], late["s"], late["age"]) == (0, 0, 0.0, None)
    assert engine.store.dropped_late == 1


def test_each_table_keeps_its_own_watermark(make_engine: MakeEngine) -> None:
    # Two features of one key: a report a day ahead moves the reports' watermark of A only,
    # not the messages'.
    features = [
        feature("msgs", "count", window="1h"),
        feature("reports", "count", on="report", window="1h"),
    ]
    engine = make_engine(features, lateness_s=600)
    day = 86400
    rows = [msg(day, type_="report"), msg(0), msg(60), msg(120, type_="report")]
    seen = [engine.observe(row) for row in rows]
    assert [v["msgs"] for v in seen] == [0, 1, 2, 2]
    # The report at 12:02 is too late for A's reports (watermark a day ahead): not counted.
    assert [v["reports"] for v in seen] == [1, 0, 0, 0]
    assert engine.store.dropped_late == 1


def test_keys_are_compared_like_python_values(make_engine: MakeEngine) -> None:
    engine = make_engine([feature("c", "count", by="k,j", window="5m")])
    rows = [
        {"id": "1", "type": "message", "ts": at(0), "k": 1, "j": "a"},
        {"id": "2", "type": "message", "ts": at(1), "k": 1.0, "j": "a"},
        {"id": "3", "type": "message", "ts": at(2), "k": "1", "j": "a"},
        {"id": "4", "type": "message", "ts": at(3), "k": "1\x1fa", "j": ""},
        {"id": "5", "type": "message", "ts": at(4), "k": "1", "j": "a"},
    ]
    assert values(engine, "c", rows) == [1, 2, 1, 1, 2]


def test_feature_names_that_are_names_of_the_generated_code_keep_their_values() -> None:
    """The generated code names its variables after the features and `by` fields; a name it
    uses itself (`sec`, `row`), a constant's (`_x`), one of its prefixes, or no identifier at
    all is given a numbered name instead, and every value stays the generic path's."""
    names = ["sec", "row", "_tf0_1", "key_account_id", "FILTER_0", "not-an-identifier", "ok"]
    features = [
        feature(name, "count", window="5m", by=by, where=eq("kind", "x") if i % 2 else None)
        for i, (name, by) in enumerate(zip(names, ["account_id", "wm", "v"] * 3, strict=False))
    ]
    fast = FeatureEngine(features, MemoryStore())
    generic = FeatureEngine(features, MemoryStore(), fast=False)
    source = fast.sources["message"]
    assert "    ok = " in source  # a plain name is used as it is
    assert "    sec = " not in source.split("sec = int(f)")[1]
    rows = [
        msg(t, account=a, kind=k, wm="w", v="v")
        for t, a, k in [(0, "A", "x"), (10, "A", "y"), (20, "B", "x"), (400, "A", "x")]
    ]
    for row in rows:
        assert fast.observe(row) == generic.observe(row), row["id"]
