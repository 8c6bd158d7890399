"""consent_violation: texting people who said STOP, and texting at night (DOMAIN.md §3.4, S4, S14).

A South Florida retailer's list gets a lunchtime campaign, an evening one at 21:40-22:20 local
and, on some days, an early one at 06:20-07:10 local: both outside the 08:00-21:00 window of
47 CFR 64.1200(c)(1). It keeps no suppression list: about 2 % reply STOP, and later campaigns
(plus a nightly "we miss you" blast to exactly those people) text them again. Twilio blocks the
sends from the number they opted out of (21610, S4 > 0); the ones from its other number arrive.
abuse_start is the first quiet-hours send or the first send after a STOP, whichever is earlier.
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import US_EASTERN_FLORIDA, NumberPool, mobile_pool
from abusedesk.sim.profiles.marketing import Campaign, MarketingParams, MarketingSender
from abusedesk.sim.scenarios.common import Cast
from abusedesk.sim.timeutil import DAY, local_hour
from abusedesk.sim.traffic import send_sms


@dataclass(frozen=True, slots=True)
class ConsentParams:
    signup_days_before: float = 45.0
    list_size: int = 2000
    day_share: float = 0.45
    evening_share: float = 0.35
    evening_local: tuple[float, float] = (21.67, 22.33)
    morning_local: tuple[float, float] = (6.33, 7.17)
    morning_days: float = 0.6
    opt_out: float = 0.02  # of delivered
    main_number_share: float = 0.65  # sends from the first number (the one people STOP)


class ConsentViolator(MarketingSender):
    label = "consent_violation"

    def __init__(self, ctx: SimContext, key: str, p: ConsentParams) -> None:
        size = int(p.list_size * ctx.abuse_volume)
        params = MarketingParams(
            list_size=(size, size), campaign_days=1.0, opt_out=(p.opt_out, p.opt_out)
        )
        signup = ctx.start - int(p.signup_days_before * DAY) + 14 * 3600
        super().__init__(ctx, key, "US", signup_at=signup, params=params, kind="consent_violation")
        self.p = p
        self.stops: dict[str, tuple[int, str]] = {}  # recipient -> (STOP time, number it hit)
        self.winback: dict[str, list[str]] = {}
        self.notes = (
            "South Florida SMS marketer with no suppression: texts recipients again after STOP "
            "(21610 from the opted-out number, delivered from its other one) and sends campaigns "
            "at 21:40-22:20 and 06:20-07:10 recipient local time"
        )

    @property
    def pool(self) -> NumberPool:
        return mobile_pool("US", US_EASTERN_FLORIDA)

    @property
    def tz(self) -> str:
        return "America/New_York"

    def plan_day(self, day_start: int) -> None:
        p, rng = self.p, self.rng
        self.schedule(day_start, rng.uniform(11.0, 12.5), p.day_share)
        if rng.random() < p.morning_days:
            self.schedule(day_start, rng.uniform(*p.morning_local), p.evening_share / 2)
        evening = self.schedule(day_start, rng.uniform(*p.evening_local), p.evening_share)
        if evening is not None and self.stops:
            # The "we miss you" blast: exactly the people who opted out, right after the evening run.
            targets = sorted(self.stops)
            blast = Campaign(
                evening.cid + "-winback", evening.start + 3600, len(targets), 20.0, 0, "marketing"
            )
            self.winback[blast.cid] = targets
            self.campaigns.append(blast)

    def recipient(self, campaign: Campaign, k: int) -> str:
        targets = self.winback.get(campaign.cid)
        return targets[k] if targets is not None else super().recipient(campaign, k)

    def sender(self) -> str:
        if len(self.numbers) > 1 and self.rng.random() >= self.p.main_number_share:
            return self.numbers[1]
        return self.numbers[0] if self.numbers else super().sender()

    def send_one(self, out: EventSink, ts: int, campaign: Campaign, k: int) -> None:
        to = self.recipient(campaign, k)
        frm = self.sender()
        hour = local_hour(self.tz, ts)
        if hour < 8.0 or hour >= 21.0:
            self.mark_abuse(ts)
        stop = self.stops.get(to)
        if stop is not None and ts > stop[0]:
            self.mark_abuse(ts)
            if frm == stop[1]:
                body = self.body(campaign)
                # Twilio refuses it (the number replied STOP to this sender): the attempt is
                # the violation the desk sees.
                send_sms(
                    out,
                    self,
                    ts,
                    frm=frm,
                    to=to,
                    body=body,
                    error="21610",
                    price=market("US").sms_price,
                    campaign=campaign.cid,
                )
                return
        self.deliver(out, ts, to, campaign, frm)

    def on_opt_out(self, to: str, sender: str, stop_at: int) -> None:
        self.stops.setdefault(to, (stop_at, sender))


def build(ctx: SimContext, p: ConsentParams, cast: Cast) -> list[Actor]:
    return [ConsentViolator(ctx, "scenario/consent_violation/0", p)]
