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

from abusedesk.sim.context import SimContext
from abusedesk.sim.profiles.email import EmailParams, TransactionalEmail
from abusedesk.sim.profiles.marketing import MarketingParams, MarketingSender
from abusedesk.sim.profiles.otp import OtpParams, OtpSender
from abusedesk.sim.timeutil import DAY


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
