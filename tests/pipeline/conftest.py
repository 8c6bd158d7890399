"""Fixtures shared by the pipeline tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "abusedesk")


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated day (seed 3, scale 0.05) from the CLI, made once per test module."""
    sim = tmp_path_factory.mktemp("sim") / "sim"
    subprocess.run(
        [CLI, "sim", "generate", str(sim), "--days", "1", "--seed", "3", "--scale", "0.05"],
        check=True,
        capture_output=True,
    )
    return sim / "events.jsonl"
