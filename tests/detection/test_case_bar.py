"""The account-level case bar and the risk score (detection/case_bar.py, risk.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from abusedesk.detection.case_bar import AccountCases
from abusedesk.detection.risk import SEVERITY_WEIGHT, PolicyRisk, priority_for
from abusedesk.detection.rules.pack import load_pack_text
from abusedesk.detection.rules.testing import run_case_test
from abusedesk.detection.spec import CaseBar, CaseRouting, CaseTest, RuleSpec

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def rule(
    rule_id: str = "r",
    *,
    bar: CaseBar | None = None,
    severity: str = "high",
    confidence: float = 1.0,
    priority: str = "P2",
    policy: str = "consent",
) -> RuleSpec:
    return RuleSpec(
        id=rule_id,
        description="",
        policy=policy,
        severity=severity,  # type: ignore[arg-type]
        when="true",
        verdict="block",
        confidence=confidence,
        case=CaseRouting("compliance", priority, bar or CaseBar()),
    )


def feed(cases: AccountCases, spec: RuleSpec, minutes: list[float], **row: object) -> list[bool]:
    """Whether each match opened the case."""
    out = []
    for m in minutes:
        [call] = cases.observe([spec], "AC1", T0 + timedelta(minutes=m), row)
        out.append(call is not None and call.opened)
    return out


def test_without_a_bar_the_first_match_opens_the_case() -> None:
    assert feed(AccountCases(), rule(), [0, 1]) == [True, False]


def test_matches_and_persistence_must_both_hold() -> None:
    spec = rule(bar=CaseBar(matches=3, within_s=12 * 3600, persist_s=3 * 3600))
    cases = AccountCases()
    assert feed(cases, spec, [0, 5, 10, 20]) == [False] * 4  # many, but within 20 minutes
    assert feed(cases, spec, [200]) == [True]  # 3 h 20 after the first


def test_old_matches_fall_out_of_the_window() -> None:
    spec = rule(bar=CaseBar(matches=3, within_s=3600))
    assert feed(AccountCases(), spec, [0, 70, 140, 150, 155]) == [False, False, False, False, True]


def test_distinct_values_count_people_not_messages() -> None:
    spec = rule(bar=CaseBar(matches=2, distinct=(("to", 3),)))
    cases = AccountCases()
    assert feed(cases, spec, [0, 1, 2, 3], to="+1555") == [False] * 4
    assert feed(cases, spec, [4], to="+1556") == [False]
    assert feed(cases, spec, [5], to="+1557") == [True]


def test_a_score_bar_opens_on_evidence_from_other_rules_of_the_policy() -> None:
    weak = rule("weak", bar=CaseBar(score=0.8, evidence=False), severity="medium")
    strong = rule("strong", bar=CaseBar(matches=99), severity="high")
    cases = AccountCases()
    assert feed(cases, weak, [0]) == [False]  # 0.4
    assert feed(cases, strong, [1]) == [False]  # 1 - 0.6 * 0.3 = 0.82, but its own bar is 99
    [call] = cases.observe([weak], "AC1", T0 + timedelta(minutes=2), {})
    assert call is not None
    assert call.opened
    assert call.score >= 0.8
    assert set(call.contributions) == {"weak", "strong"}


def test_shadow_rules_and_verdict_only_rules_open_nothing() -> None:
    shadow = RuleSpec("s", "", "p", "critical", "true", "block", mode="shadow")
    verdict_only = RuleSpec("v", "", "p", "critical", "true", "block", case=None)
    assert AccountCases().observe([shadow, verdict_only], "AC1", T0, {}) == [None, None]


def test_the_score_weighs_confidence_and_decays() -> None:
    risk = PolicyRisk()
    noisy = rule(confidence=0.3)
    risk.add(noisy, 0.0)
    one = risk.score(0.0)
    assert one == pytest.approx(SEVERITY_WEIGHT["high"] * 0.3)
    for k in range(1, 6):
        risk.add(noisy, float(k))
    assert risk.score(5.0) > 2 * one
    assert risk.score(5.0 + 86_400) < risk.score(5.0)  # a day later it counts less


def test_priority_follows_the_score_under_the_declared_ceiling() -> None:
    assert priority_for(0.95, "P1") == "P1"
    assert priority_for(0.95, "P2") == "P2"  # never above what the pack declares
    assert priority_for(0.65, "P1") == "P2"
    assert priority_for(0.4, "P1") == "P3"
    assert priority_for(0.1, "P1") == "P4"


def test_order_of_an_events_rules_changes_nothing() -> None:
    a, b = rule("a"), rule("b", severity="critical")
    [x, _] = AccountCases().observe([a, b], "AC1", T0, {})
    [_, y] = AccountCases().observe([b, a], "AC1", T0, {})
    assert x is not None
    assert y is not None
    assert x.score == y.score
    assert x.contributions == y.contributions


PACK = """
rules:
  - id: after-stop
    policy: consent
    severity: high
    when: type = 'message'
    verdict: block
    confidence: 0.3
    case:
      queue: compliance
      priority: P2
      open_when: {matches: 3, within: 12h, persist: 1h, distinct: {to: 2}}
      tests:
        - name: spread out
          matches: [{at: 0m, to: a}, {at: 30m, to: b}, {at: 2h, to: c}]
          expect: open
    tests:
      - given: {type: message}
        expect: match
"""


def test_the_pack_declares_the_bar_and_its_tests_run() -> None:
    analysis = load_pack_text(PACK, "p.yaml")
    assert not analysis.diagnostics
    spec = analysis.pack.rules[0]
    assert spec.confidence == 0.3
    assert spec.case is not None
    assert spec.case.bar == CaseBar(3, 12 * 3600, (("to", 2),), 3600, None, True)
    [test] = spec.case.tests
    assert run_case_test(spec, test).passed
    failing = CaseTest("too few", test.matches[:2], "open")
    assert not run_case_test(spec, failing).passed


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("confidence: 0.3", "confidence: 1.5"),
        ("persist: 1h", "persist: 13h"),
        ("within: 12h", "within: 12x"),
        ("matches: 3,", "matchez: 3,"),
        ("expect: open", "expect: maybe"),
        ("distinct: {to: 2}", "distinct: {tooo: 2}"),
        ("{at: 0m, to: a}", "{at: 0m, to: a, country: US}"),
    ],
)
def test_a_bad_bar_is_a_lint_error(old: str, new: str) -> None:
    analysis = load_pack_text(PACK.replace(old, new), "p.yaml")
    assert analysis.diagnostics, new
    assert all(d.severity == "error" for d in analysis.diagnostics)
