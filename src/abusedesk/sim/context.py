"""What every actor knows about the run: seed, window and scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

from abusedesk.sim.timeutil import HOUR


@dataclass(frozen=True, slots=True)
class SimContext:
    seed: int
    start: int
    end: int
    scale: float
    # low | realistic | wide: how varied legitimate behaviour is (sim/variety.py).
    variety: str = "low"

    @property
    def outlier_volume(self) -> float:
        """Per-account volume of the honest outliers: there is at least one of each, so below
        scale 1 their volume shrinks instead of their number (keeps output linear in scale)."""
        return min(1.0, self.scale)

    @property
    def abuse_volume(self) -> float:
        """Multiplier for scenario volumes: `scale`, but never below a quarter, so a tiny run
        still has enough abusive traffic for its rates to mean something."""
        return max(0.25, self.scale)

    @property
    def hours(self) -> int:
        return (self.end - self.start) // HOUR

    def at(self, hours: float, *, latest: float = 0.6) -> int:
        """Epoch `hours` after the start, squeezed into short runs.

        Scenarios are written for the default three days (an attack on day two, an evader a day
        after the ring). A one-day test run must still tell the same story: planned times past
        `latest` of the window are compressed (monotonically, so the plot keeps its order) into
        the part between `latest` and 90 % of the window.
        """
        span = float(self.hours)
        cap = latest * span
        if hours > cap:
            hours = cap + (0.9 * span - cap) * (1.0 - math.exp(-(hours - cap) / span))
        return self.start + int(hours * HOUR)
