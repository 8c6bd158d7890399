"""voice_robocall: high-volume, seconds-long calls with spoofed caller ids (DOMAIN.md §3.6, V1).

The account owns two numbers but calls from "neighbour" numbers that match each callee's area
code and exchange, which it cannot prove it owns: ~65 % of calls carry C (gateway) attestation
and ~30 % B, against the A of every legitimate caller. Half go unanswered and answered calls
last a few seconds (a recorded pitch, hung up on). A recipient reports one caller id.
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor, Identity
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_rng
from abusedesk.sim.numbers import mobile_pool
from abusedesk.sim.profiles.common import NumberOwner
from abusedesk.sim.scenarios.common import Cast, outside_report, throwaway_identity
from abusedesk.sim.timeutil import BUSINESS_CURVE, DAY, HOUR, hourly_mean, local_hour, poisson
from abusedesk.sim.traffic import place_call


@dataclass(frozen=True, slots=True)
class RobocallParams:
    signup_days_before: float = 2.0
    daily: int = 2400
    attestation_c: float = 0.65
    attestation_b: float = 0.30
    report_at_h: float = 20.0


class Robocaller(NumberOwner):
    label = "voice_robocall"

    def __init__(self, ctx: SimContext, key: str, p: RobocallParams) -> None:
        signup = ctx.start - int(p.signup_days_before * DAY) + 19 * HOUR
        super().__init__(ctx, key, "voice_robocall", signup_at=signup)
        self.p = p
        self.report_at = ctx.at(p.report_at_h) + self.rng.randint(0, 3599)
        self.reported: str | None = None
        self.notes = "robocalls with neighbour-spoofed caller ids: B/C attestation, seconds long"

    def make_identity(self) -> Identity:
        rng = derive_rng(self.ctx.seed, self.key, "id")
        return throwaway_identity(rng, "US", "voice_notifications")

    def traffic(self, t0: int, out: EventSink) -> None:
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        rng, p = self.rng, self.p
        pool = mobile_pool("US")
        daily = p.daily * self.ctx.abuse_volume
        n = poisson(rng, hourly_mean(daily, BUSINESS_CURVE, local_hour("America/Chicago", t0)))
        for _ in range(n):
            ts = rng.randint(start, t0 + HOUR - 1)
            to = pool.random(rng)
            frm = f"{to[:-4]}{rng.randrange(10000):04d}"  # same NPA-NXX as the callee
            x = rng.random()
            if x < 0.50:
                status, duration = "no-answer", 0.0
            elif x < 0.88:
                status, duration = "completed", float(min(60, int(rng.expovariate(1 / 7)) + 1))
            elif x < 0.95:
                status, duration = "busy", 0.0
            else:
                status, duration = "failed", 0.0
            y = rng.random()
            att = (
                "C"
                if y < p.attestation_c
                else "B"
                if y < p.attestation_c + p.attestation_b
                else "A"
            )
            end = place_call(
                out, self, ts, frm=frm, to=to, status=status, duration=duration, attestation=att
            )
            self.mark_abuse(end)
            self.reported = self.reported or frm
        if t0 <= self.report_at < t0 + HOUR and self.reported:
            outside_report(
                out,
                self.rng,
                self.report_at,
                reporter="user",
                category="fraud",
                target=self.reported,
                description="Robocall about my car's extended warranty, 4th time",
                evidence=["recorded voice, hung up after a few seconds"],
            )


def build(ctx: SimContext, p: RobocallParams, cast: Cast) -> list[Actor]:
    return [Robocaller(ctx, "scenario/voice_robocall/0", p)]
