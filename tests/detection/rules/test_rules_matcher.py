"""CompiledPack.match runs one generated function per event type; it must give exactly what
testing each rule's own compiled `when` in pack order gives, and still name a failing rule."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.rules import CompiledPack, RuleFailed
from abusedesk.detection.rules.pack import load_pack_text
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


# Tests of `type` in every position the per-type matchers decide at generation time, and some
# they must leave alone (reversed operands, NOT, a NULL in the list).
TYPE_RULES = [
    "type = 'message' AND price >= 1",
    "type IN ('message', 'call') AND price >= 1",
    "type = 'delivery' OR price >= 5",
    "(type = 'message' OR type = 'call') AND NOT (type = 'call' AND price >= 9)",
    "type IN ('delivery', NULL) OR price >= 7",
    "'message' = type AND price >= 2",
    "NOT type = 'message'",
    "type <> 'message' AND price >= 1",
    "type = 'call'",
    "price >= 3 OR type = 'message'",
]


def _type_pack() -> CompiledPack:
    rules = "".join(
        f"  - id: r{i}\n    description: d\n    policy: p\n    severity: low\n"
        f'    when: "{when}"\n    verdict: review\n    case: {{queue: q, priority: P3}}\n'
        for i, when in enumerate(TYPE_RULES)
    )
    analysis = load_pack_text(f"rules:\n{rules}", "types.yaml")
    assert analysis.ok, analysis.diagnostics
    return CompiledPack.from_analysis(analysis)


@pytest.mark.parametrize("etype", ["message", "call", "delivery", "report"])
@pytest.mark.parametrize("price", [None, 0, 1, 2, 3, 5, 7, 9])
def test_type_tests_decided_per_matcher_equal_each_rule(etype: str, price: int | None) -> None:
    compiled = _type_pack()
    row = {"type": etype, "price": price}
    expected = [rule.spec for rule in compiled.rules if rule.condition.test(row)]
    assert compiled.matcher(etype)({**dict.fromkeys(compiled.columns), **row}) == expected
    assert compiled.match(row) == expected
