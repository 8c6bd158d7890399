"""Detection throughput: enrichment + windowed features + the default playbook, one core.

Prints one JSON line: events/s over the simulator's realistic mixed traffic, per-event p50/p99,
peak memory, and how state grows with traffic: a second, larger run (more days of the same
population) shows memory following the number of keys, not the number of events. The garbage
collector runs as in production (automatic collection off, young collections periodically).

    python bench/engine.py [--days 3] [--scale 1]
    PACK=my-pack python bench/engine.py      # another rule pack than the default playbook
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Young collections: the API server runs one a second (api/app.py), this many events at the
# target rate.
YOUNG_EVERY = 50_000


def one(days: int, scale: float) -> dict[str, float]:
    from abusedesk.detection.engine import DetectionEngine
    from abusedesk.enrich import default_enricher
    from sim_events import sim_events

    events = list(sim_events(days, scale))
    engine = DetectionEngine.load(Path(os.environ["PACK"]) if os.environ.get("PACK") else None)
    # Loaded before timing, as the API server and `abusedesk ingest` do at start-up (~0.3 s:
    # phonenumbers metadata, time zones, the suffix list, the word lists).
    default_enricher()
    # The garbage collector as the engine runs in production: the API server and file ingest
    # both turn automatic collection off (feature state holds no cycles, and full collections
    # walk all of it); the server collects the young generations once a second. Here: once
    # every YOUNG_EVERY events, inside the timed loop, so its cost is counted.
    gc.collect()
    gc.freeze()
    gc.disable()
    timings: list[int] = []
    clock = time.perf_counter_ns
    started = time.perf_counter()
    for n, event in enumerate(events, 1):
        t0 = clock()
        engine.evaluate(event)
        if n % YOUNG_EVERY == 0:
            gc.collect(1)
        timings.append(clock() - t0)
    elapsed = time.perf_counter() - started
    gc.enable()
    timings.sort()
    store = engine.features.store
    keys = sum(getattr(store, "key_counts", dict)().values())
    return {
        "days": days,
        "events": len(events),
        "events_per_s": round(len(events) / elapsed),
        "p50_us": round(timings[len(timings) // 2] / 1000, 1),
        "p99_us": round(timings[int(len(timings) * 0.99)] / 1000, 1),
        "feature_keys": keys,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rules": len(engine.pack.rules),
        "features": len(engine.pack.features),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.days, args.scale)))
        return
    runs = []
    for days in (args.days, args.days * 2):
        cmd = [
            "taskset",
            "-c",
            "0",
            sys.executable,
            __file__,
            "--one",
            "--days",
            str(days),
            "--scale",
            str(args.scale),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    first = runs[0]
    print(
        json.dumps(
            {
                "bench": "engine",
                "cores": 1,
                "rules": first["rules"],
                "features": first["features"],
                "events_per_s": first["events_per_s"],
                "p50_us": first["p50_us"],
                "p99_us": first["p99_us"],
                "peak_rss_mb": first["peak_rss_mb"],
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
