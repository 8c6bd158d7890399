"""Same seed, same bytes; another seed, other bytes; one scenario never reshuffles another."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from abusedesk.sim.generator import generate
from abusedesk.sim.scenarios import REGISTRY

from .conftest import Run

FILES = ("events.jsonl", "labels.json", "truth.json")


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in FILES}


def test_same_seed_gives_identical_files(tmp_path: Path, small_run: Run) -> None:
    generate(tmp_path, days=1, seed=7, scale=0.2, variety="low")  # as `small_run`
    assert _bytes(tmp_path) == _bytes(small_run.out_dir)


def test_another_seed_gives_other_traffic(tmp_path: Path, small_run: Run) -> None:
    generate(tmp_path, days=1, seed=8, scale=0.2)
    a, b = _bytes(tmp_path), _bytes(small_run.out_dir)
    assert all(a[name] != b[name] for name in FILES)


def _per_account(out: Path) -> dict[str, list[dict[str, Any]]]:
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with (out / "events.jsonl").open("rb") as fh:
        for line in fh:
            event = orjson.loads(line)
            event.pop("id")  # the file-wide counter shifts when other accounts come or go
            by_account[event.get("account_id", "-")].append(event)
    return by_account


def test_dropping_a_scenario_leaves_every_other_account_unchanged(
    tmp_path: Path, small_run: Run
) -> None:
    fewer = {name: None for name in REGISTRY if name != "snowshoe"}
    generate(tmp_path, days=1, seed=7, scale=0.2, scenarios=fewer, variety="low")
    full, part = _per_account(small_run.out_dir), _per_account(tmp_path)
    labels = orjson.loads((small_run.out_dir / "labels.json").read_bytes())
    snowshoe = {a for a, label in labels.items() if label == "snowshoe"}
    assert snowshoe
    assert not snowshoe & set(part)
    for account, events in part.items():
        assert full[account] == events, account


def test_the_default_start_is_fixed(small_run: Run) -> None:
    assert small_run.summary.start.isoformat() == "2026-03-02T00:00:00+00:00"
    first_in_window = None
    with (small_run.out_dir / "events.jsonl").open("rb") as fh:
        for line in fh:
            ts = orjson.loads(line)["ts"]
            if ts >= "2026-03-02":
                first_in_window = ts
                break
    assert first_in_window is not None
    assert first_in_window.startswith("2026-03-02T00:")
