"""The ladder proposes the next step: pure, so like cases get like actions.

A strike is an earlier ladder action on the same account under the same policy that was not
reversed and is younger than the policy's strike_ttl. With n live strikes the proposal is step
n of the ladder (the last step once the ladder is climbed). The analyst confirms the proposal
or overrides it with a reason (enforcement/services.py records which).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from abusedesk.policies.catalogue import Policy, Step


@dataclass(frozen=True)
class Proposal:
    policy: str
    step: Step
    strikes: int
    rung: int  # 0-based index into the ladder

    def to_json(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "action": self.step.action,
            "rate_per_min": self.step.rate_per_min,
            "duration_s": None
            if self.step.duration is None
            else self.step.duration.total_seconds(),
            "strikes": self.strikes,
            "rung": self.rung,
            "describe": self.step.describe(),
        }


def live_strikes(policy: Policy, struck_at: Iterable[datetime], now: datetime) -> int:
    return sum(1 for ts in struck_at if now - ts < policy.strike_ttl)


def propose(policy: Policy, struck_at: Iterable[datetime], now: datetime) -> Proposal:
    strikes = live_strikes(policy, struck_at, now)
    rung = min(strikes, len(policy.ladder) - 1)
    return Proposal(policy.id, policy.ladder[rung], strikes, rung)
