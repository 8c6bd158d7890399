"""Voice: appointment-reminder and support call-back traffic from numbers the account owns.

Calls are signed with full attestation (A) because the platform knows the customer and its
numbers (DOMAIN.md §3.6); conversations last minutes, not seconds; and nobody is called outside
09:00-20:00 in their own time zone (a US customer in New York does not call Seattle at 06:00).
"""

from __future__ import annotations

from abusedesk.sim.actor import Identity, business_identity
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.numbers import mobile_pool
from abusedesk.sim.profiles.common import NumberOwner
from abusedesk.sim.timeutil import BUSINESS_CURVE, HOUR, hourly_mean, local_hour, poisson
from abusedesk.sim.traffic import place_call


class VoiceCaller(NumberOwner):
    n_numbers = 3

    def __init__(
        self, ctx: SimContext, key: str, country: str, *, signup_at: int, daily: tuple[int, int]
    ) -> None:
        self.country = country
        super().__init__(ctx, key, "voice", signup_at=signup_at)
        self.daily = float(self.rng.randint(*daily))
        self.notes = f"appointment reminder / call-back calls in {country}, ~{int(self.daily)}/day"

    def make_identity(self) -> Identity:
        return business_identity(self.rng, self.country, "voice_notifications")

    def traffic(self, t0: int, out: EventSink) -> None:
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        rng = self.rng
        pool = mobile_pool(self.country)
        n = poisson(rng, hourly_mean(self.daily, BUSINESS_CURVE, local_hour(self.tz, t0)))
        for _ in range(n):
            ts = rng.randint(start, t0 + HOUR - 1)
            to, tz = pool.random_with_tz(rng)
            if not 9.0 <= local_hour(tz, ts) < 20.0:
                continue  # the dialler holds the call for the callee's morning
            x = rng.random()
            if x < 0.74:
                status, duration = "completed", float(rng.randint(25, 300))
            elif x < 0.92:
                status, duration = "no-answer", 0.0
            elif x < 0.97:
                status, duration = "busy", 0.0
            else:
                status, duration = "failed", 0.0
            attestation = "A" if rng.random() < 0.96 else "B"
            place_call(
                out,
                self,
                ts,
                frm=self.sender(),
                to=to,
                status=status,
                duration=duration,
                attestation=attestation,
            )
