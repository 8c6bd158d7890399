"""CompiledPack.match runs one generated function per event type; it must give exactly what
testing each rule's own compiled `when` in pack order gives, and still name a failing rule."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.rules import CompiledPack, RuleFailed
from abusedesk.events.schema import validate_event
from abusedesk.sim.generator import generate

GOOD = Path(__file__).parent / "packs" / "good.yaml"


def test_match_equals_each_rule_in_order_on_simulated_traffic(tmp_path: Path) -> None:
    generate(tmp_path, days=1, scale=0.2, seed=9)
    engine = DetectionEngine.load()
    pack = engine.pack
    matched = 0
    for line in (tmp_path / "events.jsonl").read_bytes().splitlines():
        row = engine.row(validate_event(orjson.loads(line)))
        row.update(engine.features.observe(row))
        expected = [rule.spec for rule in pack.rules if rule.condition.test(row)]
        assert pack.match(row) == expected
        matched += len(expected)
    assert matched > 0  # some rules fire, so the comparison is not of empty lists only


@pytest.mark.parametrize("etype", [None, "verification", "message"])
def test_a_row_of_the_wrong_shape_names_the_rule(etype: str | None) -> None:
    compiled = CompiledPack.load(GOOD)
    row = {"to_cost_tier": "high", "otp_starts_1h_by_prefix": "many"}
    if etype is not None:
        row["type"] = etype
    with pytest.raises(RuleFailed, match="sms-pumping-burst"):
        compiled.match(row)
