"""Fixtures shared by the pipeline tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "abusedesk")


def simulate_day(folder: Path, seed: int) -> Path:
    """One simulated day (scale 0.05) from the CLI into `folder`/sim; returns that folder."""
    sim = folder / "sim"
    subprocess.run(
        [CLI, "sim", "generate", str(sim), "--days", "1", "--seed", str(seed), "--scale", "0.05"],
        check=True,
        capture_output=True,
    )
    return sim


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated day (seed 3, scale 0.05) from the CLI, made once per test module."""
    return simulate_day(tmp_path_factory.mktemp("sim"), 3) / "events.jsonl"


@pytest.fixture(scope="module")
def seed7(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench/faults.py's traffic: 19,200 events, and one early complaint (complaints.mbox)."""
    return simulate_day(tmp_path_factory.mktemp("sim7"), 7)
