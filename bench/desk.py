"""Desk latency: account 360, entity pivot and linked accounts on a large lake; the queue page
and claim-next with 100,000 open cases.

Prints one JSON line. The lake is built once and kept under a cache folder reused across runs
(`--cache`, default ~/.cache/abusedesk-bench): the simulator writes DAYS at SCALE, ingest takes
it in without detection into a SQLite workspace, and for PostgreSQL the registry tables are
copied into a database of their own (the lake is shared). How long each step took is kept in
`build.json` there and printed with the figures.

    .venv/bin/python bench/desk.py                        # days 7, scale 38: 20.6 M events
    .venv/bin/python bench/desk.py --days 3 --scale 3     # a small lake, minutes to build
    .venv/bin/python bench/desk.py --backends sqlite

Latencies are per call, in ms, after one warm-up pass over the same inputs (the lake's files in
the page cache, as on a server that has been up a while); each account and entity is asked
`--repeat` times.

Case work (`--cases`, default 100,000): a database of its own per backend (`cases.db` in the
cache folder; the PostgreSQL database `abusedesk_bench_cases`), made afresh on every run with that
many open cases spread over the shipped queues, priorities and due times (a fifth assigned). The
queue page is the first page of 50 and the page after it of each queue's open cases, most urgent
first (`GET /v1/cases?queue=Q&status=open`); claim-next is `--claims` claims from the queues an
analyst may work, each one transaction with its timeline entry and audit row.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import create_engine, func, insert, select, text

from abusedesk.cases.assignment import do_claim_next_case
from abusedesk.cases.desk import default_desk
from abusedesk.cases.read import page_cases
from abusedesk.cases.sla import clocks
from abusedesk.clock import SystemClock
from abusedesk.investigate.account import Limits, account_360
from abusedesk.investigate.linked import linked_accounts
from abusedesk.investigate.pivot import entity_pivot
from abusedesk.settings import Settings
from abusedesk.sim.generator import generate
from abusedesk.storage import db
from abusedesk.storage.models import Account, Base, Case, Entity
from abusedesk.workspace import Workspace

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/abusedesk_bench_desk"
PG_CASES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/abusedesk_bench_cases"
COPIED = ("accounts", "entities", "account_entities", "cases", "reports")  # reports name cases


def log(message: str) -> None:
    sys.stderr.write(f"[desk] {message}\n")
    sys.stderr.flush()


def build(cache: Path, days: int, scale: float, seed: int, first: int | None) -> dict[str, Any]:
    """Generate and ingest once; later runs read build.json. With `first`, only the first
    lines of the generated traffic go in (into a workspace of their own): a partial lake for a
    machine that cannot ingest all of it in time."""
    sim = cache / "sim"
    generated_path = cache / "build.json"
    generated: dict[str, Any] = (
        json.loads(generated_path.read_text()) if generated_path.exists() else {}
    )
    if first is not None and "generate_s" in generated:
        part = cache / f"first{first}"
        part.mkdir(exist_ok=True)
        source = part / "events.jsonl"
        if not source.exists():
            with (sim / "events.jsonl").open("rb") as src, source.open("wb") as dst:
                for i, line in enumerate(src):
                    if i >= first:
                        break
                    dst.write(line)
        cache = part
        sim = part
    info_path = cache / "build.json"
    info: dict[str, Any] = json.loads(info_path.read_text()) if info_path.exists() else {}
    if "generate_s" in generated:
        info.setdefault("generate_s", generated["generate_s"])
    if "generate_s" not in info:
        log(f"generating days={days} scale={scale} into {sim}")
        started = time.perf_counter()
        summary = generate(sim, days=days, seed=seed, scale=scale)
        info |= {"generate_s": round(time.perf_counter() - started, 1), "events": summary.events}
        info_path.write_text(json.dumps(info))
    if "ingest_s" not in info:
        log("ingesting without detection (SQLite workspace)")
        ws = Workspace(Settings(home=cache / "home"))
        started = time.perf_counter()
        result = ws.ingestor(actor="bench").ingest_paths([sim / "events.jsonl"])
        info |= {"ingest_s": round(time.perf_counter() - started, 1), "accepted": result.accepted}
        ws.close()
        info_path.write_text(json.dumps(info))
    return info


def copy_to_postgresql(cache: Path, url: str, info: dict[str, Any]) -> None:
    """The registry and reports of the SQLite workspace, copied into a PostgreSQL database."""
    if info.get("pg_url") == url and "pg_copy_s" in info:
        return
    admin_url, name = url.rsplit("/", 1)
    admin = create_engine(admin_url + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    log("copying the registry to PostgreSQL")
    started = time.perf_counter()
    source = db.make_engine(f"sqlite:///{cache / 'home' / 'abusedesk.db'}")
    target = db.make_engine(url)
    db.upgrade(target)
    for name in COPIED:
        table = Base.metadata.tables[name]
        with source.connect() as src, target.begin() as dst:
            result = src.execution_options(stream_results=True).execute(select(table))
            while rows := result.fetchmany(20_000):
                dst.execute(insert(table), [dict(r._mapping) for r in rows])
    with target.begin() as dst:
        dst.execute(text("SELECT setval('entities_id_seq', (SELECT max(id) FROM entities))"))
        dst.execute(text("SELECT setval('cases_id_seq', greatest(1, (SELECT max(id) FROM cases)))"))
        dst.execute(text("ANALYZE"))
    info |= {"pg_url": url, "pg_copy_s": round(time.perf_counter() - started, 1)}
    (cache / "build.json").write_text(json.dumps(info))


def pick(ws: Workspace, n: int, seed: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Accounts (the busiest third, the rest at random) and entities (random per kind)."""
    rng = random.Random(seed)
    with ws.store.sessions() as session:
        busiest = list(
            session.execute(
                select(Account.account_id).order_by(Account.event_count.desc()).limit(n // 3)
            ).scalars()
        )
        others = list(
            session.execute(
                select(Account.account_id)
                .where(Account.event_count > 100)
                .order_by(Account.account_id)
            ).scalars()
        )
        accounts = busiest + rng.sample(others, min(n - len(busiest), len(others)))
        entities: list[tuple[str, str]] = []
        kinds = {"phone": "number", "ip": "ip", "device": "device", "payment": "payment",
                 "domain": "domain", "email": "address"}  # fmt: skip
        for kind, asked_as in kinds.items():
            total = session.execute(
                select(func.count()).select_from(Entity).where(Entity.kind == kind)
            ).scalar_one()
            for offset in rng.sample(range(total), min(total, max(n // len(kinds), 1))):
                value = session.execute(
                    select(Entity.value).where(Entity.kind == kind).order_by(Entity.id)
                    .offset(offset).limit(1)
                ).scalar_one()  # fmt: skip
                entities.append((asked_as, value))
    return accounts, entities


def timed(calls: list[Callable[[], Any]], repeat: int) -> dict[str, Any]:
    for call in calls:  # warm-up: file cache, DuckDB metadata
        call()
    samples = []
    for _ in range(repeat):
        for call in calls:
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
    return summarise(samples)


def summarise(samples: list[float]) -> dict[str, Any]:
    cuts = statistics.quantiles(samples, n=100)
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(cuts[94], 1),
        "max_ms": round(max(samples), 1),
    }


def measure(ws: Workspace, n: int, repeat: int, seed: int) -> dict[str, Any]:
    accounts, entities = pick(ws, n, seed)
    s = ws.settings
    limits = Limits(days=s.investigate_days, sample=s.investigate_sample_size)

    # One lake reader per call, as the API opens one per request.
    def a360(account: str) -> Callable[[], Any]:
        def call() -> Any:
            lake = ws.account_lake()
            return account_360(ws.store, lake, account, limits)

        return call

    def pivot(kind: str, value: str) -> Callable[[], Any]:
        def call() -> Any:
            lake = ws.account_lake()
            return entity_pivot(ws.store, lake, kind, value, days=s.investigate_days,
                                sample=s.investigate_sample_size)  # fmt: skip

        return call

    def linked(account: str) -> Callable[[], Any]:
        return lambda: linked_accounts(ws.store, account, common=s.investigate_common_entity)

    return {
        "accounts": len(accounts),
        "entities": len(entities),
        "account_360": timed([a360(a) for a in accounts], repeat),
        "entity_pivot": timed([pivot(k, v) for k, v in entities], repeat),
        "linked": timed([linked(a) for a in accounts], repeat),
    }


def fresh_database(url: str) -> None:
    admin_url, name = url.rsplit("/", 1)
    admin = create_engine(admin_url + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build_cases(store: db.Store, count: int, seed: int) -> float:
    """`count` open cases over the shipped queues, as detection and intake open them: one per
    account and policy, clocks from the queue's SLA; seconds taken."""
    rng = random.Random(seed)
    desk = default_desk()
    now = SystemClock().now()
    started = time.perf_counter()
    statuses = ("new",) * 6 + ("triage", "investigating", "pending_customer", "actioned")
    with store.engine.begin() as conn:
        rows = []
        for i in range(count):
            queue = desk.queues.order[i % len(desk.queues.order)]
            priority = rng.choice(("P1", "P2", "P2", "P3", "P3", "P3", "P4", "P4"))
            opened = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
            first_due, due = clocks(desk.queues.get(queue), priority, opened)
            status = rng.choice(statuses)
            rows.append(
                {
                    "account_id": f"BENCH{i:07d}",
                    "policy": rng.choice(("spam", "phishing", "artificially-inflated-traffic")),
                    "queue": queue,
                    "priority": priority,
                    "status": status,
                    "title": "bench case",
                    "rules": [],
                    "severity": "medium",
                    "signal_count": 1,
                    "source": "detection",
                    "opened_at": opened,
                    "updated_at": opened,
                    "first_signal_at": opened,
                    "last_signal_at": opened,
                    "first_response_due_at": first_due,
                    "resolution_due_at": due,
                    "assignee": f"analyst{i % 40}" if rng.random() < 0.2 else None,
                    "escalations": 0,
                }
            )
            if len(rows) == 10_000:
                conn.execute(insert(Case), rows)
                rows = []
        if rows:
            conn.execute(insert(Case), rows)
        if store.dialect == "postgresql":
            conn.execute(text("ANALYZE cases"))
        else:
            conn.execute(text("ANALYZE"))
    return round(time.perf_counter() - started, 1)


def measure_cases(store: db.Store, claims: int) -> dict[str, Any]:
    desk = default_desk()
    clock = SystemClock()
    with store.sessions() as session:
        open_cases = session.execute(
            select(func.count()).select_from(Case).where(Case.status != "closed")
        ).scalar_one()

    def page(queue: str, cursor: str | None) -> Callable[[], Any]:
        return lambda: page_cases(store, queue=queue, status="open", limit=50, cursor=cursor)

    calls = []
    for queue in desk.queues.order:
        _rows, after = page_cases(store, queue=queue, status="open", limit=50)
        calls.append(page(queue, None))
        if after:
            calls.append(page(queue, after))
    pages = timed(calls, repeat=5)
    queues = desk.queues.workable_by("analyst")
    samples = []
    claimed = 0
    for i in range(claims):
        started = time.perf_counter()
        case_id = do_claim_next_case(store, clock, analyst=f"bench{i % 7}", queues=queues)
        samples.append((time.perf_counter() - started) * 1000)
        claimed += case_id is not None
    return {
        "open_cases": open_cases,
        "queue_page": pages,
        "claim_next": summarise(samples) | {"claimed": claimed},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", type=float, default=38.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "abusedesk-bench")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--parts", default="lake,cases", help="lake, cases or both.")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--pg-cases-url", default=PG_CASES_URL)
    parser.add_argument("--sample", type=int, default=30, help="Accounts and entities asked.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--first", type=int, help="Ingest only this many of the events.")
    parser.add_argument("--cases", type=int, default=100_000, help="Open cases for case work.")
    parser.add_argument("--claims", type=int, default=300, help="Claim-next calls timed.")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    cache = args.cache / f"desk-d{args.days}-s{args.scale:g}-seed{args.seed}"
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"bench": "desk"}
    info: dict[str, Any] = {}
    if "lake" in parts:
        info = build(cache, args.days, args.scale, args.seed, args.first)
        if args.first is not None:
            cache = cache / f"first{args.first}"
        lake = cache / "home" / "lake" / "events"
        lake_files = list(lake.glob("type=*/day=*/part-*.parquet"))
        out |= {
            "days": args.days,
            "scale": args.scale,
            # Rows in the lake (Parquet footers): what the reads run against, also when an
            # ingest was resumed (its `accepted` counts only the events it added).
            "events": sum(pq.ParquetFile(p).metadata.num_rows for p in lake_files),
            "accepted": info.get("accepted"),
            "first": args.first,
            "lake_files": len(lake_files),
            "lake_mb": round(sum(p.stat().st_size for p in lake_files) / 1e6),
            "build": {k: v for k, v in info.items() if k.endswith("_s")},
        }
    for backend in args.backends.split(","):
        result: dict[str, Any] = {}
        if "lake" in parts:
            url = None
            if backend == "postgresql":
                copy_to_postgresql(cache, args.pg_url, info)
                url = args.pg_url
                out["build"]["pg_copy_s"] = info["pg_copy_s"]
            log(f"measuring the lake reads on {backend}")
            ws = Workspace(Settings(home=cache / "home", database_url=url))
            result |= measure(ws, args.sample, args.repeat, args.seed)
            ws.close()
        if "cases" in parts:
            if backend == "postgresql":
                cases_url = args.pg_cases_url
                fresh_database(cases_url)
            else:
                cases_db = cache / "cases.db"
                for leftover in cache.glob("cases.db*"):
                    leftover.unlink()
                cases_url = f"sqlite:///{cases_db}"
            log(f"opening {args.cases} cases on {backend}")
            store = db.Store(cases_url)
            made = build_cases(store, args.cases, args.seed)
            log(f"measuring case work on {backend}")
            result |= measure_cases(store, args.claims) | {"cases_build_s": made}
            store.close()
        out[backend] = result
    print(json.dumps(out))


if __name__ == "__main__":
    main()
