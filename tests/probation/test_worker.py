"""The worker's round runs the probation sweep at most once per interval, before the outbox
drain, and a failing sweep does not stop deliveries."""

from __future__ import annotations

from abusedesk.clock import FixedClock
from abusedesk.enforcement.delivery import Outbox
from abusedesk.enforcement.worker import enforcement_round
from abusedesk.probation.services import SweepResult
from abusedesk.probation.worker import ProbationSweep
from abusedesk.workspace import Workspace


def test_the_sweep_runs_once_per_interval() -> None:
    calls: list[int] = []

    def run() -> list[SweepResult]:
        calls.append(1)
        return []

    sweep = ProbationSweep(run, every_s=3600)
    sweep()
    sweep()
    assert len(calls) == 1
    sweep.every_s = 0
    sweep._next = 0.0
    sweep()
    assert len(calls) == 2


def test_a_failing_sweep_does_not_stop_the_round(workspace: Workspace, clock: FixedClock) -> None:
    def broken() -> None:
        raise RuntimeError("lake unreadable")

    expired, stats = enforcement_round(
        workspace.enforcement, lambda: Outbox(workspace.store, clock, {}), [broken]
    )
    assert (expired, stats.sent) == ([], 0)
