"""prohibited_content: CBD, cannabis, payday loans, crypto doubling and prize draws to US numbers
(DOMAIN.md §3.3 forbidden categories, §2.6 30990 reasons "illegal sweepstakes", S16).

The account declared "marketing" and sends promotions that US carriers forbid on every sender
type, mostly behind public URL shorteners (also forbidden). Carriers filter ~22 % (30007, S3),
~2.5 % of delivered recipients reply STOP and a user reports one of its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from abusedesk.sim.actor import Actor, Identity
from abusedesk.sim.content import fill, short_link, sms_templates, stop_keywords
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_rng, token
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import mobile_pool
from abusedesk.sim.profiles.common import NumberOwner
from abusedesk.sim.scenarios.common import Cast, outside_report, throwaway_identity
from abusedesk.sim.timeutil import BUSINESS_CURVE, DAY, HOUR, hourly_mean, local_hour, poisson
from abusedesk.sim.traffic import ErrorMix, carrier_complaint, lag, send_sms, sms_opt_out


def _errors() -> dict[str, float]:
    return {"30007": 0.22, "30005": 0.02, "30003": 0.015}


@dataclass(frozen=True, slots=True)
class ProhibitedParams:
    signup_days_before: float = 3.0
    daily: int = 900
    shortener: float = 0.7
    sweepstakes: float = 0.2  # "you won" prize texts: promotional gambling / illegal sweepstakes
    opt_out: float = 0.025
    carrier_complaint: float = 0.004
    errors: Mapping[str, float] = field(default_factory=_errors)
    report_at_h: float = 28.0


class ProhibitedSender(NumberOwner):
    label = "prohibited_content"
    n_numbers = 3

    def __init__(self, ctx: SimContext, key: str, p: ProhibitedParams) -> None:
        signup = ctx.start - int(p.signup_days_before * DAY) + 16 * HOUR
        super().__init__(ctx, key, "prohibited_content", signup_at=signup)
        self.p = p
        self.errors = ErrorMix(p.errors)
        rng = self.rng
        self.site = f"{rng.choice(('greenleaf', 'cashnow', 'coinx2', 'chillvibes'))}-deals.com"
        self.report_at = ctx.at(p.report_at_h) + rng.randint(0, 3599)
        self.notes = "CBD / cannabis / payday-loan / crypto-doubling texts to US numbers"

    def make_identity(self) -> Identity:
        return throwaway_identity(derive_rng(self.ctx.seed, self.key, "id"), "US", "marketing")

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
            to, frm = pool.random(rng), self.sender()
            url = (
                short_link(rng)
                if rng.random() < p.shortener
                else f"https://{self.site}/{token(rng, 5)}"
            )
            family = "prize" if rng.random() < p.sweepstakes else "prohibited"
            body = fill(rng.choice(sms_templates(family, "en")), rng, {"url": url})
            error = self.errors.draw(rng)
            mid = send_sms(
                out, self, ts, frm=frm, to=to, body=body, error=error, price=market("US").sms_price
            )
            self.mark_abuse(ts)
            if error is None:
                x = rng.random()
                if x < p.opt_out:
                    sms_opt_out(
                        out,
                        self,
                        ts + lag(rng, 600),
                        recipient=to,
                        sender=frm,
                        word=rng.choice(stop_keywords()),
                    )
                elif x < p.opt_out + p.carrier_complaint:
                    carrier_complaint(out, self, ts + lag(rng, 3 * HOUR), mid, "abuse")
        if t0 <= self.report_at < t0 + HOUR and self.numbers:
            outside_report(
                out,
                self.rng,
                self.report_at,
                reporter="user",
                category="illegal_content",
                target=self.numbers[0],
                description="Keep getting texts selling weed and CBD, never signed up",
                evidence=["Cannabis delivery to your door in 1 hour..."],
            )


def build(ctx: SimContext, p: ProhibitedParams, cast: Cast) -> list[Actor]:
    return [ProhibitedSender(ctx, "scenario/prohibited_content/0", p)]
