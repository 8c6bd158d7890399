"""The account every simulated customer is: identity, on-boarding, log-ins, ground truth.

Profiles (legitimate traffic) and scenarios (abuse) subclass `Actor` and fill in `traffic`.
Every actor, abusive or not, signs up, adds a card, creates a key and logs in from its own IP and
device, so abuse is never separable just by which event types an account has.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import account_id, derive_rng, hex_token, sid, token
from abusedesk.sim.markets import market
from abusedesk.sim.timeutil import BUSINESS_CURVE, DAY, HOUR, hourly_mean, local_hour, rfc3339

BRAND_HEADS = (
    "Bright", "North", "Blue", "Nova", "Peak", "Urban", "Green", "Silver", "Swift", "Harbor",
    "Maple", "Summit", "Lumen", "Cedar", "Coral", "Orbit", "Willow", "Aster", "Kestrel", "Pine",
)  # fmt: skip
BRAND_TAILS = (
    "cart", "bank", "health", "ride", "mart", "wave", "post", "fit", "pay", "home", "table",
    "travel", "dental", "books", "pets", "market", "clinic", "fresh", "style", "tickets",
)  # fmt: skip


def random_ip(rng: random.Random) -> str:
    """An address in 198.18.0.0/15 (RFC 2544 benchmarking space: never a real customer)."""
    return f"198.{rng.randint(18, 19)}.{rng.randrange(256)}.{rng.randint(1, 254)}"


def device_id(rng: random.Random) -> str:
    return "dev_" + hex_token(rng, 16)


def card_fingerprint(rng: random.Random) -> str:
    return token(rng, 16)


@dataclass(slots=True)
class Identity:
    country: str
    company: str
    brand: str
    domain: str
    email: str
    ip: str
    device: str
    payment: str
    use_case: str
    alt_ip: str | None = None
    website: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def business_identity(rng: random.Random, country: str, use_case: str) -> Identity:
    brand = rng.choice(BRAND_HEADS) + rng.choice(BRAND_TAILS)
    domain = f"{brand.lower()}.{market(country).tld}"
    suffix = {"US": "Inc.", "GB": "Ltd", "DE": "GmbH", "FR": "SAS", "BR": "Ltda", "IN": "Pvt Ltd"}
    return Identity(
        country=country,
        company=f"{brand} {suffix.get(country, 'S.L.' if country == 'ES' else 'B.V.')}",
        brand=brand,
        domain=domain,
        email=f"{rng.choice(('ops', 'it', 'dev', 'admin', 'tech'))}@{domain}",
        ip=random_ip(rng),
        device=device_id(rng),
        payment=card_fingerprint(rng),
        use_case=use_case,
        alt_ip=random_ip(rng) if rng.random() < 0.5 else None,
        website=f"https://www.{domain}",
    )


class Actor:
    """One simulated customer account. Subclasses override `traffic` (and may add to `onboard`)."""

    label = "legit"
    logins_per_day = 1.2
    api_keys_per_day = 0.03  # legitimate key rotation: rare, from the usual IP and device

    def __init__(self, ctx: SimContext, key: str, kind: str, *, signup_at: int) -> None:
        self.ctx = ctx
        self.key = key
        self.kind = kind
        self.rng = derive_rng(ctx.seed, key)
        self.account_id = account_id(ctx.seed, key)
        self.signup_at = signup_at
        self.ready_at = signup_at + 2 * HOUR
        self.api_key = sid(self.rng, "SK")
        self.abuse_start: int | None = None
        self.notes = ""
        self.numbers: list[str] = []  # sender numbers the account bought
        self.ident = self.make_identity()

    # identity -----------------------------------------------------------------------------
    def make_identity(self) -> Identity:
        return business_identity(self.rng, "US", "transactional")

    @property
    def tz(self) -> str:
        return market(self.ident.country).tz

    # lifecycle ----------------------------------------------------------------------------
    def begin(self, out: EventSink) -> None:
        """Events before the window: long-standing accounts' sign-up and setup."""
        if self.signup_at < self.ctx.start:
            self.onboard(out, self.signup_at)

    def hour(self, t0: int, out: EventSink) -> None:
        if t0 <= self.signup_at < t0 + HOUR:
            self.onboard(out, self.signup_at)
        if self.signup_at < t0 + HOUR:
            self.housekeeping(t0, out)
            self.traffic(t0, out)

    def onboard(self, out: EventSink, ts: int) -> None:
        """Sign-up, card, first API key; subclasses add numbers or a sending domain."""
        i, rng = self.ident, self.rng
        fields: dict[str, Any] = {
            "action": "signup",
            "ip": i.ip,
            "email": i.email,
            "country": i.country,
            "device_id": i.device,
            "company": i.company,
            "declared_use_case": i.use_case,
        }
        if i.website:
            fields["website"] = i.website
        out.emit(ts, "account", self.account_id, fields)
        t = ts + rng.randint(120, 1800)
        self.account_event(out, t, "payment_method_added", payment_fingerprint=i.payment)
        t += rng.randint(60, 1200)
        self.account_event(out, t, "api_key_created")
        self.setup(out, t + rng.randint(60, 900))
        self.ready_at = max(self.ready_at, t + 1800)

    def setup(self, out: EventSink, ts: int) -> None:
        """Numbers bought or domains verified after sign-up (subclasses)."""

    def account_event(self, out: EventSink, ts: int, action: str, **extra: Any) -> None:
        i = self.ident
        fields: dict[str, Any] = {"action": action, "ip": i.ip, "device_id": i.device}
        fields.update(extra)
        out.emit(ts, "account", self.account_id, fields)

    def housekeeping(self, t0: int, out: EventSink) -> None:
        """Log-ins in the customer's working hours from its usual places; rare key rotation."""
        rng = self.rng
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        lh = local_hour(self.tz, t0)
        if rng.random() < hourly_mean(self.logins_per_day, BUSINESS_CURVE, lh):
            ts = rng.randint(start, t0 + HOUR - 1)
            i = self.ident
            ip = i.alt_ip if i.alt_ip and rng.random() < 0.25 else i.ip
            out.emit(
                ts,
                "account",
                self.account_id,
                {"action": "login", "ip": ip, "device_id": i.device, "country": i.country},
            )
            if rng.random() < self.api_keys_per_day / max(self.logins_per_day, 0.01):
                self.api_key = sid(rng, "SK")
                self.account_event(out, ts + rng.randint(30, 600), "api_key_created")

    def traffic(self, t0: int, out: EventSink) -> None:
        """Messages, calls and their outcomes for the hour starting at t0."""

    # truth --------------------------------------------------------------------------------
    def mark_abuse(self, ts: int) -> None:
        if self.abuse_start is None or ts < self.abuse_start:
            self.abuse_start = ts

    def truth(self) -> dict[str, Any]:
        start = None
        if self.abuse_start is not None and self.abuse_start < self.ctx.end:
            start = rfc3339(self.abuse_start)
        return {"label": self.label, "kind": self.kind, "abuse_start": start, "notes": self.notes}


def long_standing_signup(rng: random.Random, ctx: SimContext, lo_days: int = 200) -> int:
    """A sign-up 200-900 days before the window, in the customer's working day."""
    days = rng.randint(lo_days, 900)
    return ctx.start - days * DAY + rng.randint(8 * HOUR, 18 * HOUR)
