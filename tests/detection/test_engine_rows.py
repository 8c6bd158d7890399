"""The detection engine's rows hold every name its generated code reads (None where absent),
and the generated code for such full rows (row[name]) gives exactly what the plain paths give
on any row (the generic feature engine, each rule's compiled test): feature values and matched
rules, event by event, on simulated traffic."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.features import FeatureEngine, MemoryStore
from abusedesk.events.schema import validate_event
from abusedesk.sim.generator import generate


def test_full_rows_give_what_any_row_gives(tmp_path: Path) -> None:
    generate(tmp_path, days=2, scale=0.2, seed=13)
    full = DetectionEngine.load()
    # Its own feature state, kept by the generic path (no generated code), read through row.get
    plain = FeatureEngine(
        full.features.features,
        MemoryStore(),
        fast=False,
        reads_by_type=full.reads.by_type,
        reads_other=full.reads.other,
    )
    needed = full.features.full_row_columns | full.pack.columns
    # The filters are inlined for full rows: they read their columns too.
    assert {"direction", "channel", "status", "is_hard_bounce"} <= full.features.full_row_columns
    matched = events = 0
    for line in (tmp_path / "events.jsonl").read_bytes().splitlines():
        event = validate_event(orjson.loads(line))
        row = full.row(event)
        assert needed <= row.keys()
        bare = {k: v for k, v in row.items() if v is not None}  # a row of only its values
        full.features.writer(event.type)(row)
        values = {name: row[name] for name in full.features.read_names(event.type)}
        assert values == plain.observe(bare), event.id
        bare.update(values)
        rules = full.pack.matcher(event.type)(row)
        assert rules == full.pack.match(bare), event.id
        matched += len(rules)
        events += 1
    assert events > 10_000
    assert matched > 0  # rules fire: the comparison is not of empty lists only


def test_a_row_missing_a_name_fails_loudly_in_full_row_code() -> None:
    """row[name] on a row without the name is a KeyError, never a silent None."""
    engine = DetectionEngine.load()
    with pytest.raises(KeyError):
        engine.pack.matcher("delivery")({"type": "delivery"})
