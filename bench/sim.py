"""Benchmark: simulator throughput and peak memory.

Generates DAYS of traffic at SCALE into a temporary folder (deleted afterwards) and prints one
JSON line. Memory should stay flat as scale grows: the generator holds one hour of traffic plus
the receipts still in flight, never the run, so `--scale 10` must not need ten times the RSS.
Run each size in its own process (ru_maxrss is the process's peak):

    .venv/bin/python bench/sim.py                 # days=3, scale=1
    .venv/bin/python bench/sim.py --scale 10      # the bounded-memory check
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from abusedesk.sim.generator import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="abusedesk-bench-sim-") as tmp:
        started = time.perf_counter()
        summary = generate(Path(tmp), days=args.days, seed=args.seed, scale=args.scale)
        elapsed = time.perf_counter() - started
        size_mb = (Path(tmp) / "events.jsonl").stat().st_size / 1e6
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "bench": "sim",
                "days": args.days,
                "scale": args.scale,
                "events": summary.events,
                "accounts": summary.accounts,
                "seconds": round(elapsed, 2),
                "events_per_s": round(summary.events / elapsed),
                "file_mb": round(size_mb, 1),
                "peak_rss_mb": round(peak_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
