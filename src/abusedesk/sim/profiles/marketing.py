"""Marketing SMS: campaigns to an opted-in subscriber list in local business hours.

A campaign goes to a slice of the list at carrier-friendly throughput, starting 12:30-15:30 in
the sender's main zone, so every recipient (even three US zones west) gets it between 09:00 and
20:00 local. About 0.3-0.8 % of delivered recipients reply STOP (the healthy band of DOMAIN.md
§3.7, S1) and are never texted again; 30007 filtering stays well under 1 % (S3).
The list is implicit (subscriber i is a hash of i), so a 50,000-number list costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from abusedesk.sim.actor import Identity, business_identity
from abusedesk.sim.content import FIRST_NAMES, brand_link, fill, sms_templates, stop_keywords
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_seed
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import NumberPool, list_number, mobile_pool
from abusedesk.sim.profiles.common import NumberOwner
from abusedesk.sim.timeutil import DAY, HOUR, local_to_epoch, rfc3339
from abusedesk.sim.traffic import ErrorMix, inbound_sms, lag, send_sms, sms_opt_out
from abusedesk.sim.variety import chance, scaled_errors, varied, varied_log


def _errors() -> dict[str, float]:
    return {"30003": 0.009, "30005": 0.006, "30006": 0.002, "30007": 0.004, "30008": 0.002}


@dataclass(frozen=True, slots=True)
class MarketingParams:
    list_size: tuple[int, int] = (4000, 9000)
    audience: tuple[float, float] = (0.12, 0.25)  # share of the list per campaign
    campaign_days: float = 0.85  # P(a campaign on a given day)
    local_start: tuple[float, float] = (12.5, 15.5)
    per_minute: float = 30.0  # throughput of a 10DLC long code campaign
    opt_out: tuple[float, float] = (0.003, 0.008)  # of delivered
    reply: float = 0.002
    errors: Mapping[str, float] = field(default_factory=_errors)


@dataclass(slots=True)
class Campaign:
    cid: str
    start: int
    count: int
    per_minute: float
    first_index: int
    family: str
    next_k: int = 0
    text: str | None = None  # the campaign's copy, with {url} and {first} left per recipient

    def due(self, t0: int) -> range:
        """Indexes of the messages whose send time falls before t0 + 1 h."""
        end = t0 + HOUR
        if self.start >= end:
            return range(0)
        upto = min(self.count, int((end - self.start) * self.per_minute / 60) + 1)
        k0, self.next_k = self.next_k, max(self.next_k, upto)
        return range(k0, self.next_k)

    def when(self, k: int) -> int:
        return self.start + int(k * 60 / self.per_minute)


class MarketingSender(NumberOwner):
    family = "marketing"

    def __init__(
        self,
        ctx: SimContext,
        key: str,
        country: str,
        *,
        signup_at: int,
        params: MarketingParams | None = None,
        kind: str = "marketing_sms",
    ) -> None:
        self.country = country
        super().__init__(ctx, key, kind, signup_at=signup_at)
        self.params = p = params or MarketingParams()
        rng = self.rng
        self.list_size = rng.randint(*p.list_size)
        self.list_salt = derive_seed(ctx.seed, key, "list")
        self.opt_out_p = rng.uniform(*p.opt_out)
        errors = dict(p.errors)
        # Suppression lag (DOMAIN.md S15): an honest list that takes hours to honour a STOP,
        # so a reminder to the same audience reaches a few people who opted out.
        self.suppress_lag_s = 0
        self.reminders = 0.0
        if kind == "marketing_sms":  # plain legitimate senders vary; outliers keep theirs
            opt_out = varied_log(ctx, key, "opt-out", (0.001, 0.015), (0.0005, 0.019))
            self.opt_out_p = self.opt_out_p if opt_out is None else opt_out
            errors = scaled_errors(errors, varied_log(ctx, key, "errors", (0.5, 2.5), (0.3, 3.0)))
            if chance(ctx, key, "suppression-lag", 0.35, 0.5):
                hours = varied(ctx, key, "suppression-lag-h", (4.0, 36.0), (2.0, 72.0)) or 0.0
                self.suppress_lag_s = int(hours * HOUR)
                self.reminders = 0.5
        self.errors = ErrorMix(errors)
        self.opted_out: set[str] = set()
        self.stopped: dict[str, tuple[int, str]] = {}  # recipient -> (STOP time, number)
        self.last_campaign: Campaign | None = None
        self.campaigns: list[Campaign] = []
        self.cursor = rng.randrange(self.list_size)
        self.n_campaigns = 0
        self.notes = f"SMS marketing in {country}, list of {self.list_size} opted-in subscribers"

    def make_identity(self) -> Identity:
        return business_identity(self.rng, self.country, "marketing")

    @property
    def pool(self) -> NumberPool:
        return mobile_pool(self.country)

    # planning -----------------------------------------------------------------------------
    def traffic(self, t0: int, out: EventSink) -> None:
        if (t0 - self.ctx.start) % DAY == 0:
            self.plan_day(t0)
        for campaign in self.campaigns:
            for k in campaign.due(t0):
                ts = campaign.when(k)
                if ts >= self.ready_at:
                    self.send_one(out, ts, campaign, k)
        self.campaigns = [c for c in self.campaigns if c.next_k < c.count]

    def plan_day(self, day_start: int) -> None:
        p, rng = self.params, self.rng
        previous = self.last_campaign
        if rng.random() < p.campaign_days:
            self.last_campaign = self.schedule(
                day_start, rng.uniform(*p.local_start), rng.uniform(*p.audience)
            )
        if previous is not None and self.reminders and rng.random() < self.reminders:
            self.remind(day_start, previous)

    def remind(self, day_start: int, previous: Campaign) -> None:
        """A reminder to the first part of yesterday's audience ("last day of the offer")."""
        start = local_to_epoch(self.tz, day_start, self.rng.uniform(10.0, 11.5))
        if start < day_start or start >= self.ctx.end:
            return
        count = max(1, int(previous.count * self.rng.uniform(0.3, 0.6)))
        self.n_campaigns += 1
        cid = f"{previous.cid}-reminder"
        rate = max(self.params.per_minute, count / 75)
        self.campaigns.append(
            Campaign(cid, start, count, rate, previous.first_index, previous.family)
        )

    def schedule(
        self, day_start: int, local: float, share: float, *, family: str | None = None,
        per_minute: float | None = None,
    ) -> Campaign | None:  # fmt: skip
        start = local_to_epoch(self.tz, day_start, local)
        if start < day_start or start >= self.ctx.end:
            return None
        count = max(1, int(self.list_size * share))
        self.n_campaigns += 1
        cid = (
            f"{self.ident.brand.lower()}-{rfc3339(start)[:10].replace('-', '')}-{self.n_campaigns}"
        )
        rate = per_minute or max(self.params.per_minute, count / 75)
        campaign = Campaign(cid, start, count, rate, self.cursor, family or self.family)
        self.cursor = (self.cursor + count) % self.list_size
        self.campaigns.append(campaign)
        return campaign

    # sending ------------------------------------------------------------------------------
    def recipient(self, campaign: Campaign, k: int) -> str:
        return list_number(self.pool, self.list_salt, (campaign.first_index + k) % self.list_size)

    def send_one(self, out: EventSink, ts: int, campaign: Campaign, k: int) -> None:
        to = self.recipient(campaign, k)
        if to in self.opted_out:
            return  # an honest sender suppresses opted-out numbers
        stop = self.stopped.get(to)
        if stop is not None:
            if ts >= stop[0] + self.suppress_lag_s:
                self.opted_out.add(to)
                return
            # Not suppressed yet: the platform refuses it from the number that got the STOP.
            frm = self.sender()
            if frm == stop[1]:
                send_sms(out, self, ts, frm=frm, to=to, body=self.body(campaign), error="21610",
                         price=0.0, campaign=campaign.cid)  # fmt: skip
            else:
                send_sms(out, self, ts, frm=frm, to=to, body=self.body(campaign), error=None,
                         price=market(self.country).sms_price, campaign=campaign.cid)  # fmt: skip
            return
        self.deliver(out, ts, to, campaign, self.sender())

    def body(self, campaign: Campaign) -> str:
        """The campaign's one text (same offer and code for everyone), with a tracked link and
        the first name filled in per recipient."""
        rng = self.rng
        if campaign.text is None:
            lang = market(self.country).lang
            template = rng.choice(sms_templates(campaign.family, lang))
            keep = {"brand": self.ident.brand, "url": "{url}", "first": "{first}"}
            campaign.text = fill(template, rng, keep)
        text = campaign.text.replace("{url}", brand_link(rng, self.ident.domain, "m"))
        if "{first}" in text:
            text = text.replace("{first}", rng.choice(FIRST_NAMES))
        return text

    def deliver(self, out: EventSink, ts: int, to: str, campaign: Campaign, frm: str) -> str | None:
        """Send one campaign message and draw what the recipient does with it."""
        rng = self.rng
        error = self.error_for(to)
        send_sms(
            out,
            self,
            ts,
            frm=frm,
            to=to,
            body=self.body(campaign),
            error=error,
            price=market(self.country).sms_price,
            campaign=campaign.cid,
        )
        if error is not None:
            return error
        x = rng.random()
        if x < self.opt_out_p:
            stop_at = ts + lag(rng, 900, 1.1)
            sms_opt_out(
                out, self, stop_at, recipient=to, sender=frm, word=rng.choice(stop_keywords())
            )
            self.on_opt_out(to, frm, stop_at)
        elif x < self.opt_out_p + self.params.reply:
            reply = rng.choice(sms_templates("reply", "en"))
            inbound_sms(out, self, ts + lag(rng, 1200, 1.0), frm=to, to=frm, body=reply)
        return None

    def error_for(self, to: str) -> str | None:
        return self.errors.draw(self.rng)

    def on_opt_out(self, to: str, sender: str, stop_at: int) -> None:
        if self.suppress_lag_s:
            self.stopped[to] = (stop_at, sender)
        else:
            self.opted_out.add(to)
