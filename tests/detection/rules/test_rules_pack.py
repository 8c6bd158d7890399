"""A pack end to end: the good pack is clean, compiles, matches rows; packs merge from folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from abusedesk.detection.rules import CompiledPack, PackInvalid, RuleFailed, run_tests
from abusedesk.detection.rules.diagnostics import Diagnostic
from abusedesk.detection.rules.pack import analyze_path, load_pack_text
from abusedesk.detection.spec import FeatureSpec, RulePack, RuleSpec

PACKS = Path(__file__).parent / "packs"
GOOD = PACKS / "good.yaml"


def load_pack(path: Path) -> tuple[RulePack | None, list[Diagnostic], dict[str, str]]:
    """(the pack, None when it has an error; every diagnostic; file -> text)."""
    analysis = analyze_path(path)
    return (analysis.pack if analysis.ok else None), analysis.diagnostics, analysis.sources


def test_good_pack_lints_clean() -> None:
    pack, diags, sources = load_pack(GOOD)
    assert diags == []
    assert pack is not None
    assert pack.name == "default"
    assert pack.files == (str(GOOD),)
    assert set(sources) == {str(GOOD)}
    kinds = {f.kind for f in pack.features}
    assert kinds == {"count", "sum", "distinct", "ratio", "age"}
    assert len(pack.rules) == 7


def test_good_pack_tests_pass() -> None:
    analysis = analyze_path(GOOD)
    outcomes = run_tests(CompiledPack.from_analysis(analysis), analysis.namespace)
    assert len(outcomes) == 17
    assert [o for o in outcomes if not o.passed] == []


def test_good_pack_specs() -> None:
    pack, _, _ = load_pack(GOOD)
    assert pack is not None
    features = {f.name: f for f in pack.features}
    ratio = features["otp_conversion_24h_by_country"]
    assert (ratio.kind, ratio.where, ratio.over) == (
        "ratio",
        "stage = 'check' AND success",
        "stage = 'start'",
    )
    assert (ratio.on, ratio.by, ratio.window_s) == (
        ("verification",),
        ("account_id", "to_country"),
        86400,
    )
    derived = features["bounce_rate_7d"]
    assert (derived.numerator, derived.denominator) == ("hard_bounces_7d", "email_sends_7d")
    assert (derived.by, derived.window_s, derived.on) == (("account_id",), 7 * 86400, ())
    assert features["spend_24h"].of == "price"
    assert features["distinct_prefixes_1h"].on == ("message", "call")
    age = features["account_age_h"]
    assert (age.kind, age.window_s, age.on) == ("age", None, ("account",))
    rules = {r.id: r for r in pack.rules}
    burst = rules["sms-pumping-burst"]
    assert (burst.severity, burst.verdict, burst.mode) == ("high", "block", "live")
    assert burst.case is not None
    assert (burst.case.queue, burst.case.priority) == ("fraud", "P1")
    assert burst.when_span is not None
    assert (burst.when_span.line, burst.when_span.col) == (24, 11)
    assert rules["quiet-hours-promotion"].case is None
    assert rules["prefix-spray"].mode == "shadow"
    assert rules["spam-model-with-link"].case is not None
    assert rules["spam-model-with-link"].case.priority == "P3"  # the default


def test_match_returns_every_true_rule_live_and_shadow() -> None:
    compiled = CompiledPack.load(GOOD)
    row = {
        "type": "call",
        "to_cost_tier": "high",
        "otp_starts_1h_by_prefix": 41,
        "otp_conversion_24h_by_country": 0.0,
        "distinct_prefixes_1h": 35,
    }
    assert [r.id for r in compiled.match(row)] == ["sms-pumping-burst", "prefix-spray"]
    assert compiled.match({}) == []
    values = compiled.values({"type": "call"})
    assert values["sms-pumping-burst"] is None
    assert values["prefix-spray"] is None


def test_features_get_compiled_filters() -> None:
    compiled = CompiledPack.load(GOOD)
    ratio = compiled.features["otp_conversion_24h_by_country"]
    assert ratio.over_fn is not None
    assert ratio.where_fn({"stage": "check", "success": True}) is True
    assert ratio.where_fn({"stage": "check"}) is False  # success NULL: not counted
    assert ratio.over_fn({"stage": "start"}) is True
    spend = compiled.features["spend_24h"]
    assert spend.where_fn is None  # no filter: every event of its types
    assert spend.over_fn is None
    assert compiled.features["bounce_rate_7d"].over_fn is None
    spray = compiled.features["distinct_prefixes_1h"]
    assert spray.where_fn({"type": "call"}) is True
    assert spray.where_fn({"type": "message", "channel": "email"}) is False


def test_a_pack_with_errors_is_not_returned() -> None:
    pack, diags, sources = load_pack(PACKS / "mistakes.yaml")
    assert pack is None
    assert any(d.is_error for d in diags)
    assert str(PACKS / "mistakes.yaml") in sources
    with pytest.raises(PackInvalid) as info:
        CompiledPack.load(PACKS / "mistakes.yaml")
    assert info.value.code == "invalid_input"
    assert info.value.details
    assert info.value.details[0]["code"]


def test_folder_of_files_is_one_pack(tmp_path: Path) -> None:
    (tmp_path / "a_features.yaml").write_text(
        "pack: team\nfeatures:\n  sends_1h: {count: message, by: [account_id], window: 1h}\n"
    )
    (tmp_path / "b_rules.yaml").write_text(
        "pack: team\nrules:\n"
        "  - {id: r1, policy: spam, severity: medium, when: sends_1h > 100, verdict: review,\n"
        "     tests: [{given: {sends_1h: 101}, expect: match}]}\n"
    )
    (tmp_path / "notes.txt").write_text("not a pack file")
    pack, diags, _ = load_pack(tmp_path)
    assert diags == []
    assert pack is not None
    assert pack.name == "team"
    assert [f.name for f in pack.features] == ["sends_1h"]
    assert pack.files == (str(tmp_path / "a_features.yaml"), str(tmp_path / "b_rules.yaml"))


def test_duplicates_across_files_are_errors(tmp_path: Path) -> None:
    feature = "features:\n  sends_1h: {count: message, by: [account_id], window: 1h}\n"
    rule = (
        "rules:\n  - {id: r1, policy: spam, severity: medium, when: sends_1h > 1, verdict: review,"
        " tests: [{given: {sends_1h: 2}, expect: match}]}\n"
    )
    (tmp_path / "one.yaml").write_text(feature + rule)
    (tmp_path / "two.yaml").write_text(feature + rule)
    pack, diags, _ = load_pack(tmp_path)
    assert pack is None
    dups = [d for d in diags if d.code == "duplicate-id"]
    assert [(d.span.file, d.span.line) for d in dups if d.span] == [
        (str(tmp_path / "two.yaml"), 2),
        (str(tmp_path / "two.yaml"), 4),
    ]
    assert all(d.hint and "one.yaml" in d.hint for d in dups)


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    _, diags, _ = load_pack(tmp_path / "nope.yaml")
    assert [d.code for d in diags] == ["io-error"]
    _, diags, _ = load_pack(tmp_path)
    assert [d.code for d in diags] == ["io-error"]


def test_pack_built_in_code_compiles() -> None:
    feature = FeatureSpec("sends_1h", "count", ("message",), ("account_id",), 3600)
    rule = RuleSpec("r1", "", "spam", "medium", "sends_1h > 10 AND has_url", "review")
    compiled = CompiledPack.from_pack(RulePack("code", (feature,), (rule,)))
    assert [r.id for r in compiled.match({"sends_1h": 11, "has_url": True})] == ["r1"]
    bad = RuleSpec("r2", "", "spam", "medium", "sends_1h > 'x'", "review")
    with pytest.raises(PackInvalid):
        CompiledPack.from_pack(RulePack("code", (feature,), (bad,)))


def test_a_row_of_the_wrong_shape_names_the_rule() -> None:
    compiled = CompiledPack.load(GOOD)
    with pytest.raises(RuleFailed, match="sms-pumping-burst"):
        compiled.match({"to_cost_tier": "high", "otp_starts_1h_by_prefix": "many"})


def test_pack_from_text() -> None:
    analysis = load_pack_text("rules: []\n", "inline.yaml")
    assert analysis.ok
    assert analysis.pack.name == "inline"


def test_empty_file_is_an_empty_pack(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    pack, diags, _ = load_pack(path)
    assert diags == []
    assert pack is not None
    assert pack.rules == ()
