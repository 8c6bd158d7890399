"""smishing_ring: a handful of fresh accounts sending the same phishing lure (DOMAIN.md §3.3).

Four to six accounts sign up within three hours from one /24, several on the same device and
several with the same card (E15 related-account linkage), declare a harmless use case, buy US
long codes and text parcel and bank lures with lookalike or shortened links to US and UK
numbers. Carriers filter ~28 % of it (30007, S3), recipients forward ~1.5 % of what arrives to
7726 (carrier complaints), and one carrier sends a phishing report naming a sender number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from abusedesk.sim.actor import Actor, Identity, card_fingerprint, device_id, random_ip
from abusedesk.sim.content import fill, short_link, sms_templates
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_rng
from abusedesk.sim.markets import market
from abusedesk.sim.numbers import mobile_pool
from abusedesk.sim.profiles.common import NumberOwner
from abusedesk.sim.scenarios.common import Cast, outside_report, same_subnet, throwaway_identity
from abusedesk.sim.timeutil import CONSUMER_CURVE, DAY, HOUR, hourly_mean, local_hour, poisson
from abusedesk.sim.traffic import ErrorMix, carrier_complaint, lag, send_sms


def _errors() -> dict[str, float]:
    return {"30007": 0.28, "30005": 0.03, "30003": 0.02}


@dataclass(frozen=True, slots=True)
class SmishingParams:
    members: int = 5
    first_signup_h: float = 9.0
    signup_spread_h: float = 3.0
    daily: tuple[int, int] = (300, 480)  # per member
    us_share: float = 0.7  # the rest goes to UK numbers
    link_shortener: float = 0.3
    errors: Mapping[str, float] = field(default_factory=_errors)
    carrier_complaint: float = 0.015  # of delivered
    report_after_h: float = 10.0  # carrier report, hours after the first lure


# Lure families by target market, and the lookalike domain shapes each family uses.
LURES: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (("USPS", "usps-{w}{n}.com"), ("{bank}", "{b}-{w}{n}.com")),
    "GB": (
        ("Royal Mail", "royalmail-{w}{n}.com"),
        ("HMRC", "hmrc-{w}{n}.co"),
        ("Evri", "evri-{w}{n}.com"),
        ("{bank}", "{b}-{w}{n}.com"),
    ),
}
WORDS = ("redelivery", "secure", "verify", "parcel-help", "address-update", "refund", "alerts")
BANKS = {"US": ("Chase", "Wells Fargo", "Bank of America"), "GB": ("HSBC", "Barclays", "Lloyds")}


class PhishingSender(NumberOwner):
    """One account sending lures; the ring members and the ban evader are all this."""

    def __init__(
        self,
        ctx: SimContext,
        key: str,
        *,
        label: str,
        signup_at: int,
        ident: Identity,
        daily: float,
        errors: ErrorMix,
        p: SmishingParams,
    ) -> None:
        self._ident = ident
        super().__init__(ctx, key, label, signup_at=signup_at)
        self.label = label
        self.daily = daily
        self.errors = errors
        self.p = p
        rng = self.rng
        self.lure_n = rng.randint(2, 99)
        self.next_number_at = signup_at + DAY
        self.report_at: int | None = None

    def make_identity(self) -> Identity:
        return self._ident

    def setup(self, out: EventSink, ts: int) -> None:
        pool = mobile_pool("US")
        self.numbers = [pool.random(self.rng) for _ in range(2)]
        for k, number in enumerate(self.numbers):
            self.account_event(out, ts + 20 * k, "number_purchased", phone_number=number)

    def lure(self, country: str) -> str:
        rng = self.rng
        brand, shape = rng.choice(LURES[country])
        bank = rng.choice(BANKS[country])
        candidates = [t for t in sms_templates("smishing", "en") if brand in t]
        values = {"bank": bank, "currency": market(country).currency}
        if rng.random() < self.p.link_shortener:
            values["url"] = short_link(rng)
        else:
            b = bank.lower().replace(" ", "")
            domain = shape.format(w=rng.choice(WORDS), n=self.lure_n, b=b)
            values["url"] = f"https://{domain}/{rng.choice(('i', 'pay', 'track', 'login'))}"
        return fill(rng.choice(candidates), rng, values)

    def traffic(self, t0: int, out: EventSink) -> None:
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        rng = self.rng
        if self.next_number_at < t0 + HOUR:  # number cycling once filtering bites
            number = mobile_pool("US").random(rng)
            self.account_event(
                out, max(start, self.next_number_at), "number_purchased", phone_number=number
            )
            self.numbers.append(number)
            self.next_number_at += DAY
        n = poisson(
            rng, hourly_mean(self.daily, CONSUMER_CURVE, local_hour("America/New_York", t0))
        )
        for _ in range(n):
            ts = rng.randint(start, t0 + HOUR - 1)
            country = "US" if rng.random() < self.p.us_share else "GB"
            to = mobile_pool(country).random(rng)
            body = self.lure(country)
            error = self.errors.draw(rng)
            frm = self.numbers[-1] if rng.random() < 0.6 else self.sender()
            mid = send_sms(
                out,
                self,
                ts,
                frm=frm,
                to=to,
                body=body,
                error=error,
                price=market(country).sms_price,
            )
            self.mark_abuse(ts)
            if error is None and rng.random() < self.p.carrier_complaint:
                carrier_complaint(out, self, ts + lag(rng, 2 * HOUR, 1.0), mid, "fraud")
        if self.report_at is not None and t0 <= self.report_at < t0 + HOUR:
            target = self.numbers[0]
            outside_report(
                out,
                self.rng,
                self.report_at,
                reporter="carrier",
                category="phishing",
                target=target,
                description="Carrier 7726 spam reports for this sender: 43 in 24 h",
                evidence=[self.lure("US")],
            )


def build(ctx: SimContext, p: SmishingParams, cast: Cast) -> list[Actor]:
    rng = derive_rng(ctx.seed, "scenario/smishing_ring/shared")
    subnet_ip = random_ip(rng)
    shared_device = device_id(rng)
    shared_card = card_fingerprint(rng)
    first = ctx.at(p.first_signup_h) + rng.randint(0, 1800)
    members: list[Actor] = []
    for k in range(p.members):
        # Members 0-2 share the device, 2..n share the card: every member is linked to another.
        ident = throwaway_identity(
            rng,
            "US",
            rng.choice(("notifications", "delivery_updates", "customer_care")),
            ip=same_subnet(rng, subnet_ip),
            device=shared_device if k < 3 else device_id(rng),
            payment=shared_card if k >= 2 or p.members < 3 else card_fingerprint(rng),
        )
        signup = first + int(rng.uniform(0, p.signup_spread_h) * HOUR) if k else first
        actor = PhishingSender(
            ctx,
            f"scenario/smishing_ring/{k}",
            label="smishing_ring",
            signup_at=signup,
            ident=ident,
            daily=rng.randint(*p.daily) * ctx.abuse_volume,
            errors=ErrorMix(p.errors),
            p=p,
        )
        actor.notes = (
            f"ring member {k + 1}/{p.members}: parcel/bank lures to US/UK numbers; shares "
            f"{'device ' if k < 3 else ''}{'card ' if k >= 2 else ''}and /24 with the ring"
        )
        members.append(actor)
    reporter = members[0]
    assert isinstance(reporter, PhishingSender)
    reporter.report_at = reporter.ready_at + int(p.report_after_h * HOUR)
    return members
