"""Shared by the detection tests: simulated traffic as validated events in stream order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from abusedesk.events.schema import Event, validate_event
from abusedesk.sim.generator import generate

SimulatedDay = Callable[[Path, int, float], list[Event]]


def _simulated_day(folder: Path, seed: int, scale: float) -> list[Event]:
    generate(folder, days=1, seed=seed, scale=scale)
    with (folder / "events.jsonl").open("rb") as fh:
        events = [validate_event(orjson.loads(line)) for line in fh]
    return sorted(events, key=lambda e: (e.ts, e.id))


@pytest.fixture(scope="session")
def simulated_day() -> SimulatedDay:
    """simulated_day(folder, seed, scale): one simulated day into `folder`, as events in
    (ts, id) order."""
    return _simulated_day
