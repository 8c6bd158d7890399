"""Per-account lake reads under three layouts of the same events (docs/adr/0004).

Copies the traffic partitions (message, delivery, complaint, opt_out) of a workspace's lake
three ways and times the account 360's lake reads (daily traffic, error codes, destination
prefixes, message sample) for the same accounts on each. Prints one JSON line.

    ts       sorted by time, default row groups (up to 1 Mi rows): compaction before 0004
    acct-1m  sorted by account, default row groups
    acct-32k sorted by account, 32,768-row groups: compaction now

    .venv/bin/python bench/lake_layout.py ~/.cache/abusedesk-bench/desk-d7-s3-seed7/home
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from abusedesk.investigate.lake_reads import AccountLake, DayRange
from abusedesk.investigate.window import days_ending
from abusedesk.settings import Settings
from abusedesk.storage.models import Account
from abusedesk.workspace import Workspace

TYPES = ("message", "delivery", "complaint", "opt_out")
LAYOUTS: dict[str, tuple[list[tuple[str, str]], int | None]] = {
    "ts": ([("ts", "ascending"), ("id", "ascending")], None),
    "acct-1m": ([("account_id", "ascending"), ("ts", "ascending")], None),
    "acct-32k": ([("account_id", "ascending"), ("ts", "ascending")], 32_768),
}


def copy(src: Path, dst: Path, sort: list[tuple[str, str]], row_group: int | None) -> None:
    for etype in TYPES:
        for folder in sorted((src / "events" / f"type={etype}").glob("day=*")):
            table = pq.read_table(sorted(folder.glob("part-*.parquet")))
            out = dst / "events" / f"type={etype}" / folder.name
            out.mkdir(parents=True, exist_ok=True)
            # Hive columns come back from read_table; the lake keeps them in folder names only.
            table = table.drop_columns([c for c in ("type", "day") if c in table.column_names])
            pq.write_table(
                table.sort_by(sort), out / "part-0.parquet", compression="zstd",
                row_group_size=row_group,
            )  # fmt: skip


def reads(lake: AccountLake, account: str, window: DayRange) -> None:
    """The lake reads of one account 360."""
    lake.traffic(account, window, codes=20, prefixes=2000)
    lake.message_sample([account], window, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--accounts", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ws = Workspace(Settings(home=args.home))
    with ws.store.sessions() as session:
        ranked = list(session.execute(
            select(Account.account_id, Account.last_seen).where(Account.event_count > 100)
            .order_by(Account.event_count.desc())
        ).all())  # fmt: skip
    rng = random.Random(7)
    third = args.accounts // 3
    chosen = ranked[:third] + rng.sample(ranked[third:], args.accounts - third)
    out: dict[str, Any] = {"bench": "lake_layout", "accounts": len(chosen)}
    with tempfile.TemporaryDirectory(prefix="abusedesk-layout-") as tmp:
        for name, (sort, row_group) in LAYOUTS.items():
            lake_dir = Path(tmp) / name
            copy(ws.lake_dir, lake_dir, sort, row_group)
            lake = AccountLake(lake_dir, timeout_s=60)
            windows = [(account, days_ending(last_seen, 30)) for account, last_seen in chosen]
            for account, window in windows:  # warm-up
                reads(lake, account, window)
            samples = []
            for _ in range(args.repeat):
                for account, window in windows:
                    started = time.perf_counter()
                    reads(lake, account, window)
                    samples.append((time.perf_counter() - started) * 1000)
            lake.close()
            out[name] = {
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(statistics.quantiles(samples, n=100)[94], 1),
                "mb": round(sum(p.stat().st_size for p in lake_dir.rglob("*.parquet")) / 1e6),
            }
            shutil.rmtree(lake_dir)
    ws.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
