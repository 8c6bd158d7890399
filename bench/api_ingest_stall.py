"""Does a big POST /v1/events stall /v1/decisions? Decision latency with and without ingest.

Starts `abusedesk serve` (fresh workspace) pinned to core 1; this process, pinned to core 0,
sends decisions open-loop at --rate (latency from each request's scheduled start, as in
bench/decisions.py), first for --seconds alone, then for --seconds while another thread posts
NDJSON bodies of --items messages (about --body-chars characters each) to /v1/events back to
back. Prints one JSON line: decision p50/p99/max in both phases and the ingest posts' sizes
and durations.

    python bench/api_ingest_stall.py [--rate 200] [--seconds 15] [--items 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))

from decisions import Bodies, drive, serving


def ingest_body(batch: int, items: int, body_chars: int) -> bytes:
    now = datetime.now(UTC)
    lines = []
    for i in range(items):
        event = {
            "id": f"stall-{batch}-{i}",
            "type": "message",
            "ts": (now - timedelta(seconds=i % 3600)).isoformat().replace("+00:00", "Z"),
            "account_id": f"AC{i % 50}",
            "message_id": f"SM{batch}-{i}",
            "channel": "sms",
            "from": "+15005550006",
            "to": f"+1500555{i % 10000:04d}",
            "body": ("win a prize now " * (body_chars // 16 + 1))[:body_chars],
        }
        lines.append(orjson.dumps(event))
    return b"\n".join(lines) + b"\n"


def engine_wait(bulk: int = 30_000) -> dict[str, float]:
    """In process, no HTTP: how long evaluate() (a decision) waits while another thread runs
    evaluate_many() over `bulk` simulator events (an ingest batch) on the same engine."""
    from abusedesk.detection.engine import DetectionEngine
    from sim_events import sim_events

    engine = DetectionEngine.load()
    events = [e for _, e in zip(range(bulk + 5_000), sim_events(3, 1.0), strict=False)]
    done = threading.Event()

    def batch() -> None:
        engine.evaluate_many(events[:bulk])
        done.set()

    thread = threading.Thread(target=batch)
    thread.start()
    waits = []
    for event in events[bulk:]:
        if done.is_set():
            break
        t0 = time.perf_counter()
        engine.evaluate(event)
        waits.append(time.perf_counter() - t0)
        time.sleep(0.005)
    thread.join()
    waits.sort()
    return {
        "decisions": len(waits),
        "p50_ms": round(waits[len(waits) // 2] * 1e3, 2),
        "p99_ms": round(waits[int(len(waits) * 0.99)] * 1e3, 2),
        "max_ms": round(waits[-1] * 1e3, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--body-chars", type=int, default=2000)
    args = parser.parse_args()

    bodies = Bodies()
    n = int(args.rate * args.seconds)
    warmup = int(args.rate * 2)
    idle_bodies = bodies.take(n + warmup)
    busy_bodies = bodies.take(n)
    posts = [ingest_body(b, args.items, args.body_chars) for b in range(50)]

    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ABUSEDESK_HOME=home)
        env.pop("ABUSEDESK_DATABASE_URL", None)
        with serving(env) as (port, token, _server):
            os.sched_setaffinity(0, {0})
            idle = asyncio.run(
                drive(port, token, idle_bodies, args.rate, args.connections, warmup=warmup)
            )

            stop = threading.Event()
            ingests: list[dict[str, float]] = []

            def post_loop() -> None:
                with httpx.Client(timeout=600) as client:
                    for body in posts:
                        if stop.is_set():
                            return
                        t0 = time.perf_counter()
                        response = client.post(
                            f"http://127.0.0.1:{port}/v1/events",
                            content=body,
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        ingests.append(
                            {
                                "status": response.status_code,
                                "mb": round(len(body) / 1e6, 1),
                                "answer_kb": round(len(response.content) / 1e3, 1),
                                "s": round(time.perf_counter() - t0, 2),
                            }
                        )

            poster = threading.Thread(target=post_loop)
            poster.start()
            time.sleep(0.5)  # the first post is being read and parsed
            busy = asyncio.run(drive(port, token, busy_bodies, args.rate, args.connections))
            stop.set()
            poster.join()
    keys = ("requests", "errors", "p50_ms", "p99_ms", "max_ms")
    print(
        json.dumps(
            {
                "bench": "api_ingest_stall",
                "rate": args.rate,
                "seconds": args.seconds,
                "load_avg_1m": os.getloadavg()[0],
                "decisions_idle": {k: idle[k] for k in keys},
                "decisions_during_ingest": {k: busy[k] for k in keys},
                "ingest_posts": ingests,
                "engine_evaluate_wait_during_batch": engine_wait(),
            }
        )
    )


if __name__ == "__main__":
    main()
