"""When an account gets a case: the account-level decision, apart from the event's verdict.

A live rule that matches an event gives that event its verdict (engine.py) and records a signal.
Whether the account gets a case is decided here, from the account's evidence so far, by the bar
the pack declares under the rule's `case: open_when:` (spec.CaseBar):

    matches: 5          at least 5 matches of the rule on the account within `within`
    within: 24h         the look-back (default 24h)
    distinct: {to: 3}   at least 3 distinct values of `to` among those matches
    persist: 2h         the first and the last of them at least 2 h apart
    score: 0.6          or: the account's risk score on the policy (risk.py) reaches 0.6

A rule without `open_when` opens a case on its first match, as before. Once a case is open for
(account, policy), every later match of a rule of that policy is attached to it, whatever its
own bar. Pure and in memory: streaming, the decision API, `abusedesk detect`, the backtest and
the seed sweep all feed the same `AccountCases` with matches in time order and get the same
`CaseCall`s back. State lives as long as the process (as the signal cooldown does); a bar
restarts empty after a restart, while an already open case keeps collecting signals.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from abusedesk.detection.risk import PolicyRisk, priority_for
from abusedesk.detection.spec import CaseBar, RuleSpec


@dataclass(frozen=True, slots=True)
class CaseCall:
    """Open (or keep adding to) a case on `account_id` for `policy`, with this priority and
    these score contributions (rule id -> share of the score)."""

    account_id: str
    policy: str
    queue: str
    priority: str
    score: float
    contributions: dict[str, float]
    opened: bool  # True for the match that cleared the bar
    rule_id: str
    reason: str

    def risk_json(self) -> dict[str, Any]:
        return {"score": self.score, "contributions": dict(self.contributions)}


@dataclass(slots=True)
class _RuleTrail:
    """One rule's recent matches on one account: times, and the last time of each value of
    the fields its bar counts distinct."""

    times: deque[float] = field(default_factory=deque)
    values: dict[str, dict[object, float]] = field(default_factory=dict)


@dataclass(slots=True)
class _Account:
    risk: dict[str, PolicyRisk] = field(default_factory=dict)
    trails: dict[str, _RuleTrail] = field(default_factory=dict)
    opened: dict[str, str] = field(default_factory=dict)  # policy -> queue of the open case


class AccountCases:
    """Feed every event's matches in time order; get a `CaseCall` when a case opens or grows."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}

    def observe(
        self, rules: Sequence[RuleSpec], account_id: str | None, ts: datetime,
        row: Mapping[str, Any],
    ) -> list[CaseCall | None]:  # fmt: skip
        """All the rules one event matched, at once: every match counts into the score before
        any bar is judged, so the order rules are listed in changes nothing. One entry per
        rule: the call, or None (not live, no case routing, or the bar not cleared)."""
        if not account_id or not rules:
            return [None] * len(rules)
        t = ts.timestamp()
        acct = self._accounts.get(account_id)
        if acct is None:
            acct = self._accounts[account_id] = _Account()
        live = [r for r in rules if r.mode == "live" and r.case is not None]
        for rule in live:
            risk = acct.risk.get(rule.policy)
            if risk is None:
                risk = acct.risk[rule.policy] = PolicyRisk()
            risk.add(rule, t)
            trail = acct.trails.get(rule.id)
            if trail is None:
                trail = acct.trails[rule.id] = _RuleTrail()
            _remember(trail, rule.case.bar if rule.case else CaseBar(), t, row)
        return [self._call(acct, rule, account_id, t) if rule in live else None for rule in rules]

    def _call(self, acct: _Account, rule: RuleSpec, account_id: str, t: float) -> CaseCall | None:
        routing = rule.case
        assert routing is not None
        risk = acct.risk[rule.policy]
        score = risk.score(t)
        queue = acct.opened.get(rule.policy)
        opened = False
        reason = ""
        if queue is None:
            reason = cleared(routing.bar, acct.trails[rule.id], score)
            if not reason:
                return None
            queue = acct.opened[rule.policy] = routing.queue
            opened = True
        return CaseCall(
            account_id=account_id,
            policy=rule.policy,
            queue=queue,
            priority=priority_for(score, risk.ceiling()),
            score=score,
            contributions=risk.contributions(t),
            opened=opened,
            rule_id=rule.id,
            reason=reason,
        )

    def forget(self, account_id: str, policy: str) -> None:
        """The case was closed: the next one needs the bar cleared again."""
        acct = self._accounts.get(account_id)
        if acct is not None:
            acct.opened.pop(policy, None)


def _remember(trail: _RuleTrail, bar: CaseBar, t: float, row: Mapping[str, Any]) -> None:
    start = t - bar.within_s
    times = trail.times
    times.append(t)
    while times and times[0] <= start:
        times.popleft()
    for name, _ in bar.distinct:
        seen = trail.values.setdefault(name, {})
        value = row.get(name)
        if value is not None:
            seen[value] = t
        if len(seen) > 4 * max(n for _, n in bar.distinct):
            for key in [k for k, at in seen.items() if at <= start]:
                del seen[key]


def cleared(bar: CaseBar, trail: _RuleTrail, score: float) -> str:
    """Why the bar is cleared ("" when it is not)."""
    if bar.score is not None and score >= bar.score:
        return f"risk score {score:.2f} >= {bar.score:g}"
    if not bar.evidence:
        return ""
    times = trail.times
    if len(times) < bar.matches:
        return ""
    span = times[-1] - times[0]
    if span < bar.persist_s:
        return ""
    parts = [f"{len(times)} matches in {bar.within_s // 3600} h"]
    start = times[-1] - bar.within_s
    for name, need in bar.distinct:
        have = sum(1 for at in trail.values.get(name, {}).values() if at > start)
        if have < need:
            return ""
        parts.append(f"{have} distinct {name}")
    if bar.persist_s:
        parts.append(f"over {span / 3600:.1f} h")
    return ", ".join(parts)
