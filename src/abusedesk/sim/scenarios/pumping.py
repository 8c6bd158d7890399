"""sms_pumping: artificially inflated OTP traffic (DOMAIN.md §3.5).

A twelve-day-old app with a small, healthy OTP flow in its home market is found by a pumping
ring. From `attack_at_h`, bursts of verification starts hit near-sequential numbers sharing a
prefix (S12) in high-cost countries on the Braze default-deny list (CM, UZ, TJ, KG, AZ; S13) it
never sent to before (S11). Nobody enters the codes: conversion on that traffic is ~2 %, far
below authgear's unverified-OTP budget of max(20, 0.3 x verified) per country per day (S8), and a
third of the messages come back 30005/30003 (S2 over 12.5 %). Each burst puts 90-220 starts on
one or two prefixes within 20-50 minutes, over the 40 starts/hour/prefix of the design example.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from abusedesk.sim.actor import Actor
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.numbers import mobile_pool, sequential_block
from abusedesk.sim.profiles.otp import OtpParams, OtpSender
from abusedesk.sim.scenarios.common import Cast
from abusedesk.sim.timeutil import DAY, HOUR
from abusedesk.sim.traffic import ErrorMix


def _errors() -> dict[str, float]:
    return {"30005": 0.20, "30003": 0.11, "30008": 0.03}


@dataclass(frozen=True, slots=True)
class PumpingParams:
    signup_days_before: float = 12.0
    home: str = "GB"
    baseline_daily: tuple[int, int] = (120, 180)
    attack_at_h: float = 30.0  # first burst, hours after the window opens
    bursts: int = 8
    burst_starts: tuple[int, int] = (120, 260)
    burst_minutes: tuple[int, int] = (20, 50)
    gap_hours: tuple[float, float] = (1.5, 5.0)
    targets: tuple[str, ...] = ("CM", "UZ", "TJ", "KG", "AZ")
    conversion: float = 0.02
    errors: Mapping[str, float] = field(default_factory=_errors)


@dataclass(slots=True)
class Burst:
    start: int
    end: int
    country: str
    numbers: list[str]
    sent: int = 0


class PumpedOtp(OtpSender):
    label = "sms_pumping"

    def __init__(self, ctx: SimContext, key: str, p: PumpingParams) -> None:
        signup = ctx.start - int(p.signup_days_before * DAY) + 10 * HOUR
        super().__init__(
            ctx,
            key,
            p.home,
            signup_at=signup,
            params=OtpParams(daily_starts=_scaled(p.baseline_daily, ctx.abuse_volume)),
            kind="sms_pumping",
        )
        self.p = p
        self.attack_errors = ErrorMix(p.errors)
        self.bursts: list[Burst] = []
        rng = self.rng
        t = ctx.at(p.attack_at_h) + rng.randint(0, 1800)
        for k in range(p.bursts):
            country = p.targets[k % len(p.targets)]
            minutes = rng.randint(*p.burst_minutes)
            count = max(2, int(rng.randint(*p.burst_starts) * ctx.abuse_volume))
            pool = mobile_pool(country)
            # One or two ranges per burst: the colluding operator's number blocks.
            numbers = sequential_block(pool, rng, count // 2) + sequential_block(
                pool, rng, count - count // 2
            )
            self.bursts.append(Burst(t, t + minutes * 60, country, numbers))
            t += minutes * 60 + int(rng.uniform(*p.gap_hours) * HOUR)
        self.notes = (
            f"{p.signup_days_before:.0f}-day-old OTP app in {p.home}; {p.bursts} pumping bursts "
            f"to sequential numbers in {', '.join(p.targets)}; conversion ~{p.conversion:.0%}"
        )

    def traffic(self, t0: int, out: EventSink) -> None:
        super().traffic(t0, out)
        rng = self.rng
        for b in self.bursts:
            if b.end <= t0 or b.start >= t0 + HOUR or b.sent >= len(b.numbers):
                continue
            # Starts spread evenly over the burst: send those due before this hour ends.
            span = b.end - b.start
            due = min(len(b.numbers), int(len(b.numbers) * (t0 + HOUR - b.start) / span) + 1)
            lo = max(t0, b.start)
            hi = min(t0 + HOUR, b.end) - 1
            times = sorted(rng.randint(lo, hi) for _ in range(due - b.sent))
            for ts, to in zip(times, b.numbers[b.sent : due], strict=True):
                self.mark_abuse(ts)
                self.pumped(out, ts, to, b.country)
            b.sent = due

    def pumped(self, out: EventSink, ts: int, to: str, country: str) -> None:
        saved = self.errors
        self.errors = self.attack_errors
        try:
            self.verify(out, ts, to, country, self.p.conversion)
        finally:
            self.errors = saved


def _scaled(span: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(1, int(span[0] * factor)), max(1, int(span[1] * factor))


def build(ctx: SimContext, params: PumpingParams, cast: Cast) -> list[Actor]:
    return [PumpedOtp(ctx, "scenario/sms_pumping/0", params)]
