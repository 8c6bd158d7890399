"""OTP senders: sign-up and log-in codes for an app's users (Verify-style flows).

Each start sends one SMS; most codes are entered within one to five minutes. Conversion (checks
that succeed / starts) lands at 85-93 %, the healthy range pumping detection compares against
(DOMAIN.md §3.5, signal S8). Carrier errors stay at 1-4 % (30003 unreachable, 30005 unknown
handset, 30008 unknown), the "occasional 30005 is normal" level of §2.6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from abusedesk.sim.actor import Actor, Identity, business_identity
from abusedesk.sim.content import fill, sms_templates
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import sid
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import mobile_pool
from abusedesk.sim.profiles.common import alpha_sender, destination_country, short_code
from abusedesk.sim.timeutil import CONSUMER_CURVE, HOUR, hourly_mean, local_hour, poisson
from abusedesk.sim.traffic import ErrorMix, send_sms
from abusedesk.sim.variety import scaled_errors, varied, varied_log


def _errors() -> dict[str, float]:
    return {"30003": 0.011, "30005": 0.008, "30008": 0.004}


@dataclass(frozen=True, slots=True)
class OtpParams:
    daily_starts: tuple[int, int] = (250, 700)
    home_share: float = 0.85
    # P(code entered | delivered); times ~97.5 % delivered gives 85-93 % conversion per start.
    convert: tuple[float, float] = (0.88, 0.95)
    wrong_first: float = 0.05  # a mistyped code before the right one (a failed check)
    errors: Mapping[str, float] = field(default_factory=_errors)


class OtpSender(Actor):
    def __init__(
        self,
        ctx: SimContext,
        key: str,
        country: str,
        *,
        signup_at: int,
        params: OtpParams | None = None,
        kind: str = "otp",
    ) -> None:
        self.country = country
        super().__init__(ctx, key, kind, signup_at=signup_at)
        self.params = params or OtpParams()
        rng = self.rng
        self.daily = rng.randint(*self.params.daily_starts) * 1.0
        self.convert = rng.uniform(*self.params.convert)
        self.home_share = self.params.home_share
        errors = dict(self.params.errors)
        if kind == "otp":  # plain legitimate senders vary; outliers and scenarios keep theirs
            convert = varied(ctx, key, "otp-convert", (0.55, 0.99), (0.45, 0.995))
            self.convert = self.convert if convert is None else convert
            home = varied(ctx, key, "otp-home-share", (0.7, 0.97), (0.5, 0.99))
            self.home_share = self.home_share if home is None else home
            errors = scaled_errors(errors, varied_log(ctx, key, "errors", (0.5, 2.5), (0.3, 3.0)))
        self.errors = ErrorMix(errors)
        self.service = sid(rng, "VA")
        us_like = country in ("US", "CA")
        self.from_id = short_code(rng) if us_like else alpha_sender(self.ident.brand)
        self.notes = f"OTP sender in {country}, ~{int(self.daily)} starts/day"

    def make_identity(self) -> Identity:
        return business_identity(self.rng, self.country, "otp")

    def traffic(self, t0: int, out: EventSink) -> None:
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        rng = self.rng
        n = poisson(rng, hourly_mean(self.daily, CONSUMER_CURVE, local_hour(self.tz, t0)))
        for _ in range(n):
            country = destination_country(rng, self.country, self.home_share)
            to = mobile_pool(country).random(rng)
            self.verify(out, rng.randint(start, t0 + HOUR - 1), to, country, self.convert)

    def verify(self, out: EventSink, ts: int, to: str, country: str, convert: float) -> bool:
        """One OTP flow: start, the SMS and its receipt, then the user's check(s)."""
        rng, aid = self.rng, self.account_id
        vid = sid(rng, "VE")
        out.emit(ts, "verification", aid, start_fields(vid, to))
        mk = market(country)
        body = fill(rng.choice(sms_templates("otp", mk.lang)), rng, {"brand": self.ident.brand})
        error = self.errors.draw(rng)
        send_sms(
            out,
            self,
            ts + 1,
            frm=self.from_id,
            to=to,
            body=body,
            error=error,
            price=mk.sms_price,
            campaign=self.service,
        )
        if error is not None or rng.random() >= convert:
            if error is None and rng.random() < 0.15:  # typed something, gave up
                out.emit(
                    ts + rng.randint(60, 600), "verification", aid, check_fields(vid, to, False)
                )
            return False
        t = ts + rng.randint(40, 290)
        if rng.random() < self.params.wrong_first:
            out.emit(t, "verification", aid, check_fields(vid, to, False))
            t += rng.randint(10, 60)
        out.emit(t, "verification", aid, check_fields(vid, to, True))
        return True


def start_fields(vid: str, to: str) -> dict[str, object]:
    return {"verification_id": vid, "stage": "start", "to": to, "channel": "sms"}


def check_fields(vid: str, to: str, success: bool) -> dict[str, object]:
    return {
        "verification_id": vid,
        "stage": "check",
        "to": to,
        "success": success,
        "channel": "sms",
    }
