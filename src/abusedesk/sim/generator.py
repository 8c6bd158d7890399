"""`generate`: run the population hour by hour and write events, labels and truth.

Output files:
  events.jsonl  canonical events (docs/events.md), sorted by ts, ties in emission order
  complaints.mbox  the FBL complaints that reach the desk before the message log: ARF reports
                without account headers (sim/fbl.py; ingest it before events.jsonl)
  labels.json   {account_id: "legit" | scenario name}
  truth.json    {account_id: {label, kind, abuse_start, notes}}
The events file is written to a temporary name and renamed at the end, so a reader never sees
half a run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink, JsonlWriter
from abusedesk.sim.fbl import COMPLAINTS_FILE, EARLY_COMPLAINTS, write_mbox
from abusedesk.sim.ids import derive_seed
from abusedesk.sim.population import LegitMix, build_population
from abusedesk.sim.timeutil import DAY, DEFAULT_START, HOUR, from_epoch, to_epoch
from abusedesk.sim.variety import VARIETIES

EVENTS_FILE = "events.jsonl"
LABELS_FILE = "labels.json"
TRUTH_FILE = "truth.json"


@dataclass(frozen=True, slots=True)
class SimSummary:
    out_dir: Path
    seed: int
    days: int
    scale: float
    variety: str
    start: datetime
    end: datetime
    events: int
    events_by_type: dict[str, int]
    accounts_by_label: dict[str, int]
    files: tuple[Path, ...]
    early_complaints: int = 0  # ARF reports in complaints.mbox (not in events_by_type)

    @property
    def accounts(self) -> int:
        return sum(self.accounts_by_label.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "seed": self.seed,
            "days": self.days,
            "scale": self.scale,
            "variety": self.variety,
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "end": self.end.isoformat().replace("+00:00", "Z"),
            "events": self.events,
            "events_by_type": self.events_by_type,
            "early_complaints": self.early_complaints,
            "accounts": self.accounts,
            "accounts_by_label": self.accounts_by_label,
            "files": [str(f) for f in self.files],
        }


def generate(
    out_dir: Path,
    *,
    days: int = 3,
    seed: int = 7,
    scale: float = 1.0,
    start: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    scenarios: Mapping[str, Any] | None = None,
    mix: LegitMix | None = None,
    variety: str = "realistic",
    early_complaints: float = EARLY_COMPLAINTS,
) -> SimSummary:
    """Simulate `days` of platform traffic into `out_dir`; deterministic for (seed, arguments).

    `progress` is called after each simulated hour with the number of hours done (of days * 24).
    `scenarios` picks scenarios and their parameters (name -> params dataclass, or None for the
    defaults); all of them with defaults when omitted. `mix` overrides the legitimate mix.
    `variety` (low, realistic, wide) sets how varied legitimate behaviour is (sim/variety.py).
    `early_complaints` is the share of FBL complaints that reach the desk before the message
    log, as ARF reports without account headers in complaints.mbox (sim/fbl.py).
    """
    if not 0.0 <= early_complaints <= 1.0:
        raise ValueError(f"early_complaints must be between 0 and 1, not {early_complaints}")
    if variety not in VARIETIES:
        raise ValueError(f"variety must be one of {', '.join(VARIETIES)}, not {variety!r}")
    if days < 1:
        raise ValueError("days must be at least 1")
    if not scale > 0:
        raise ValueError("scale must be positive")
    t_start = to_epoch(start or DEFAULT_START)
    t_start -= t_start % HOUR  # slices are whole UTC hours
    ctx = SimContext(
        seed=seed, start=t_start, end=t_start + days * DAY, scale=scale, variety=variety
    )
    population = build_population(ctx, scenarios, mix)

    out_dir.mkdir(parents=True, exist_ok=True)
    events_path = out_dir / EVENTS_FILE
    tmp = out_dir / (EVENTS_FILE + ".partial")
    sink = EventSink(early_complaints)
    prefix = f"evt_{derive_seed('events', seed, t_start) % 16**6:06x}_"
    with tmp.open("wb") as fh:
        writer = JsonlWriter(fh, prefix)
        for actor in population.actors:
            actor.begin(sink)
        writer.write(sink.pop_before(ctx.start))
        for h in range(ctx.hours):
            t0 = ctx.start + h * HOUR
            sink.floor = t0
            for actor in population.actors:
                actor.hour(t0, sink)
            for source in population.sources:
                source.hour(t0, sink)
            writer.write(sink.pop_before(t0 + HOUR))
            if progress is not None:
                progress(h + 1)
        # Receipts and replies still in flight at the end belong to the next window: dropped.
    os.replace(tmp, events_path)
    complaints_path = out_dir / COMPLAINTS_FILE
    with complaints_path.open("wb") as fh:  # written even when empty: one layout for readers
        early = write_mbox(fh, [c for c in sink.early if c.ts < ctx.end])

    labels = {a.account_id: a.label for a in population.actors}
    truth = {a.account_id: a.truth() for a in population.actors}
    opts = orjson.OPT_INDENT_2
    labels_path, truth_path = out_dir / LABELS_FILE, out_dir / TRUTH_FILE
    labels_path.write_bytes(orjson.dumps(labels, option=opts) + b"\n")
    truth_path.write_bytes(orjson.dumps(truth, option=opts) + b"\n")
    return SimSummary(
        out_dir=out_dir,
        seed=seed,
        days=days,
        scale=scale,
        variety=variety,
        start=from_epoch(ctx.start),
        end=from_epoch(ctx.end),
        events=writer.count,
        events_by_type=dict(sorted(writer.by_type.items())),
        accounts_by_label=dict(sorted(Counter(labels.values()).items())),
        files=(events_path, complaints_path, labels_path, truth_path),
        early_complaints=early,
    )
