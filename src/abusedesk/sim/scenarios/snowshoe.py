"""snowshoe: one campaign spread thin over many new accounts (DOMAIN.md §3.3 filtering evasion,
§7 E14).

Twelve accounts sign up over the first eight hours, each with its own IP, device and card, one
number each, and ~40-80 texts a day: under any per-account volume line. What they share is the
content (one spun "pre-approved loan" template, S16 high-risk finance) and the registered domain
behind every link (random subdomains of one site), which is how the cluster is found.
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor, Identity
from abusedesk.sim.content import fill, sms_templates
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_rng, hex_token, token
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import mobile_pool
from abusedesk.sim.profiles.common import NumberOwner
from abusedesk.sim.scenarios.common import Cast, throwaway_identity
from abusedesk.sim.timeutil import BUSINESS_CURVE, HOUR, hourly_mean, local_hour, poisson
from abusedesk.sim.traffic import ErrorMix, send_sms


@dataclass(frozen=True, slots=True)
class SnowshoeParams:
    accounts: int = 12
    signup_window_h: float = 8.0
    daily: tuple[int, int] = (40, 80)
    site: str = "approvedfunds.co"
    filtered: float = 0.12  # 30007


class SnowshoeSender(NumberOwner):
    label = "snowshoe"
    n_numbers = 1

    def __init__(self, ctx: SimContext, key: str, p: SnowshoeParams, signup_at: int) -> None:
        super().__init__(ctx, key, "snowshoe", signup_at=signup_at)
        self.p = p
        self.daily = self.rng.randint(*p.daily) * ctx.abuse_volume
        self.errors = ErrorMix({"30007": p.filtered, "30005": 0.025, "30003": 0.015})
        self.notes = (
            f"one of {p.accounts} low-volume accounts sending the same spun loan template "
            f"linking to subdomains of {p.site}"
        )

    def make_identity(self) -> Identity:
        rng = derive_rng(self.ctx.seed, self.key, "id")
        return throwaway_identity(rng, "US", rng.choice(("marketing", "notifications")))

    def traffic(self, t0: int, out: EventSink) -> None:
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        rng = self.rng
        pool = mobile_pool("US")
        n = poisson(rng, hourly_mean(self.daily, BUSINESS_CURVE, local_hour("America/Chicago", t0)))
        for _ in range(n):
            ts = rng.randint(start, t0 + HOUR - 1)
            url = f"https://{hex_token(rng, 5)}.{self.p.site}/{token(rng, 6)}"
            body = fill(sms_templates("snowshoe", "en")[0], rng, {"url": url})
            error = self.errors.draw(rng)
            send_sms(
                out,
                self,
                ts,
                frm=self.sender(),
                to=pool.random(rng),
                body=body,
                error=error,
                price=market("US").sms_price,
            )
            self.mark_abuse(ts)


def build(ctx: SimContext, p: SnowshoeParams, cast: Cast) -> list[Actor]:
    rng = derive_rng(ctx.seed, "scenario/snowshoe/plan")
    out: list[Actor] = []
    for k in range(p.accounts):
        signup = ctx.at(rng.uniform(0.5, p.signup_window_h))
        out.append(SnowshoeSender(ctx, f"scenario/snowshoe/{k}", p, signup))
    return out
