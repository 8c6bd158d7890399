"""Fault campaign for ingest: kill -9 at random instants, concurrent overlapping ingests.

Prints one JSON line of counts. For each backend (SQLite; PostgreSQL when reachable):

- `kills`: an `abusedesk ingest` (with detection) of simulated traffic is killed with SIGKILL
  at a random instant, then rerun to the end; after the rerun the lake must hold each event id
  exactly once, as many rows as the idempotency index holds ids, every input event, and the
  same cases (account, policy) as a clean run. With `--early-complaints` the ingest reads the
  simulator's complaints.mbox (complaints sent before the message log) ahead of the events, so
  kills also land while a report waits for its message or a linked complaint is held back.
- `pairs`: two ingests of overlapping halves of the traffic run at once, with small batches so
  compaction triggers; both must succeed and every event be in the lake exactly once.

    python bench/faults.py [--kills 30] [--pairs 10] [--backends sqlite,postgresql]
                           [--sections hostile,far,kill,pairs] [--early-complaints]

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
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
    return {
        "rows": rows,
        "distinct": distinct,
        "ids": ids,
        "cases": cases,
        "runs": statuses,
        "files": len(files),
    }


def _ingest(path: Path | tuple[Path, ...], env: dict[str, str]) -> subprocess.Popen[bytes]:
    paths = (path,) if isinstance(path, Path) else path
    return subprocess.Popen(
        [*CLI, "ingest", *map(str, paths), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_lock(proc: subprocess.Popen[bytes], home: Path) -> float:
    """Wait until the run holds its lock (start-up, loading rules and enrichment data, takes
    seconds before that); returns the moment, perf_counter."""
    runs_dir = home / "lake" / ".runs"
    while proc.poll() is None and not any(runs_dir.glob("run-*.lock")):
        time.sleep(0.01)
    return time.perf_counter()


@dataclass(frozen=True)
class _KillSetup:
    backend: str
    traffic: tuple[Path, ...]
    expected: int
    batch: int
    clean: dict[str, Any]
    run_s: float


def _kill_trial(setup: _KillSetup, attempt: int) -> dict[str, Any] | None:
    """One attempt: None when the process ended before its instant (not a kill)."""
    backend, traffic, expected, batch = setup.backend, setup.traffic, setup.expected, setup.batch
    clean, run_s = setup.clean, setup.run_s
    rng = random.Random(1000 * attempt + 10)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "w"
        url = _database(backend, f"abusedesk_faults_{backend}_{attempt}")
        env = _env(home, url, batch)
        proc = _ingest(traffic, env)
        # A random instant within the clean run's length, from the moment it holds its lock.
        _wait_for_lock(proc, home)
        time.sleep(rng.uniform(0.0, run_s))
        if proc.poll() is not None:
            proc.wait()
            _drop(url)
            return None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rerun = subprocess.Popen(
            [*CLI, "ingest", *map(str, traffic), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        stdout, err = rerun.communicate()
        state = _state(home, url)
        _drop(url)
    problems = []
    rebuilt = 0
    if rerun.returncode != 0:
        problems.append(f"rerun exit {rerun.returncode}: {err.decode()[-200:]}")
    else:
        rebuilt = int(json.loads(stdout.decode().splitlines()[-1]).get("rebuilt_events", 0))
    if not state["rows"] == state["distinct"] == state["ids"] == expected:
        problems.append(f"rows {state['rows']} distinct {state['distinct']} ids {state['ids']}")
    if state["cases"] != clean["cases"]:
        missing = sorted(set(clean["cases"]) - set(state["cases"]))
        extra = sorted(set(state["cases"]) - set(clean["cases"]))
        problems.append(
            f"cases {len(state['cases'])} != clean {len(clean['cases'])}: "
            f"missing {missing[:5]} extra {extra[:5]}"
        )
    if "running" in state["runs"]:
        problems.append("a run is still marked running")
    result = {
        "attempt": attempt,
        "problems": problems,
        "interrupted": state["runs"].count("interrupted"),
        "rebuilt_events": rebuilt,
    }
    print(f"{backend} kill {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def kills(
    backend: str, traffic: tuple[Path, ...], expected: int, n: int, batch: int, *, jobs: int
) -> dict[str, Any]:
    """`expected`: the events of the traffic's events.jsonl; early complaints add their reports
    and linked complaints, so then the clean run's count (at least `expected`) is expected."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "clean"
        url = _database(backend, "abusedesk_faults_clean")
        proc = _ingest(traffic, _env(home, url, batch))
        locked = _wait_for_lock(proc, home)
        _, err = proc.communicate()
        # The run's own length: from taking its lock to its exit (start-up excluded).
        run_s = time.perf_counter() - locked
        if proc.returncode != 0:
            raise SystemExit(f"clean run failed: {err.decode()[-400:]}")
        clean = _state(home, url)
        _drop(url)
    if len(traffic) > 1:
        if not clean["rows"] == clean["distinct"] == clean["ids"] >= expected:
            raise SystemExit(f"clean run: {clean}")
        expected = clean["ids"]
    # kills: processes killed while alive (an attempt whose process ended before its instant
    # is replaced by another, up to 3n attempts); interrupted_marked: of those, runs killed
    # inside the run (between its start and its close), which recovery marked "interrupted";
    # rebuilt_reruns: reruns that rebuilt detection state from the dead run's events.
    out: dict[str, Any] = {
        "kills": 0,
        "ok": 0,
        "bad": [],
        "interrupted_marked": 0,
        "rebuilt_reruns": 0,
        "run_s": round(run_s, 1),
    }
    attempt = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while out["kills"] < n and attempt < 3 * n:
            wave = range(attempt + 1, attempt + 1 + min(n - out["kills"], 3 * n - attempt))
            attempt = wave[-1]
            setup = _KillSetup(backend, traffic, expected, batch, clean, run_s)
            trial = partial(_kill_trial, setup)
            for result in pool.map(trial, wave):
                if result is None:
                    continue
                out["kills"] += 1
                out["interrupted_marked"] += result["interrupted"]
                out["rebuilt_reruns"] += 1 if result["rebuilt_events"] else 0
                if result["problems"]:
                    out["bad"].append(
                        {"attempt": result["attempt"], "problems": result["problems"]}
                    )
                else:
                    out["ok"] += 1
    out["attempts"] = attempt
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
            url = _database(backend, f"abusedesk_pairs_{backend}_{trial}")
            env = _env(home, url, batch)
            # Both start on a fresh workspace: they also race to create the schema.
            procs = [_ingest(first, env), _ingest(second, env)]
            errors = [p.communicate()[1].decode()[-200:] for p in procs]
            codes = [p.returncode for p in procs]
            state = _state(home, url)
            _drop(url)
            out["failed_processes"] += sum(1 for c in codes if c != 0)
            # Without compaction the lake would hold one file per batch and partition.
            out["max_files"] = max(out.get("max_files", 0), state["files"])
            ok = codes == [0, 0] and state["rows"] == state["distinct"] == state["ids"] == expected
            if ok:
                out["ok"] += 1
            else:
                out["bad"].append({"trial": trial, "codes": codes, "errors": errors, **state})
            print(f"{backend} pair {trial} ok={ok} files={state['files']}", file=sys.stderr)
    return out


def hostile_corpus(path: Path, good: int) -> int:
    """Good events interleaved with one of every hostile class; returns how many are good."""
    base = {
        "type": "message",
        "ts": "2026-03-02T10:00:00Z",
        "account_id": "AC1",
        "message_id": "SM1",
        "channel": "sms",
        "from": "+15005550006",
        "to": "+37122345678",
    }

    def line(**changes: Any) -> bytes:
        return json.dumps({**base, **changes}).encode() + b"\n"

    deep = "[" * 600 + "]" * 600
    hostile = [
        b"{not json\n",
        b"\xef\xbb\xbf" + line(id="bom"),
        line(id="utf").replace(b"SM1", b"SM\xff"),
        b"[1, 2]\n",
        line(id="ts0", ts="0001-01-01T00:00:00+01:00"),
        line(id="ts9", ts="9999-12-31T23:59:59-01:00"),
        line(id="future", ts="2999-01-01T00:00:00Z"),
        line(id="past", ts="1000-01-01T00:00:00Z"),
        line(id="naive", ts="2026-03-02T10:00:00"),
        line(id="deep").replace(b'"type"', b'"x": ' + deep.encode() + b', "type"'),
        line(id="long-account", account_id="A" * 129),
        line(id="x" * 257),
        line(id="nul\u0000"),
        line(id="bigint", segments=2**70),
        line(id="choice", channel="fax"),
        line(id="missing", message_id=None),
        b'{"id": "long-line", "body": "' + b"x" * 1_100_000 + b'"}\n',
        b"\n   \n",
    ]
    with path.open("wb") as out:
        for i in range(good):
            out.write(line(id=f"g{i}", message_id=f"SM{i}"))
            if i % 10 == 0:
                out.write(hostile[(i // 10) % len(hostile)])
        for _ in range(200_000):  # a long run of nothing but bad lines
            out.write(b"{bad\n")
    return good


def hostile(backend: str, good: int, batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "hostile.jsonl"
        hostile_corpus(corpus, good)
        home = Path(tmp) / "w"
        url = _database(backend, "abusedesk_faults_hostile")
        env = _env(home, url, batch)
        proc = subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "%M",
                *CLI,
                "ingest",
                str(corpus),
                "--json",
            ],
            env=env,
            capture_output=True,
            check=False,
        )
        peak_mb = int(proc.stderr.decode().strip().splitlines()[-1]) / 1024
        state = _state(home, url)
        _drop(url)
        summary = json.loads(proc.stdout.decode().splitlines()[-1]) if proc.returncode == 0 else {}
    return {
        "exit": proc.returncode,
        "good": good,
        "kept": state["distinct"],
        "quarantined": summary.get("quarantined"),
        "peak_rss_mb": round(peak_mb, 1),
    }


def far_event(backend: str, traffic: Path, batch: int) -> dict[str, Any]:
    """Cases of the simulator's traffic, alone and with three more events: one dated far ahead
    and one far behind (for the busiest account), both quarantined, and one of an account of
    its own dated a day after the data, which is in the past, so ingest takes it in (it is
    not ahead of the wall clock) and, read first, it must move only its own keys' lateness
    clock. The cases must be equal."""
    first = json.loads(traffic.read_bytes().splitlines()[0])
    last = max(json.loads(line)["ts"] for line in traffic.read_bytes().splitlines())
    ahead = datetime.fromisoformat(last) + timedelta(days=1)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        mixed = Path(tmp) / "mixed.jsonl"
        far = [dict(first, id="far-future", ts="2999-01-01T00:00:00Z")]
        far.append(dict(first, id="far-past", ts="1970-01-01T00:00:00Z"))
        far.append(dict(first, id="ahead-of-data", account_id="ACahead", ts=ahead.isoformat()))
        lines = traffic.read_bytes().splitlines(keepends=True)
        middle = len(lines) // 2
        extra = [json.dumps(e).encode() + b"\n" for e in far]
        # The event ahead of the data goes in early: read before most of the traffic.
        mixed.write_bytes(
            b"".join(lines[:100] + extra[2:] + lines[100:middle] + extra[:2] + lines[middle:])
        )
        cases = []
        for name, source in (("clean", traffic), ("with_far_events", mixed)):
            home = Path(tmp) / name
            url = _database(backend, f"abusedesk_faults_{name}")
            proc = subprocess.run(
                [*CLI, "ingest", str(source), "--json"],
                env=_env(home, url, batch),
                capture_output=True,
                check=True,
            )
            summary = json.loads(proc.stdout.decode().splitlines()[-1])
            out[f"{name}_quarantined"] = summary["quarantined"]
            out[f"{name}_accepted"] = summary["accepted"]
            state = _state(home, url)
            _drop(url)
            cases.append(state["cases"])
        out["cases"] = len(cases[0])
        out["cases_equal"] = cases[0] == cases[1]
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
    parser.add_argument("--hostile-good", type=int, default=50_000)
    parser.add_argument("--sections", default="hostile,far,kill,pairs")
    parser.add_argument(
        "--early-complaints",
        action="store_true",
        help="kill trials read complaints.mbox before the events (late linking under kills)",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="kill trials run side by side, per backend"
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"bench": "faults"}
    started = time.perf_counter()
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
        report["early_complaints"] = args.early_complaints
        sections = args.sections.split(",")

        def run(backend: str) -> dict[str, Any] | str:
            if backend == "postgresql" and not _pg_reachable():
                return "unreachable"
            result: dict[str, Any] = {}
            if "hostile" in sections:
                result["hostile"] = hostile(backend, args.hostile_good, args.batch)
            if "far" in sections:
                result["far_event"] = far_event(backend, traffic, args.batch)
            if "kill" in sections:
                kill_input = (traffic,)
                if args.early_complaints:
                    kill_input = (sim / "complaints.mbox", traffic)
                result["kill"] = kills(
                    backend, kill_input, expected, args.kills, args.batch, jobs=args.jobs
                )
            if "pairs" in sections:
                result["concurrent"] = pairs(backend, traffic, expected, args.pairs, args.batch)
            return result

        # The backends run side by side: a trial is mostly process start-up (rules, content
        # models, enrichment data), so this halves the campaign on two cores.
        backends = args.backends.split(",")
        with ThreadPoolExecutor(max_workers=len(backends)) as pool:
            for backend, result in zip(backends, pool.map(run, backends), strict=True):
                report[backend] = result
        report["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
