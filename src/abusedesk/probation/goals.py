"""Judge a probation: pure, from the goals, the counts measured on the lake and the time.

A goal is met while its metric stays below its bound. It is judged only once its base (the
sends or deliveries it is a share of) reaches the policy's `min_volume`, so three messages and
one bounce do not end a probation. Any judged goal at or above its bound escalates at once; when
the probation's time is up with no goal breached, the account graduates (a goal that never
reached the volume counts as met: a quiet account broke no rule, and it is shown as unjudged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from abusedesk.probation.metrics import METRICS

Outcome = Literal["graduate", "escalate", "continue"]


@dataclass(frozen=True)
class Measurement:
    metric: str
    below: float
    count: int
    base: int
    judged: bool  # base >= min_volume

    @property
    def rate(self) -> float | None:
        return None if self.base == 0 else self.count / self.base

    @property
    def breached(self) -> bool:
        rate = self.rate
        return self.judged and rate is not None and rate >= self.below

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "below": self.below,
            "count": self.count,
            "base": self.base,
            "rate": self.rate,
            "judged": self.judged,
            "breached": self.breached,
        }


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    measurements: tuple[Measurement, ...]

    @property
    def breached(self) -> tuple[Measurement, ...]:
        return tuple(m for m in self.measurements if m.breached)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "measurements": [m.to_json() for m in self.measurements],
        }


def judge(
    goals: Sequence[Mapping[str, Any]],
    counts: Mapping[str, int],
    *,
    min_volume: int,
    now: datetime,
    ends_at: datetime,
) -> Judgement:
    measurements = []
    for goal in goals:
        count_col, base_col = METRICS[str(goal["metric"])]
        base = int(counts.get(base_col, 0))
        measurements.append(
            Measurement(
                metric=str(goal["metric"]),
                below=float(goal["below"]),
                count=int(counts.get(count_col, 0)),
                base=base,
                judged=base >= min_volume,
            )
        )
    outcome: Outcome = "continue"
    if any(m.breached for m in measurements):
        outcome = "escalate"
    elif now >= ends_at:
        outcome = "graduate"
    return Judgement(outcome, tuple(measurements))
