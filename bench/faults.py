"""Fault campaign for ingest: kill -9 at random instants, concurrent overlapping ingests.

Prints one JSON line of counts. For each backend (SQLite; PostgreSQL when reachable):

- `kills`: an `abusedesk ingest` (with detection) of simulated traffic is killed with SIGKILL
  at a random instant, then rerun to the end; after the rerun the lake must hold each event id
  exactly once, as many rows as the idempotency index holds ids, every input event, and the
  same cases (account, policy) as a clean run.
- `pairs`: two ingests of overlapping halves of the traffic run at once, with small batches so
  compaction triggers; both must succeed and every event be in the lake exactly once.

    python bench/faults.py [--kills 30] [--pairs 10] [--backends sqlite,postgresql]

Each trial uses a fresh workspace (and, on PostgreSQL, a fresh database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

CLI = [str(Path(sys.executable).parent / "abusedesk")]
PG_ADMIN = os.environ.get(
    "ABUSEDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _env(home: Path, url: str | None, batch: int) -> dict[str, str]:
    env = dict(os.environ, ABUSEDESK_HOME=str(home), ABUSEDESK_INGEST_BATCH_SIZE=str(batch))
    env.pop("ABUSEDESK_DATABASE_URL", None)
    if url is not None:
        env["ABUSEDESK_DATABASE_URL"] = url
    return env


def _database(backend: str, name: str) -> str | None:
    if backend == "sqlite":
        return None
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop(url: str | None) -> None:
    if url is None:
        return
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _state(home: Path, url: str | None) -> dict[str, Any]:
    lake = home / "lake" / "events"
    files = list(lake.glob("type=*/day=*/part-*.parquet"))
    rows = distinct = 0
    if files:
        con = duckdb.connect()
        listing = ", ".join(f"'{f}'" for f in files)
        got = con.execute(
            f"SELECT count(*), count(DISTINCT id) FROM read_parquet([{listing}], union_by_name=true)"
        ).fetchone()
        con.close()
        assert got is not None
        rows, distinct = int(got[0]), int(got[1])
    engine = sa.create_engine(url or f"sqlite:///{home / 'abusedesk.db'}")
    with engine.connect() as conn:
        ids = conn.execute(sa.text("SELECT count(*) FROM event_ids")).scalar_one()
        cases = sorted(
            tuple(r) for r in conn.execute(sa.text("SELECT account_id, policy FROM cases"))
        )
        statuses = [r[0] for r in conn.execute(sa.text("SELECT status FROM ingest_runs"))]
    engine.dispose()
    return {"rows": rows, "distinct": distinct, "ids": ids, "cases": cases, "runs": statuses}


def _ingest(path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "ingest", str(path), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kills(backend: str, traffic: Path, expected: int, n: int, batch: int) -> dict[str, Any]:
    rng = random.Random(10)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "clean"
        url = _database(backend, "abusedesk_faults_clean")
        started = time.perf_counter()
        proc = _ingest(traffic, _env(home, url, batch))
        _, err = proc.communicate()
        clean_s = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"clean run failed: {err.decode()[-400:]}")
        clean = _state(home, url)
        _drop(url)
    out: dict[str, Any] = {"kills": 0, "ok": 0, "bad": [], "interrupted_marked": 0}
    for trial in range(n):
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "w"
            url = _database(backend, f"abusedesk_faults_{trial}")
            env = _env(home, url, batch)
            proc = _ingest(traffic, env)
            time.sleep(rng.uniform(0.0, clean_s))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                out["kills"] += 1
            proc.wait()
            rerun = _ingest(traffic, env)
            _, err = rerun.communicate()
            state = _state(home, url)
            _drop(url)
            problems = []
            if rerun.returncode != 0:
                problems.append(f"rerun exit {rerun.returncode}: {err.decode()[-200:]}")
            if not state["rows"] == state["distinct"] == state["ids"] == expected:
                problems.append(
                    f"rows {state['rows']} distinct {state['distinct']} ids {state['ids']}"
                )
            if state["cases"] != clean["cases"]:
                problems.append(f"cases {len(state['cases'])} != clean {len(clean['cases'])}")
            if "running" in state["runs"]:
                problems.append("a run is still marked running")
            out["interrupted_marked"] += state["runs"].count("interrupted")
            if problems:
                out["bad"].append({"trial": trial, "problems": problems})
            else:
                out["ok"] += 1
    out["clean_cases"] = len(clean["cases"])
    return out


def pairs(backend: str, traffic: Path, expected: int, n: int, batch: int) -> dict[str, Any]:
    lines = traffic.read_bytes().splitlines(keepends=True)
    cut_a, cut_b = int(len(lines) * 0.6), int(len(lines) * 0.4)
    out: dict[str, Any] = {"pairs": n, "ok": 0, "failed_processes": 0, "bad": []}
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "a.jsonl", Path(tmp) / "b.jsonl"
        first.write_bytes(b"".join(lines[:cut_a]))
        second.write_bytes(b"".join(lines[cut_b:]))
        for trial in range(n):
            home = Path(tmp) / f"w{trial}"
            url = _database(backend, f"abusedesk_pairs_{trial}")
            env = _env(home, url, batch)
            # The schema is made first: two first starts at once race on CREATE TABLE (a known
            # problem of the store's first-use migration, not of ingest).
            subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
            procs = [_ingest(first, env), _ingest(second, env)]
            codes = [p.wait() for p in procs]
            state = _state(home, url)
            _drop(url)
            out["failed_processes"] += sum(1 for c in codes if c != 0)
            if codes == [0, 0] and state["rows"] == state["distinct"] == state["ids"] == expected:
                out["ok"] += 1
            else:
                errors = [p.stderr.read().decode()[-200:] if p.stderr else "" for p in procs]
                out["bad"].append({"trial": trial, "codes": codes, "errors": errors, **state})
    return out


def _pg_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN)
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--scale", default="0.2")
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    report: dict[str, Any] = {"bench": "faults"}
    with tempfile.TemporaryDirectory() as tmp:
        sim = Path(tmp) / "sim"
        subprocess.run(
            [
                *CLI,
                "sim",
                "generate",
                str(sim),
                "--days",
                "1",
                "--seed",
                "7",
                "--scale",
                args.scale,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        traffic = sim / "events.jsonl"
        expected = len({json.loads(line)["id"] for line in traffic.read_bytes().splitlines()})
        report["events"] = expected
        for backend in args.backends.split(","):
            if backend == "postgresql" and not _pg_reachable():
                report[backend] = "unreachable"
                continue
            report[backend] = {
                "kill": kills(backend, traffic, expected, args.kills, args.batch),
                "concurrent": pairs(backend, traffic, expected, args.pairs, args.batch),
            }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
