"""email_spam: a new account mailing a bought list (DOMAIN.md §1.1, §7 E1, E2, E7, E8).

Signed up hours before it starts, it blasts get-rich-quick, pharma and crypto mail in batches to
addresses it never collected. About 12 % hard-bounce (SES review line 5 %, pause 10 %), ~0.6 %
of deliveries draw FBL complaints (SES review 0.1 %, pause 0.5 %; Gmail's never-reach 0.3 %),
about a third of its mail fails SPF or DKIM, and none of it has a List-Unsubscribe header.
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor, Identity
from abusedesk.sim.content import email_templates, fill, short_link
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_rng, token
from abusedesk.sim.mail import auth_results, random_address
from abusedesk.sim.scenarios.common import Cast, throwaway_identity
from abusedesk.sim.timeutil import HOUR
from abusedesk.sim.traffic import email_outcome, send_email

SPAM_WORDS = ("profit", "wealth", "deal", "bonus", "secret", "daily", "rich", "pharma", "coin")
SPAM_TLDS = ("biz", "info", "top", "xyz", "click")


@dataclass(frozen=True, slots=True)
class EmailSpamParams:
    signup_h: float = 4.0
    daily: int = 2200
    batches_per_day: int = 6
    batch_minutes: int = 15
    hard: float = 0.12
    soft: float = 0.04
    complaint: float = 0.006  # of delivered
    spf_fail: float = 0.25
    dkim_fail: float = 0.30
    markets: tuple[str, ...] = ("US", "US", "GB", "DE")


class SpamSender(Actor):
    label = "email_spam"

    def __init__(
        self,
        ctx: SimContext,
        key: str,
        p: EmailSpamParams,
        *,
        signup_at: int,
        ident: Identity,
        volume: float = 1.0,
    ) -> None:
        self._ident = ident
        super().__init__(ctx, key, "email_spam", signup_at=signup_at)
        self.p = p
        rng = self.rng
        words = rng.sample(SPAM_WORDS, 2)
        self.domain = f"{words[0]}-{words[1]}-{rng.randint(10, 99)}.{rng.choice(SPAM_TLDS)}"
        self.from_addr = f"{rng.choice(('offers', 'news', 'info', 'team'))}@{self.domain}"
        self.per_batch = max(1, int(p.daily * volume * ctx.abuse_volume / p.batches_per_day))
        self.next_batch = self.ready_at + rng.randint(0, HOUR)
        self.notes = (
            f"new account mailing a bought list from {self.domain}: ~{p.hard:.0%} hard bounces, "
            f"~{p.complaint:.1%} complaints, no List-Unsubscribe, partial SPF/DKIM failures"
        )

    def make_identity(self) -> Identity:
        return self._ident

    def setup(self, out: EventSink, ts: int) -> None:
        self.account_event(out, ts, "domain_verified", domain=self.domain)

    def traffic(self, t0: int, out: EventSink) -> None:
        p, rng = self.p, self.rng
        gap = 86400 // p.batches_per_day
        self.next_batch = max(self.next_batch, self.ready_at)
        while self.next_batch < t0 + HOUR:
            start = max(self.next_batch, t0)
            for k in range(self.per_batch):
                self.spam(out, start + k * p.batch_minutes * 60 // self.per_batch)
            self.next_batch += gap + rng.randint(-1800, 1800)

    def spam(self, out: EventSink, ts: int) -> None:
        p, rng = self.p, self.rng
        tpl = rng.choice(email_templates("email_spam"))
        url = short_link(rng) if rng.random() < 0.3 else f"https://{self.domain}/{token(rng, 8)}"
        values = {"url": url}
        spf = "fail" if rng.random() < p.spf_fail else "pass"
        dkim = rng.choice(("fail", "none")) if rng.random() < p.dkim_fail else "pass"
        dmarc = "pass" if "pass" in (spf, dkim) else "fail"
        headers = {"Authentication-Results": auth_results(self.domain, spf, dkim, dmarc)}
        to = random_address(rng, rng.choice(p.markets))
        outcome = email_outcome(rng, p.hard, p.soft)
        send_email(
            out,
            self,
            ts,
            frm=self.from_addr,
            to=to,
            subject=fill(tpl["subject"], rng, values),
            body=fill(tpl["body"], rng, values),
            headers=headers,
            outcome=outcome,
            complaint=rng.random() < p.complaint,
        )
        self.mark_abuse(ts)


def build(ctx: SimContext, p: EmailSpamParams, cast: Cast) -> list[Actor]:
    key = "scenario/email_spam/0"
    rng = derive_rng(ctx.seed, key, "identity")
    ident = throwaway_identity(rng, "US", "marketing")
    return [SpamSender(ctx, key, p, signup_at=ctx.at(p.signup_h), ident=ident)]
