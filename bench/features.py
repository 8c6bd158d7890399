"""Windowed feature throughput: ~20 features of every kind over synthetic traffic.

Prints one JSON line. The memory store runs each event's writer on a full row, as the detection
engine does, and times each call; the Redis store sends `observe_many` batches (one round trip
each) and reports per-event figures derived from the batch times.

    python bench/features.py [--events 500000] [--rate 1000]
    python bench/features.py --store redis [--events 50000] [--batch 1000] [--url redis://...]

`--rate` sets how fast event time moves (events per second): it decides how often a key's
window has to slide, which is the expensive case. The figures for the defaults and for a
sparse rate (e.g. --rate 3, two days of traffic in 500,000 events) are in docs/features.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from abusedesk.detection.features import CompiledFeature, FeatureEngine, MemoryStore
from abusedesk.detection.spec import FeatureSpec, parse_window

START = datetime(2026, 3, 2, tzinfo=UTC)
Row = Mapping[str, Any]


def _f(
    name: str,
    kind: str,
    on: str,
    by: str,
    window: str | None,
    *,
    where: Callable[[Row], Any] | None = None,
    over: Callable[[Row], Any] | None = None,
    of: str | None = None,
    parts: tuple[str, str] | None = None,
) -> CompiledFeature:
    spec = FeatureSpec(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        on=tuple(on.split(",")),
        by=tuple(by.split(",")),
        window_s=parse_window(window) if window else None,
        where="where" if where else None,
        over="over" if over else None,
        of=of,
        numerator=parts[0] if parts else None,
        denominator=parts[1] if parts else None,
    )
    return CompiledFeature(spec, where, over)


def features() -> list[CompiledFeature]:
    acc, pre = "account_id", "account_id,to_prefix"
    return [
        _f("msgs_5m", "count", "message", acc, "5m"),
        _f("msgs_1h", "count", "message", acc, "1h"),
        _f("msgs_24h", "count", "message", acc, "24h"),
        _f("msgs_7d", "count", "message", acc, "7d"),
        _f("msgs_5m_by_prefix", "count", "message", pre, "5m"),
        _f("msgs_1h_prefix_all", "count", "message", "to_prefix", "1h"),
        _f(
            "high_cost_1h",
            "count",
            "message",
            acc,
            "1h",
            where=lambda r: r["to_cost_tier"] == "high",
        ),
        _f("spend_1h", "sum", "message", acc, "1h", of="price"),
        _f("spend_24h", "sum", "message", acc, "24h", of="price"),
        _f("recipients_1h", "distinct", "message", acc, "1h", of="to"),
        _f("prefixes_24h", "distinct", "message", acc, "24h", of="to_prefix"),
        _f("templates_1h", "distinct", "message", acc, "1h", of="template_fp"),
        _f(
            "bounce_rate_24h",
            "ratio",
            "delivery",
            acc,
            "24h",
            where=lambda r: r["status"] == "bounced",
        ),
        _f("fail_rate_1h", "ratio", "delivery", acc, "1h", where=lambda r: r["status"] == "failed"),
        _f(
            "otp_starts_1h",
            "count",
            "verification",
            pre,
            "1h",
            where=lambda r: r["stage"] == "start",
        ),
        _f(
            "otp_conversion_24h",
            "ratio",
            "verification",
            pre,
            "24h",
            where=lambda r: r["stage"] == "check" and r["success"],
            over=lambda r: r["stage"] == "start",
        ),
        _f("complaints_7d", "count", "complaint", acc, "7d"),
        _f(
            "complaint_rate_7d", "ratio", "complaint", acc, "7d", parts=("complaints_7d", "msgs_7d")
        ),
        _f("account_age", "age", "message", acc, None),
        _f("first_complaint_age", "age", "complaint", acc, None),
    ]


def rows(n: int, rate: float, seed: int = 7) -> Iterator[dict[str, Any]]:
    """n events at `rate` events per second of event time: 1,000 accounts, 5,000 prefixes.

    Rows are made one at a time, as the detection pipeline hands them over (fresh, hot in
    the CPU cache); a pre-built list of 500,000 rows would also inflate the peak RSS."""
    rng = random.Random(seed)
    prefixes = [f"+1{rng.randrange(10**9):09d}"[:8] for _ in range(5000)]
    step = 1 / rate
    for i in range(n):
        account = f"AC{rng.randrange(1000):04d}"
        roll = rng.random()
        prefix = prefixes[rng.randrange(5000)]
        row: dict[str, Any] = {
            "id": f"ev{i:08d}",
            "ts": START + timedelta(seconds=i * step),
            "account_id": account,
            "to_prefix": prefix,
        }
        if roll < 0.6:
            row.update(
                type="message",
                to=prefix + f"{rng.randrange(10000):04d}",
                price=round(rng.uniform(0.001, 0.09), 4),
                to_cost_tier="high" if rng.random() < 0.05 else "standard",
                template_fp=f"t{rng.randrange(50)}",
            )
        elif roll < 0.85:
            row.update(type="delivery", status=rng.choice(("delivered", "bounced", "failed")))
        elif roll < 0.97:
            row.update(type="verification", stage=rng.choice(("start", "check")), success=True)
        else:
            row.update(type="complaint")
        yield row


def run_memory(n: int, rate: float) -> dict[str, Any]:
    engine = FeatureEngine(features(), MemoryStore())
    # As the detection engine runs it: each row made full (every name the generated code reads,
    # None where absent) outside the timed part, then the event type's writer.
    template = dict.fromkeys(engine.full_row_columns)
    timings = []
    clock = time.perf_counter_ns
    for row in rows(n, rate):
        full = {**template, **row}
        write = engine.writer(row["type"])
        t0 = clock()
        write(full)
        timings.append(clock() - t0)
    return _figures(n, sum(timings) / 1e9, timings, "memory")


def run_redis(n: int, rate: float, url: str, batch: int) -> dict[str, Any]:
    import redis

    from abusedesk.detection.features.redis_store import RedisStore

    client = redis.Redis.from_url(url)
    prefix = f"adkbench:{uuid.uuid4().hex[:8]}"
    engine = FeatureEngine(features(), RedisStore(client, prefix=prefix))
    timings = []
    clock = time.perf_counter_ns
    source = rows(n, rate)
    try:
        while chunk := list(itertools.islice(source, batch)):
            t0 = clock()
            engine.observe_many(chunk)
            per_event = (clock() - t0) / len(chunk)
            timings.extend([int(per_event)] * len(chunk))
    finally:
        for key in client.scan_iter(f"{prefix}:*", count=10000):
            client.delete(key)
    result = _figures(n, sum(timings) / 1e9, timings, "redis")
    result["batch"] = batch
    return result


def _figures(n: int, elapsed: float, timings: list[int], store: str) -> dict[str, Any]:
    """`elapsed` is the time spent inside the engine (row generation is not counted)."""
    timings.sort()
    return {
        "bench": "features",
        "features": len(features()),
        "events": n,
        "events_per_s": round(n / elapsed),
        "p50_us": round(timings[len(timings) // 2] / 1000, 2),
        "p99_us": round(timings[int(len(timings) * 0.99)] / 1000, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "store": store,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=("memory", "redis"), default="memory")
    parser.add_argument("--events", type=int, help="default 500,000 (memory) or 50,000 (redis)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="events per second of event time (default 1,000: each account about once a "
        "second; lower rates make keys sparse, so most reads move a window)",
    )
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    n = args.events or (500_000 if args.store == "memory" else 50_000)
    if args.store == "memory":
        result = run_memory(n, args.rate)
    else:
        result = run_redis(n, args.rate, args.url, args.batch)
    result["rate"] = args.rate
    print(json.dumps(result))


if __name__ == "__main__":
    main()
