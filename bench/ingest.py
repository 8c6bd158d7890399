"""Ingest throughput: canonical JSONL into the lake and the registry, on one core.

Prints one JSON line. Each size runs in a fresh subprocess (fresh workspace, default SQLite
store) so its peak memory is its own: flat memory means the peak hardly moves as the file grows.

    python bench/ingest.py [--sizes 250000,1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def one(size: int, database_url: str | None = None) -> dict[str, float]:
    from abusedesk.settings import Settings
    from abusedesk.workspace import Workspace
    from mixed_events import write

    with tempfile.TemporaryDirectory() as tmp:
        data = write(Path(tmp) / "events.jsonl", size)
        ws = Workspace(Settings(home=Path(tmp) / "home", database_url=database_url))
        ws.store  # noqa: B018 - migrate outside the timed part
        ingestor = ws.ingestor(actor="bench")
        started = time.perf_counter()
        summary = ingestor.ingest_paths([data])
        elapsed = time.perf_counter() - started
        again = ws.ingestor(actor="bench").ingest_paths([data])
        rows = ws.lake_reader().con.execute("SELECT count(*) FROM events").fetchone()
        assert summary.accepted == size
        assert again.accepted == 0
        assert rows
        assert rows[0] == size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "events": size,
        "seconds": round(elapsed, 3),
        "events_per_s": round(size / elapsed),
        "peak_rss_mb": round(peak_mb, 1),
    }


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    admin_url, name = url.rsplit("/", 1)
    engine = create_engine(admin_url + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="250000,1000000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--database-url",
        help="An empty PostgreSQL database to use instead of SQLite (it is reset).",
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.database_url)))
        return
    runs = []
    for size in (int(s) for s in args.sizes.split(",")):
        env = dict(os.environ, OMP_NUM_THREADS="1")
        # taskset pins the run to one core, as the target is stated per core.
        cmd = ["taskset", "-c", "0", sys.executable, __file__, "--one", str(size)]
        if args.database_url:
            reset(args.database_url)
            cmd += ["--database-url", args.database_url]
        result = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    largest = runs[-1]
    print(
        json.dumps(
            {
                "bench": "ingest",
                "format": "jsonl",
                "store": "postgresql" if args.database_url else "sqlite",
                "cores": 1,
                "events_per_s": largest["events_per_s"],
                "peak_rss_mb": largest["peak_rss_mb"],
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
