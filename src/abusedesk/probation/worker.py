"""The probation sweep inside the enforcement worker: at most once every `every_s` seconds
(ABUSEDESK_PROBATION_INTERVAL_S), since it reads the lake, while the worker's round runs every
few seconds for deliveries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from abusedesk.probation.services import SweepResult

log = logging.getLogger("abusedesk.probation")


class ProbationSweep:
    def __init__(self, run: Callable[[], Sequence[SweepResult]], *, every_s: float) -> None:
        self.run = run
        self.every_s = every_s
        self._next = 0.0  # the first round sweeps at once

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every_s
        results = self.run()
        ended = [r for r in results if r.outcome in ("graduated", "escalated")]
        if ended:
            log.info(
                "probation sweep: %d graduated, %d escalated, %d measured",
                sum(r.outcome == "graduated" for r in ended),
                sum(r.outcome == "escalated" for r in ended),
                len(results),
            )
