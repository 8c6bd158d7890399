"""Transactional SMS: shipping updates, appointment reminders, receipts. Steady, daytime,
one-to-one; recipients occasionally reply ("C", "thanks") and almost never opt out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from abusedesk.sim.actor import Identity, business_identity
from abusedesk.sim.content import brand_link, fill, sms_templates, stop_keywords
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import mobile_pool
from abusedesk.sim.profiles.common import NumberOwner, destination_country
from abusedesk.sim.timeutil import BUSINESS_CURVE, HOUR, hourly_mean, local_hour, poisson
from abusedesk.sim.traffic import ErrorMix, inbound_sms, lag, send_sms, sms_opt_out
from abusedesk.sim.variety import scaled_errors, varied_log


def _errors() -> dict[str, float]:
    return {"30003": 0.010, "30005": 0.006, "30008": 0.003, "30007": 0.001}


@dataclass(frozen=True, slots=True)
class NotificationParams:
    daily: tuple[int, int] = (300, 800)
    home_share: float = 0.95
    reply: float = 0.01
    opt_out: float = 0.0005
    errors: Mapping[str, float] = field(default_factory=_errors)


class NotificationSender(NumberOwner):
    def __init__(
        self,
        ctx: SimContext,
        key: str,
        country: str,
        *,
        signup_at: int,
        params: NotificationParams | None = None,
        kind: str = "notifications_sms",
    ) -> None:
        self.country = country
        super().__init__(ctx, key, kind, signup_at=signup_at)
        self.params = params or NotificationParams()
        self.daily = float(self.rng.randint(*self.params.daily))
        errors = dict(self.params.errors)
        if kind == "notifications_sms":
            errors = scaled_errors(errors, varied_log(ctx, key, "errors", (0.5, 2.5), (0.3, 3.0)))
        self.errors = ErrorMix(errors)
        self.notes = f"order/appointment notifications in {country}, ~{int(self.daily)}/day"

    def make_identity(self) -> Identity:
        return business_identity(self.rng, self.country, "notifications")

    def traffic(self, t0: int, out: EventSink) -> None:
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        rng, p = self.rng, self.params
        n = poisson(rng, hourly_mean(self.daily, BUSINESS_CURVE, local_hour(self.tz, t0)))
        for _ in range(n):
            ts = rng.randint(start, t0 + HOUR - 1)
            country = destination_country(rng, self.country, p.home_share)
            mk = market(country)
            to = mobile_pool(country).random(rng)
            values = {
                "brand": self.ident.brand,
                "url": brand_link(rng, self.ident.domain, "t"),
                "currency": market(self.country).currency,
            }
            body = fill(rng.choice(sms_templates("notification", mk.lang)), rng, values)
            frm = self.sender()
            error = self.errors.draw(rng)
            send_sms(out, self, ts, frm=frm, to=to, body=body, error=error, price=mk.sms_price)
            if error is None:
                x = rng.random()
                if x < p.opt_out:
                    sms_opt_out(
                        out,
                        self,
                        ts + lag(rng, 1800),
                        recipient=to,
                        sender=frm,
                        word=rng.choice(stop_keywords()),
                    )
                elif x < p.opt_out + p.reply:
                    reply = rng.choice(sms_templates("reply", "en"))
                    inbound_sms(out, self, ts + lag(rng, 900), frm=to, to=frm, body=reply)
