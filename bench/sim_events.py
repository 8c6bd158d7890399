"""Realistic mixed traffic for benchmarks: the simulator's output, cached per (days, scale, seed)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson

from abusedesk.events.schema import Event, validate_event
from abusedesk.sim.generator import generate

CACHE = Path(tempfile.gettempdir()) / "abusedesk-bench-sim"


def sim_file(days: int = 3, scale: float = 1.0, seed: int = 7, variety: str = "low") -> Path:
    """`variety` low by default: the traffic the engine and decision figures were first
    measured on, so they stay comparable (realistic traffic has ~30 % more events)."""
    suffix = "" if variety == "low" else f"-{variety}"
    folder = CACHE / f"d{days}-s{scale:g}-seed{seed}{suffix}"
    events = folder / "events.jsonl"
    if not events.exists():
        generate(folder, days=days, scale=scale, seed=seed, variety=variety)
    return events


def sim_events(
    days: int = 3, scale: float = 1.0, seed: int = 7, variety: str = "low"
) -> Iterator[Event]:
    with sim_file(days, scale, seed, variety).open("rb") as fh:
        for line in fh:
            yield validate_event(orjson.loads(line))
