"""Who is on the platform: legitimate customers, honest outliers and the abuse scenarios.

Legitimate counts are multiplied by `scale` (so volume grows linearly with it); scenarios keep
their account count and volume, so their signals keep the strength the docs state whatever the
scale. Keys ("legit/otp/3", "scenario/smishing_ring/0") seed each account's randomness, so a
change to one group never reshuffles another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from abusedesk.sim.actor import Actor, long_standing_signup
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_rng
from abusedesk.sim.markets import LEGIT_HOMES
from abusedesk.sim.profiles.email import Newsletter, TransactionalEmail
from abusedesk.sim.profiles.marketing import MarketingSender
from abusedesk.sim.profiles.notifications import NotificationSender
from abusedesk.sim.profiles.otp import OtpSender
from abusedesk.sim.profiles.outliers import (
    FlashSale,
    big_clean_email,
    high_risk_otp,
    varied_outliers,
)
from abusedesk.sim.profiles.voice import VoiceCaller
from abusedesk.sim.scenarios import REGISTRY
from abusedesk.sim.scenarios.common import outside_report
from abusedesk.sim.timeutil import HOUR


@dataclass(frozen=True, slots=True)
class LegitMix:
    """Legitimate accounts per kind at scale 1."""

    otp: int = 6
    marketing_sms: int = 5
    notifications_sms: int = 5
    transactional_email: int = 5
    newsletter_email: int = 4
    voice: int = 2
    # Indexes (per kind) of customers that sign up inside the window: new but honest.
    new_in_window: Mapping[str, int] = field(
        default_factory=lambda: {"otp": 4, "notifications_sms": 3}
    )


class NoiseReport:
    """A user's spam report against an honest marketer: outside reports are not all right."""

    def __init__(self, ctx: SimContext, target: Actor) -> None:
        self.ctx = ctx
        self.target = target
        self.rng = derive_rng(ctx.seed, "outside/noise-report")
        self.at = ctx.at(40.0) + self.rng.randint(0, 3599)

    def hour(self, t0: int, out: EventSink) -> None:
        if t0 <= self.at < t0 + HOUR and self.target.numbers:
            outside_report(
                out,
                self.rng,
                self.at,
                reporter="user",
                category="spam",
                target=self.target.numbers[0],
                description="I get these promo texts every day",
                evidence=[],
            )


@dataclass(slots=True)
class Population:
    actors: list[Actor]
    sources: list[NoiseReport]


def _count(n: int, scale: float) -> int:
    return max(1, round(n * scale))


def legit_accounts(ctx: SimContext, mix: LegitMix) -> list[Actor]:
    out: list[Actor] = []
    kinds = (
        "otp",
        "marketing_sms",
        "notifications_sms",
        "transactional_email",
        "newsletter_email",
        "voice",
    )
    for offset, kind in enumerate(kinds):
        for i in range(_count(getattr(mix, kind), ctx.scale)):
            key = f"legit/{kind}/{i}"
            country = LEGIT_HOMES[(i + 3 * offset) % len(LEGIT_HOMES)]
            rng = derive_rng(ctx.seed, key, "signup")
            if mix.new_in_window.get(kind) == i:
                signup = ctx.at(rng.uniform(2.0, 20.0))
            else:
                signup = long_standing_signup(rng, ctx)
            out.append(_legit(ctx, kind, key, country=country, signup=signup, index=i))
            if signup >= ctx.start:
                out[-1].notes += "; new customer, signed up inside the window"
    return out


def _legit(ctx: SimContext, kind: str, key: str, *, country: str, signup: int, index: int) -> Actor:
    if kind == "otp":
        return OtpSender(ctx, key, country, signup_at=signup)
    if kind == "marketing_sms":
        return MarketingSender(ctx, key, country, signup_at=signup)
    if kind == "notifications_sms":
        return NotificationSender(ctx, key, country, signup_at=signup)
    if kind == "transactional_email":
        return TransactionalEmail(ctx, key, country, signup_at=signup)
    if kind == "newsletter_email":
        return Newsletter(ctx, key, country, signup_at=signup)
    return VoiceCaller(ctx, key, ("US", "GB")[index % 2], signup_at=signup, daily=(150, 260))


def outliers(ctx: SimContext) -> list[Actor]:
    """One honest outlier of each kind per unit of scale (at least one)."""

    def signup(key: str) -> int:
        return long_standing_signup(derive_rng(ctx.seed, key, "signup"), ctx)

    out: list[Actor] = []
    for i in range(_count(1, ctx.scale)):
        k1, k2, k3 = (f"legit/outlier/{n}/{i}" for n in range(3))
        country = ("US", "GB")[i % 2]
        out += [
            FlashSale(ctx, k1, country, signup_at=signup(k1), index=i),
            high_risk_otp(ctx, k2, signup_at=signup(k2)),
            big_clean_email(ctx, k3, country, signup_at=signup(k3)),
        ]
        if ctx.variety != "low":
            out += varied_outliers(ctx, signup, i)
    return out


def build_population(
    ctx: SimContext,
    scenarios: Mapping[str, Any] | None = None,
    mix: LegitMix | None = None,
) -> Population:
    """All accounts in a fixed order. `scenarios`: name -> params (None for defaults); all
    registered scenarios with default parameters when omitted."""
    chosen: Mapping[str, Any] = dict.fromkeys(REGISTRY) if scenarios is None else scenarios
    unknown = sorted(set(chosen) - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; known: {', '.join(REGISTRY)}")
    actors = legit_accounts(ctx, mix or LegitMix())
    actors += outliers(ctx)
    cast: dict[str, list[Actor]] = {}
    for name, spec in REGISTRY.items():
        if name not in chosen:
            continue
        params = chosen[name] if chosen[name] is not None else spec.params()
        if not isinstance(params, spec.params):
            raise TypeError(f"scenario {name} takes {spec.params.__name__}, got {type(params)}")
        cast[name] = spec.build(ctx, params, cast)
        actors += cast[name]
    marketers = [a for a in actors if type(a) is MarketingSender]
    sources = [NoiseReport(ctx, marketers[0])] if marketers else []
    return Population(actors, sources)
