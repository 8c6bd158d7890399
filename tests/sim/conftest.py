"""Shared runs: the default run (seed 7, 3 days, scale 1) is generated once per session (once
for all xdist workers) and measured once per worker; the signature tests read the measurements."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from abusedesk.sim import engine
from abusedesk.sim.generator import SimSummary, generate

from .signals import Measured, measure

# Kinds whose outbound SMS get a recipient-local hour (quiet-hours checks).
LOCAL_HOUR_KINDS = frozenset(
    {"consent_violation", "marketing_sms", "outlier_flash_sale", "purchased_list"}
)


@dataclass
class Run:
    out_dir: Path
    summary: SimSummary
    max_pending: int  # most events held in memory at once (slice + in flight)


def _shared(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Run]) -> Run:
    """Build a run once per test session, even when xdist workers each ask for it.

    Workers share the parent of their base temp folder; a flock makes the first one build and
    the others wait and read its result. Without xdist the run simply lives in the session's
    temp folder (the parent would be shared with *other* sessions, so it is not used).
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return make(factory.mktemp(name))
    root = factory.getbasetemp().parent
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / f"{name}.pickle"
        if done.exists():
            run: Run = pickle.loads(done.read_bytes())
            return run
        run = make(root / name)
        done.write_bytes(pickle.dumps(run))
        return run


def _default(out: Path) -> Run:
    peak = 0
    original = engine.EventSink.pop_before

    def counting(self: engine.EventSink, limit: int) -> list[engine.Pending]:
        nonlocal peak
        peak = max(peak, len(self))
        return original(self, limit)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.EventSink, "pop_before", counting)
        # The narrow bands the profiles document; tests/sim/test_variety.py covers the spread.
        summary = generate(out, days=3, seed=7, scale=1.0, variety="low")
    return Run(out, summary, peak)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _shared(tmp_path_factory, "sim-default", _default)


@pytest.fixture(scope="session")
def measured(default_run: Run) -> Measured:
    return measure(default_run.out_dir, local_hours_for=LOCAL_HOUR_KINDS)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    def make(out: Path) -> Run:
        return Run(out, generate(out, days=1, seed=7, scale=0.2, variety="low"), 0)

    return _shared(tmp_path_factory, "sim-small", make)
