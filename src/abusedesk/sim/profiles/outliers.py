"""Legitimate outliers: honest customers whose traffic *looks* like abuse on one axis.

A careful desk leaves them alone, and the evaluation reports separately when it does not:
  - outlier_flash_sale: ten times the usual campaign volume in two business hours, with opt-outs
    and errors still in the healthy band (volume spike, E11, without any harm signal);
  - outlier_otp_high_risk_good_conversion: OTP traffic to Nigeria (on the Braze default-deny
    list, DOMAIN.md §3.5 item 7) from a Nigerian app whose users do enter their codes (> 85 %);
  - outlier_big_clean_email: ten times the volume of other email senders, bounces < 1 % and
    complaints < 0.02 %.
"""

from __future__ import annotations

from collections.abc import Callable

from abusedesk.sim.actor import Actor
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_seed
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import list_number, mobile_pool
from abusedesk.sim.profiles.email import EmailParams, TransactionalEmail
from abusedesk.sim.profiles.marketing import MarketingParams, MarketingSender
from abusedesk.sim.profiles.notifications import NotificationParams, NotificationSender
from abusedesk.sim.profiles.otp import OtpParams, OtpSender
from abusedesk.sim.timeutil import (
    CONSUMER_CURVE,
    DAY,
    HOUR,
    hourly_mean,
    local_hour,
    local_to_epoch,
    poisson,
    rfc3339,
)
from abusedesk.sim.traffic import send_sms


class FlashSale(MarketingSender):
    """Normal campaigns of ~1,000 messages; one 2-hour flash sale of ~10,000 on the second day."""

    FLASH_SHARE = 0.7

    def __init__(
        self, ctx: SimContext, key: str, country: str, *, signup_at: int, index: int = 0
    ) -> None:
        v = ctx.outlier_volume
        params = MarketingParams(
            list_size=(int(9_000 * v), int(10_000 * v)), audience=(0.065, 0.075), campaign_days=1.0
        )
        super().__init__(
            ctx, key, country, signup_at=signup_at, params=params, kind="outlier_flash_sale"
        )
        # The first one on the second day, so the desk has seen a normal day first; at larger
        # scales the others follow on later days (real sales do not all fall on one afternoon).
        days = ctx.hours // 24
        self.flash_day = ctx.start + ((1 + index) % days if days >= 2 else 0) * DAY
        self.notes = (
            f"legitimate SMS marketing in {country} with a 2-hour flash sale at 10x its usual "
            "campaign size; opt-outs and errors stay normal"
        )

    def plan_day(self, day_start: int) -> None:
        if day_start != self.flash_day:
            super().plan_day(day_start)
            return
        count = self.list_size * self.FLASH_SHARE
        self.schedule(
            day_start,
            self.rng.uniform(12.0, 13.0),
            self.FLASH_SHARE,
            family="flash_sale",
            per_minute=count / 120,
        )


def high_risk_otp(ctx: SimContext, key: str, *, signup_at: int) -> OtpSender:
    v = ctx.outlier_volume
    params = OtpParams(
        daily_starts=(int(350 * v), int(500 * v)),
        home_share=0.97,
        convert=(0.92, 0.95),
        errors={"30003": 0.018, "30005": 0.009, "30008": 0.006},
    )
    actor = OtpSender(
        ctx,
        key,
        "NG",
        signup_at=signup_at,
        params=params,
        kind="outlier_otp_high_risk_good_conversion",
    )
    actor.notes = (
        "Nigerian fintech app: OTP traffic to NG (a default-deny country) with > 85 % conversion"
    )
    return actor


def big_clean_email(
    ctx: SimContext, key: str, country: str, *, signup_at: int
) -> TransactionalEmail:
    params = EmailParams(daily=(380, 420), hard=(0.003, 0.005), complaint=(0.00005, 0.00012))
    actor = TransactionalEmail(
        ctx,
        key,
        country,
        signup_at=signup_at,
        params=params,
        kind="outlier_big_clean_email",
        volume_factor=10.0 * ctx.outlier_volume,
    )
    actor.notes = (
        f"very large transactional sender ({int(actor.daily)}/day, ten times a typical one) with "
        "bounces < 1 % and complaints < 0.02 %"
    )
    return actor


# Outliers of the varied simulator (`--variety realistic` and `wide`; sim/variety.py).


class CharityAppeal(MarketingSender):
    """A charity that texts its supporters rarely: one appeal to almost its whole list on the
    second day, in three hours. One-off appeals to lapsed supporters draw more STOPs than a
    weekly newsletter (0.8-1.4 %, still under the 2 % warning level of DOMAIN.md §3.7)."""

    def __init__(self, ctx: SimContext, key: str, country: str, *, signup_at: int) -> None:
        v = ctx.outlier_volume
        params = MarketingParams(
            list_size=(int(14_000 * v), int(20_000 * v)),
            campaign_days=0.0,
            opt_out=(0.008, 0.014),
        )
        super().__init__(
            ctx, key, country, signup_at=signup_at, params=params, kind="outlier_charity_appeal"
        )
        self.appeal_day = ctx.start + (DAY if ctx.hours >= 48 else 0)
        self.notes = (
            f"charity in {country}: one appeal to ~90 % of a {self.list_size}-number list in "
            "three hours; opt-outs around 1 %"
        )

    def plan_day(self, day_start: int) -> None:
        if day_start == self.appeal_day:
            count = self.list_size * 0.9
            self.schedule(day_start, self.rng.uniform(11.0, 12.0), 0.9, per_minute=count / 180)


class SchoolEmergency(NotificationSender):
    """A school district's notices: a few a day, and one emergency alert to every parent at
    night (a closure after a storm), 22:00-23:00 local. Emergency texts are not solicitations:
    the quiet-hours rule of 47 CFR 64.1200(c)(1) does not govern them."""

    def __init__(self, ctx: SimContext, key: str, *, signup_at: int) -> None:
        v = ctx.outlier_volume
        super().__init__(
            ctx,
            key,
            "US",
            signup_at=signup_at,
            params=NotificationParams(daily=(max(1, int(60 * v)), max(2, int(120 * v)))),
            kind="outlier_school_emergency_night",
        )
        self.parents = max(20, int(self.rng.randint(2_000, 3_500) * v))
        night = ctx.start + (DAY if ctx.hours >= 48 else 0)
        self.alert_at = local_to_epoch(self.tz, night, self.rng.uniform(22.0, 22.9))
        self.sent = 0
        self.notes = (
            f"school district in the US: notices by day and one emergency alert to "
            f"{self.parents} parents at 22:00-23:00 local"
        )

    def traffic(self, t0: int, out: EventSink) -> None:
        super().traffic(t0, out)
        if self.sent >= self.parents or not t0 <= self.alert_at + self.sent // 50 < t0 + HOUR:
            return
        rng = self.rng
        pool = mobile_pool("US")
        salt = derive_seed(self.ctx.seed, self.key, "parents")
        cid = f"emergency-{rfc3339(self.alert_at)[:10]}"
        body = (
            f"{self.ident.brand} Schools: all schools are CLOSED tomorrow after tonight's storm. "
            "Stay safe."
        )
        while self.sent < self.parents:
            ts = self.alert_at + self.sent // 50  # 50 a second through the alert service
            if ts >= t0 + HOUR:
                break
            to = list_number(pool, salt, self.sent)
            send_sms(out, self, ts, frm=self.sender(), to=to, body=body,
                     error=self.errors.draw(rng), price=market("US").sms_price,
                     campaign=cid)  # fmt: skip
            self.sent += 1


class OtpLaunch(OtpSender):
    """An OTP app from the second day launching in a new country: 30-45 % of its starts go
    there, and conversion on the new market sits at 62-75 % while users learn the flow."""

    def __init__(self, ctx: SimContext, key: str, country: str, *, signup_at: int) -> None:
        v = ctx.outlier_volume
        params = OtpParams(daily_starts=(int(300 * v), int(500 * v)))
        super().__init__(
            ctx, key, country, signup_at=signup_at, params=params,
            kind="outlier_otp_new_country_launch",
        )  # fmt: skip
        self.launch_at = ctx.at(26.0) + self.rng.randint(0, 3599)
        self.new_country = "BR" if country != "BR" else "MX"
        self.new_share = self.rng.uniform(0.3, 0.45)
        self.new_convert = self.rng.uniform(0.65, 0.78)
        self.notes = (
            f"OTP app in {country} launching in {self.new_country} on day two: "
            f"{self.new_share:.0%} of starts there at {self.new_convert:.0%} code entry"
        )

    def traffic(self, t0: int, out: EventSink) -> None:
        if t0 + HOUR <= self.launch_at:
            super().traffic(t0, out)
            return
        rng = self.rng
        mean = hourly_mean(self.daily * 1.3, CONSUMER_CURVE, local_hour(self.tz, t0))
        start = max(t0, self.launch_at)
        for _ in range(poisson(rng, mean)):
            ts = rng.randint(start, t0 + HOUR - 1)
            if rng.random() < self.new_share:
                to = mobile_pool(self.new_country).random(rng)
                self.verify(out, ts, to, self.new_country, self.new_convert)
            else:
                to = mobile_pool(self.country).random(rng)
                self.verify(out, ts, to, self.country, self.convert)


class NewNumberMarketer(MarketingSender):
    """A marketer that moves to a new number on the second day (a toll-free number approved
    after verification) and sends everything from it afterwards."""

    def __init__(self, ctx: SimContext, key: str, country: str, *, signup_at: int) -> None:
        v = ctx.outlier_volume
        params = MarketingParams(list_size=(int(4_000 * v), int(8_000 * v)), campaign_days=1.0)
        super().__init__(
            ctx, key, country, signup_at=signup_at, params=params, kind="outlier_new_number"
        )
        self.move_at = ctx.at(20.0) + self.rng.randint(0, 3599)
        self.moved: str | None = None
        self.notes = f"SMS marketer in {country} moving its campaigns to a new number on day two"

    def traffic(self, t0: int, out: EventSink) -> None:
        if self.moved is None and t0 <= self.move_at < t0 + HOUR:
            self.moved = mobile_pool(self.ident.country).random(self.rng)
            self.account_event(out, self.move_at, "number_purchased", phone_number=self.moved)
        super().traffic(t0, out)

    def sender(self) -> str:
        return self.moved or super().sender()


class BankFraudAlerts(NotificationSender):
    """A bank's alerts: steady by day, and on the second day a three-hour burst of fraud alerts
    at eight times the usual rate after a card breach at a merchant, with many replies."""

    def __init__(self, ctx: SimContext, key: str, country: str, *, signup_at: int) -> None:
        v = ctx.outlier_volume
        super().__init__(
            ctx, key, country, signup_at=signup_at,
            params=NotificationParams(daily=(int(400 * v), int(600 * v)), reply=0.04),
            kind="outlier_bank_fraud_alerts",
        )  # fmt: skip
        self.burst_at = ctx.at(34.0) + self.rng.randint(0, 3599)
        self.notes = f"bank in {country}: alerts, with an 8x fraud-alert burst for 3 h on day two"

    def traffic(self, t0: int, out: EventSink) -> None:
        rounds = 8 if self.burst_at <= t0 < self.burst_at + 3 * HOUR else 1
        for _ in range(rounds):
            super().traffic(t0, out)


def varied_outliers(ctx: SimContext, signup: Callable[[str], int], i: int) -> list[Actor]:
    """The outliers only the varied simulator has (one of each per unit of scale)."""
    keys = [f"legit/outlier/{n}/{i}" for n in range(3, 8)]
    country = ("US", "GB")[i % 2]
    return [
        CharityAppeal(ctx, keys[0], country, signup_at=signup(keys[0])),
        SchoolEmergency(ctx, keys[1], signup_at=signup(keys[1])),
        OtpLaunch(ctx, keys[2], ("GB", "DE")[i % 2], signup_at=signup(keys[2])),
        NewNumberMarketer(ctx, keys[3], country, signup_at=signup(keys[3])),
        BankFraudAlerts(ctx, keys[4], ("GB", "US")[i % 2], signup_at=signup(keys[4])),
    ]
