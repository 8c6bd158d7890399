"""purchased_list: SMS marketing to a bought list (DOMAIN.md §3.3 consent, §3.7, §7 S1, S2, S7).

The campaigns look like any retailer's, but nobody on the list asked for them: ~20 % of attempts
hit dead, landline or invalid numbers (30005/30006/21614; S7, and S2 error rate over the 12.5 %
restriction line), ~4.5 % of delivered recipients reply STOP (S1 over the 3 % restriction line)
and carriers filter ~4 % (30007). Some recipients ask who is texting them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from abusedesk.sim.actor import Actor
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.profiles.marketing import Campaign, MarketingParams, MarketingSender
from abusedesk.sim.scenarios.common import Cast
from abusedesk.sim.timeutil import DAY


def _errors() -> dict[str, float]:
    return {"30005": 0.110, "30006": 0.050, "21614": 0.045, "30003": 0.020, "30007": 0.040}


@dataclass(frozen=True, slots=True)
class PurchasedListParams:
    country: str = "US"
    signup_days_before: float = 5.0
    list_size: int = 20_000
    audience: float = 0.06  # per campaign, two campaigns a day
    opt_out: float = 0.045  # of delivered
    reply: float = 0.012  # "who is this?"
    errors: Mapping[str, float] = field(default_factory=_errors)


class BoughtListMarketer(MarketingSender):
    label = "purchased_list"

    def __init__(self, ctx: SimContext, key: str, p: PurchasedListParams) -> None:
        size = int(p.list_size * ctx.abuse_volume)
        params = MarketingParams(
            list_size=(size, size),
            audience=(p.audience, p.audience),
            campaign_days=1.0,
            opt_out=(p.opt_out, p.opt_out),
            reply=p.reply,
            errors=p.errors,
        )
        signup = ctx.start - int(p.signup_days_before * DAY) + 15 * 3600
        super().__init__(
            ctx, key, p.country, signup_at=signup, params=params, kind="purchased_list"
        )
        invalid = sum(v for k, v in p.errors.items() if k in ("30005", "30006", "21614"))
        self.notes = (
            f"SMS marketing to a bought list of {size} numbers: ~{invalid:.0%} invalid "
            f"numbers, ~{p.opt_out:.1%} opt-outs"
        )

    def plan_day(self, day_start: int) -> None:
        rng, share = self.rng, self.params.audience[0]
        # Lunchtime and afternoon Eastern: inside 09:00-20:00 in every US zone, so the only
        # thing wrong with these campaigns is the list.
        self.schedule(day_start, rng.uniform(12.0, 13.0), share)
        self.schedule(day_start, rng.uniform(15.5, 16.5), share)

    def send_one(self, out: EventSink, ts: int, campaign: Campaign, k: int) -> None:
        self.mark_abuse(ts)
        super().send_one(out, ts, campaign, k)


def build(ctx: SimContext, p: PurchasedListParams, cast: Cast) -> list[Actor]:
    return [BoughtListMarketer(ctx, "scenario/purchased_list/0", p)]
