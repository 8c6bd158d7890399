"""The account risk score of one policy: signals weighted by severity and confidence, decaying
over time, combined across rules. Pure arithmetic on (rule, time) pairs.

Per rule, the evidence `n` is the number of its matches on the account, each decaying with a
half-life of `HALF_LIFE_S` (a match a day old counts half). The rule's contribution is

    weight(severity) x (1 - (1 - confidence) ** n)

so a rule with confidence 1 gives its full weight on the first match (a phishing report), and a
rule with confidence 0.3 needs several recent matches to come near it (one send after STOP is a
lagging list; thirty is a sender that ignores STOP). Rules count as independent evidence:

    score = 1 - prod(1 - contribution)

A case's priority follows the score (`PRIORITY_BANDS`), never more urgent than the most urgent
priority the pack declares for the rules that contributed (the analysts' ceiling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from abusedesk.detection.spec import PRIORITIES, RuleSpec

# How much one piece of evidence of each severity moves the score.
SEVERITY_WEIGHT: Final[dict[str, float]] = {"low": 0.2, "medium": 0.4, "high": 0.7, "critical": 0.9}
HALF_LIFE_S: Final = 86_400
# Lowest score for each priority; below the last one, P4.
PRIORITY_BANDS: Final[tuple[tuple[str, float], ...]] = (("P1", 0.8), ("P2", 0.6), ("P3", 0.35))


def contribution(rule: RuleSpec, evidence: float) -> float:
    strength = 1.0 if rule.confidence >= 1.0 else 1.0 - (1.0 - rule.confidence) ** evidence
    return SEVERITY_WEIGHT[rule.severity] * strength


def priority_for(score: float, ceiling: str) -> str:
    """The band of `score`, no more urgent than `ceiling`."""
    band = "P4"
    for priority, lowest in PRIORITY_BANDS:
        if score >= lowest:
            band = priority
            break
    return max(band, ceiling, key=PRIORITIES.index)


@dataclass(slots=True)
class _Evidence:
    rule: RuleSpec
    level: float = 0.0  # decayed match count as of `at`
    at: float = 0.0


@dataclass(slots=True)
class PolicyRisk:
    """The running score of one account on one policy."""

    rules: dict[str, _Evidence] = field(default_factory=dict)

    def add(self, rule: RuleSpec, ts: float) -> None:
        ev = self.rules.get(rule.id)
        if ev is None:
            ev = self.rules[rule.id] = _Evidence(rule, 0.0, ts)
        ev.level = ev.level * _decay(ts - ev.at) + 1.0
        ev.at = max(ev.at, ts)

    def contributions(self, ts: float) -> dict[str, float]:
        return {
            rule_id: round(contribution(ev.rule, ev.level * _decay(ts - ev.at)), 4)
            for rule_id, ev in sorted(self.rules.items())
        }

    def score(self, ts: float) -> float:
        remaining = 1.0
        for value in self.contributions(ts).values():
            remaining *= 1.0 - value
        return round(1.0 - remaining, 4)

    def ceiling(self) -> str:
        """The most urgent priority declared by a contributing rule."""
        declared = [ev.rule.case.priority for ev in self.rules.values() if ev.rule.case]
        return min(declared, key=PRIORITIES.index) if declared else "P4"


def _decay(dt: float) -> float:
    return 1.0 if dt <= 0 else math.pow(0.5, dt / HALF_LIFE_S)
