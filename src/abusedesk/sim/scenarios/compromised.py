"""compromised_account: a long-standing clean sender taken over (DOMAIN.md §1.1, §7 E13).

For the first day and a half the account is an ordinary transactional email sender with years of
history. Then, at night in its own time zone, someone logs in from a new IP, device and country,
creates an API key, and twenty minutes later that key, from a new sending IP, mails phishing
lures to thousands of addresses the account never wrote to: ~5x its daily volume in a few hours
(E11), ~7 % hard bounces (E1 over 5 %) and ~0.8 % complaints (E2 over 0.5 %). Its own traffic
carries on alongside, from the old key. abuse_start is the takeover log-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor, device_id, long_standing_signup, random_ip
from abusedesk.sim.content import email_templates, fill, short_link
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_rng, sid, token
from abusedesk.sim.mail import random_address
from abusedesk.sim.profiles.email import TransactionalEmail
from abusedesk.sim.scenarios.common import Cast
from abusedesk.sim.timeutil import HOUR
from abusedesk.sim.traffic import email_outcome, send_email

# Lookalikes of the services a mailbox user trusts (office suites, document sharing).
PHISH_DOMAINS = ("office365-mailbox-{n}.com", "sharepoint-docs{n}.net", "microsoft-billing-{n}.com")


@dataclass(frozen=True, slots=True)
class CompromisedParams:
    country: str = "US"
    takeover_h: float = 31.0  # 07:00 UTC on day two: 02:00 at the customer
    attacker_country: str = "VN"
    spike_hours: float = 5.0
    spike_per_hour: int = 650
    hard: float = 0.07
    complaint: float = 0.008  # of delivered


class TakenOver(TransactionalEmail):
    label = "compromised_account"

    def __init__(self, ctx: SimContext, key: str, p: CompromisedParams) -> None:
        signup = long_standing_signup(derive_rng(ctx.seed, key, "signup"), ctx, lo_days=400)
        super().__init__(ctx, key, p.country, signup_at=signup, kind="compromised_account")
        rng = self.rng
        self.p = p
        self.takeover = ctx.at(p.takeover_h) + rng.randint(0, 1800)
        self.spike_start = self.takeover + rng.randint(15, 25) * 60
        self.spike_end = self.spike_start + int(p.spike_hours * HOUR)
        self.attacker_ip = random_ip(rng)
        self.attacker_sender_ip = random_ip(rng)
        self.attacker_device = device_id(rng)
        self.attacker_key = sid(rng, "SK")
        self.lure_domain = rng.choice(PHISH_DOMAINS).format(n=rng.randint(2, 99))
        self.notes = (
            f"transactional sender since {(ctx.start - signup) // 86400} days, taken over: "
            f"log-in from {p.attacker_country} + new API key, then phishing to new recipients"
        )

    def traffic(self, t0: int, out: EventSink) -> None:
        super().traffic(t0, out)  # the owner's own mail keeps flowing
        rng, aid = self.rng, self.account_id
        if t0 <= self.takeover < t0 + HOUR:
            self.mark_abuse(self.takeover)
            login = {
                "action": "login",
                "ip": self.attacker_ip,
                "device_id": self.attacker_device,
                "country": self.p.attacker_country,
            }
            out.emit(self.takeover, "account", aid, login)
            key = {
                "action": "api_key_created",
                "ip": self.attacker_ip,
                "device_id": self.attacker_device,
            }
            out.emit(self.takeover + rng.randint(120, 400), "account", aid, key)
        lo, hi = max(t0, self.spike_start), min(t0 + HOUR, self.spike_end)
        if lo >= hi:
            return
        n = int(self.p.spike_per_hour * self.ctx.abuse_volume * (hi - lo) / HOUR)
        for ts in sorted(rng.randint(lo, hi - 1) for _ in range(n)):
            self.phish(out, ts)

    def phish(self, out: EventSink, ts: int) -> None:
        rng, p = self.rng, self.p
        tpl = rng.choice(email_templates("email_phish"))
        url = (
            short_link(rng)
            if rng.random() < 0.25
            else f"https://{self.lure_domain}/{token(rng, 10)}"
        )
        values = {"url": url, "currency": "$"}
        frm = f"{rng.choice(('billing', 'security', 'docs'))}@{self.ident.domain}"
        to = random_address(rng, rng.choice(("US", "US", "GB")))
        send_email(
            out,
            self,
            ts,
            frm=frm,
            to=to,
            subject=fill(tpl["subject"], rng, values),
            body=fill(tpl["body"], rng, values),
            headers=self.auth,
            outcome=email_outcome(rng, p.hard, 0.02),
            complaint=rng.random() < p.complaint,
            api_key=self.attacker_key,
            sender_ip=self.attacker_sender_ip,
        )


def build(ctx: SimContext, p: CompromisedParams, cast: Cast) -> list[Actor]:
    return [TakenOver(ctx, "scenario/compromised_account/0", p)]
