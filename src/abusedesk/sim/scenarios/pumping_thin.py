"""sms_pumping_thin: pumping spread thinly over many prefixes and accounts (`--variety realistic`
and `wide` only; DOMAIN.md §3.5).

A ring that has learnt prefix velocity limits (S12) works three ordinary OTP apps at once. Each
keeps its healthy home flow and, from `attack_at_h`, adds small bursts of 12-30 starts over an
hour or two to a fresh number block in one of seven high-cost countries, a few hours apart, so no
prefix sees more than a handful of starts in any hour. Nobody enters the codes (~4 %), and the
unverified starts per destination country still add up to several times authgear's daily budget
of max(20, 0.3 x verified) (S8). abuse_start is each account's first pumped start.
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor
from abusedesk.sim.context import SimContext
from abusedesk.sim.scenarios.common import Cast
from abusedesk.sim.scenarios.pumping import PumpedOtp, PumpingParams


@dataclass(frozen=True, slots=True)
class ThinPumpingParams:
    accounts: int = 3
    attack_at_h: float = 28.0
    bursts: int = 14
    burst_starts: tuple[int, int] = (12, 30)
    burst_minutes: tuple[int, int] = (60, 120)
    gap_hours: tuple[float, float] = (0.5, 2.5)
    targets: tuple[str, ...] = ("CM", "UZ", "TJ", "KG", "AZ", "PK", "NG")
    conversion: float = 0.04


class ThinPumpedOtp(PumpedOtp):
    label = "sms_pumping_thin"


def build(ctx: SimContext, params: ThinPumpingParams, cast: Cast) -> list[Actor]:
    if ctx.variety == "low":
        return []
    homes = ("GB", "DE", "FR", "US", "ES")
    out: list[Actor] = []
    for i in range(params.accounts):
        p = PumpingParams(
            signup_days_before=40.0 + 25 * i,
            home=homes[i % len(homes)],
            attack_at_h=params.attack_at_h + 3 * i,
            bursts=params.bursts,
            burst_starts=params.burst_starts,
            burst_minutes=params.burst_minutes,
            gap_hours=params.gap_hours,
            targets=params.targets[i:] + params.targets[:i],
            conversion=params.conversion,
        )
        actor = ThinPumpedOtp(ctx, f"scenario/sms_pumping_thin/{i}", p)
        actor.kind = "sms_pumping_thin"
        actor.notes = (
            f"OTP app in {p.home} pumped thinly: {p.bursts} bursts of 12-30 starts over 1-2 h "
            f"to fresh prefixes in {', '.join(p.targets)}; conversion ~{p.conversion:.0%}"
        )
        out.append(actor)
    return out
