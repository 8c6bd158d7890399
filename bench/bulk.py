"""Bulk suspension: 10,000 accounts suspended by one bulk job, one signed webhook per account
delivered to a local receiver running in its own process. Prints one JSON line.

The job is planned (each account's ladder proposal), approved by a second person, run in
chunks of 500 actions per transaction, then the outbox is drained with
ABUSEDESK_OUTBOX_CONCURRENCY deliveries in flight. The receiver verifies every signature and
counts deliveries by id; the run meets its target when the whole takes under 60 s and every
webhook arrived exactly once.

    python bench/bulk.py [--accounts 10000] [--database sqlite|postgresql]

With `--database postgresql` the run uses a fresh database made on the server of `--pg-url`
(an admin URL; default the local server with trust auth) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from abusedesk.enforcement.bulk import do_approve_bulk, do_plan_bulk, do_run_bulk
from abusedesk.enforcement.receiver import WebhookReceiver
from abusedesk.settings import Settings
from abusedesk.workspace import Workspace

SECRET = "bench-secret"


def _serve(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    receiver = WebhookReceiver(SECRET).start()
    queue.put(receiver.url)
    while True:
        time.sleep(3600)


@contextmanager
def _database(kind: str, pg_url: str, home: Path) -> Iterator[str]:
    """The URL of an empty database of the kind asked for; a PostgreSQL one is dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{home / 'bench.db'}"
        return
    name = f"abusedesk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="admin URL of the PostgreSQL server (--database postgresql)",
    )
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    url = queue.get(timeout=30)
    stats_url = url.rsplit("/", 2)[0] + "/stats"
    with (
        tempfile.TemporaryDirectory() as home,
        _database(args.database, args.pg_url, Path(home)) as database_url,
    ):
        settings = Settings(
            home=Path(home), database_url=database_url, webhook_url=url, webhook_secret=SECRET
        )
        with Workspace(settings) as ws:
            enf = ws.enforcement()
            accounts = [f"AC{i:06d}" for i in range(args.accounts)]
            size = settings.bulk_approval_size
            started = time.perf_counter()
            job, _items = do_plan_bulk(
                enf,
                accounts=accounts,
                selector={"accounts": "bench"},
                policy="phishing",
                reason="phishing kit shared by the ring",
                actor="analyst",
                approval_size=size,
            )
            planned = time.perf_counter()
            do_approve_bulk(enf, job_id=job.id, actor="lead", approval_size=size)
            view = do_run_bulk(enf, job_id=job.id, actor="analyst", approval_size=size)
            ran = time.perf_counter()
            outbox = ws.outbox()
            delivery = outbox.drain()
            outbox.close()
            delivered = time.perf_counter()
    stats = httpx.get(stats_url, timeout=10).json()
    server.terminate()
    total = delivered - started
    exactly_once = (
        stats["accepted"] == args.accounts
        and stats["received"] == args.accounts
        and stats["duplicates"] == 0
        and stats["rejected"] == 0
    )
    line = {
        "bench": "bulk",
        "accounts": args.accounts,
        "actions_done": view.done,
        "actions_failed": view.failed,
        "plan_s": round(planned - started, 2),
        "run_s": round(ran - planned, 2),
        "deliver_s": round(delivered - ran, 2),
        "total_s": round(total, 2),
        "webhooks_sent": delivery.sent,
        "webhooks_received": stats["received"],
        "webhooks_accepted": stats["accepted"],
        "webhooks_duplicated": stats["duplicates"],
        "exactly_once": exactly_once,
        "target_s": 60,
        "met": exactly_once and total < 60,
        "database": args.database,
    }
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
