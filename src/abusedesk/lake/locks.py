"""File locks that let ingest processes share one lake.

- The lake lock (`<lake>/.lake.lock`, exclusive) is held for short moments: while a run opens
  (so recovery never mistakes a starting run for a dead one), while recovery finishes dead
  runs' batches, and while compaction merges a partition (so two compactions never merge the
  same files).
- Each running ingest holds its run lock (`<lake>/.runs/run-<id>.lock`) until it ends. The
  kernel drops it when the process dies, even by `kill -9`: a run whose row says "running" but
  whose lock can be taken is dead, and recovery finishes it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def lake_lock(lake: Path) -> Iterator[None]:
    lake.mkdir(parents=True, exist_ok=True)
    fd = os.open(lake / ".lake.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


class RunLock:
    """Held by a live ingest run; `release()` at its end (or the kernel, at its death)."""

    def __init__(self, lake: Path, run_id: int) -> None:
        self.path = run_lock_path(lake, run_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def run_lock_path(lake: Path, run_id: int) -> Path:
    return lake / ".runs" / f"run-{run_id}.lock"


def run_is_alive(lake: Path, run_id: int) -> bool:
    """True while another process holds the run's lock."""
    path = run_lock_path(lake, run_id)
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
