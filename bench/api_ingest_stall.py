"""Does a big POST /v1/events stall /v1/decisions? Decision latency with and without ingest.

Starts `abusedesk serve` (fresh workspace) pinned to core 1; this process, pinned to core 0,
sends decisions open-loop at --rate (latency from each request's scheduled start, as in
bench/decisions.py), first for --seconds alone, then for --seconds while another process (as
another client would be) posts NDJSON bodies of --items messages (about --body-chars characters
each) to /v1/events back to back. Prints one JSON line: decision p50/p99/max in both phases,
the ingest posts' sizes and durations, and, in process, the longest GIL holds of an API ingest of NDJSON and of a JSON
array (`gil_holds`: the figure other load on the machine moves least).

    python bench/api_ingest_stall.py [--rate 200] [--seconds 15] [--items 10000]
    python bench/api_ingest_stall.py --holds-only
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def as_array(ndjson: bytes) -> bytes:
    """The same events as one JSON array."""
    return b"[" + b",".join(ndjson.splitlines()) + b"]"


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


def gil_holds(bodies: list[bytes]) -> dict[str, Any]:
    """In process, no HTTP: the longest stretches for which API ingests of `bodies` (the
    route's work: _parse, then ingest with detection) kept the GIL from another thread.

    A probe thread naps 0.5 ms at a time (the server's switch interval); when it wakes late,
    the ingest thread's CPU time over that gap is how long it held the GIL (a call that
    releases the GIL does not make the probe late; time the core gave to other processes is
    nobody's CPU time here), so the figure moves little with load on the machine. The first
    body warms up and is not counted; under about 5 ms is the noise of the OS scheduler."""
    from abusedesk.api import events as route
    from abusedesk.workspace import Workspace

    # What the route does with the items of an array once ingested (none before _release).
    release = getattr(route, "_release", lambda items: None)
    # As `abusedesk serve`: its switch interval, and no automatic full collections (api/app.py)
    sys.setswitchinterval(0.0005)
    gc.collect()
    gc.freeze()
    gc.disable()
    holds: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory() as home:
        os.environ["ABUSEDESK_HOME"] = home
        ws = Workspace()
        consumers = [ws.detection_consumer(ws.detection_engine())]
        ingesting = threading.Event()
        done = threading.Event()

        def ingest() -> None:
            for n, body in enumerate(bodies):
                if n == 1:
                    ingesting.set()
                objects = route._parse(body, ws.settings.api_max_events)
                ingestor = ws.ingestor(
                    consumers=consumers, actor="bench", origin="api", beside_decisions=True
                )
                if objects is None:
                    ingestor.ingest_bytes(body, source="http")
                else:
                    ingestor.ingest_objects(objects, source="http")
                    release(objects)
            done.set()

        thread = threading.Thread(target=ingest)
        thread.start()
        ingesting.wait()
        assert thread.ident is not None
        clock = time.pthread_getcpuclockid(thread.ident)
        while not done.is_set():
            try:
                cpu0 = time.clock_gettime(clock)
                t0 = time.perf_counter()
                time.sleep(0.0005)
                if time.perf_counter() - t0 > 0.002 and not done.is_set():
                    frame = sys._current_frames().get(thread.ident)
                    held = (time.clock_gettime(clock) - cpu0) * 1e3
                    where = (
                        f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}" if frame else ""
                    )
                    holds.append((held, where))
            except OSError:  # the thread ended (its clock with it)
                break
        thread.join()
        ws.close()
    gc.unfreeze()
    gc.enable()
    holds.sort(reverse=True)
    return {
        "posts": len(bodies) - 1,
        "longest_ms": [round(ms, 1) for ms, _ in holds[:5]],
        "where": [where for _, where in holds[:5]],
        "over_5ms": sum(1 for ms, _ in holds if ms > 5),
    }


def post_loop(
    port: int,
    token: str,
    posts: list[bytes],
    stop: Any,
    answers: multiprocessing.Queue[list[dict[str, float]]],
) -> None:
    """POST the bodies to /v1/events back to back until `stop` is set; puts each post's
    status, size, answer size and duration on `answers`."""
    os.nice(5)
    ingests: list[dict[str, float]] = []
    with httpx.Client(timeout=600) as client:
        for body in posts:
            if stop.is_set():
                break
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
    answers.put(ingests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--body-chars", type=int, default=2000)
    parser.add_argument(
        "--holds-only", action="store_true", help="only the in-process GIL holds (no server)"
    )
    args = parser.parse_args()
    if args.holds_only:
        bodies = [ingest_body(b, args.items, args.body_chars) for b in range(6)]
        holds = {
            "ndjson": gil_holds(bodies[:3]),
            "json_array": gil_holds([as_array(b) for b in bodies[3:]]),
        }
        print(json.dumps({"bench": "api_ingest_stall", "ingest_gil_holds": holds}))
        return

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

            # The poster is another client: a process of its own (a thread here would make
            # this process's GIL, not the server, delay the decisions it times), niced so the
            # decision driver on the same core comes first.
            context = multiprocessing.get_context("fork")
            stop = context.Event()
            answers: multiprocessing.Queue[list[dict[str, float]]] = context.Queue()
            poster = context.Process(target=post_loop, args=(port, token, posts, stop, answers))
            poster.start()
            time.sleep(0.5)  # the first post is being read and parsed
            busy = asyncio.run(drive(port, token, busy_bodies, args.rate, args.connections))
            stop.set()
            ingests = answers.get()
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
                "ingest_gil_holds": gil_holds(posts[:3]),
                "ingest_gil_holds_json_array": gil_holds([as_array(p) for p in posts[3:6]]),
            }
        )
    )


if __name__ == "__main__":
    main()
