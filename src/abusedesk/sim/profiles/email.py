"""Email senders: transactional mail (receipts, password resets) and newsletters.

Both authenticate (SPF, DKIM and DMARC pass on their own domain, DOMAIN.md §1.2), hard-bounce on
0.4-1.2 % of sends (under the < 2 % best practice of E1) and draw FBL complaints on 0.01-0.03 %
of deliveries (under SES's 0.1 % review line, E2). Newsletters carry RFC 8058 one-click
unsubscribe headers (E8) and honour unsubscribes at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor, Identity, business_identity
from abusedesk.sim.content import brand_link, email_templates, fill
from abusedesk.sim.context import SimContext
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import derive_seed, hex_token
from abusedesk.sim.mail import (
    auth_results,
    greeting_name,
    list_address,
    random_address,
    unsubscribe_headers,
)
from abusedesk.sim.markets import NEIGHBOURS, market
from abusedesk.sim.timeutil import (
    CONSUMER_CURVE,
    DAY,
    HOUR,
    hourly_mean,
    local_hour,
    local_to_epoch,
    poisson,
)
from abusedesk.sim.traffic import email_outcome, lag, send_email


@dataclass(frozen=True, slots=True)
class EmailParams:
    daily: tuple[int, int] = (250, 550)  # transactional sends per day
    list_size: tuple[int, int] = (800, 2000)  # newsletter subscribers
    send_days: float = 0.8  # P(a newsletter issue on a given day)
    local_send: tuple[float, float] = (8.0, 10.5)
    per_minute: float = 120.0
    hard: tuple[float, float] = (0.004, 0.012)
    soft: float = 0.004
    complaint: tuple[float, float] = (0.0001, 0.0003)
    unsubscribe: tuple[float, float] = (0.001, 0.003)


class EmailSender(Actor):
    mailbox = "no-reply"

    def __init__(
        self,
        ctx: SimContext,
        key: str,
        country: str,
        kind: str,
        *,
        signup_at: int,
        params: EmailParams | None = None,
    ) -> None:
        self.country = country
        super().__init__(ctx, key, kind, signup_at=signup_at)
        self.params = p = params or EmailParams()
        rng = self.rng
        self.hard = rng.uniform(*p.hard)
        self.complaint = rng.uniform(*p.complaint)
        self.from_addr = f"{self.mailbox}@{self.ident.domain}"
        self.auth = {"Authentication-Results": auth_results(self.ident.domain)}

    def make_identity(self) -> Identity:
        return business_identity(self.rng, self.country, "transactional")

    def setup(self, out: EventSink, ts: int) -> None:
        self.account_event(out, ts, "domain_verified", domain=self.ident.domain)

    def values(self) -> dict[str, str]:
        cur = market(self.country).currency
        return {
            "brand": self.ident.brand,
            "currency": cur,
            "url": brand_link(self.rng, self.ident.domain, "e"),
        }


class TransactionalEmail(EmailSender):
    def __init__(
        self,
        ctx: SimContext,
        key: str,
        country: str,
        *,
        signup_at: int,
        params: EmailParams | None = None,
        kind: str = "transactional_email",
        volume_factor: float = 1.0,
    ) -> None:
        super().__init__(ctx, key, country, kind, signup_at=signup_at, params=params)
        self.daily = self.rng.randint(*self.params.daily) * volume_factor
        self.notes = f"transactional email from {self.ident.domain}, ~{int(self.daily)}/day"

    def traffic(self, t0: int, out: EventSink) -> None:
        start = max(t0, self.ready_at)
        if start >= t0 + HOUR:
            return
        rng, p = self.rng, self.params
        n = poisson(rng, hourly_mean(self.daily, CONSUMER_CURVE, local_hour(self.tz, t0)))
        templates = email_templates("email_transactional")
        for _ in range(n):
            ts = rng.randint(start, t0 + HOUR - 1)
            home = self.country if rng.random() < 0.9 else rng.choice(NEIGHBOURS[self.country])
            to = random_address(rng, home)
            tpl = rng.choice(templates)
            values = self.values()
            values["first"] = greeting_name(to)
            subject = fill(tpl["subject"], rng, values)
            body = fill(tpl["body"], rng, values)
            outcome = email_outcome(rng, self.hard, p.soft)
            send_email(
                out,
                self,
                ts,
                frm=self.from_addr,
                to=to,
                subject=subject,
                body=body,
                headers=self.auth,
                outcome=outcome,
                complaint=rng.random() < self.complaint,
            )


@dataclass(slots=True)
class Issue:
    """One newsletter send in progress: the same subject and offer for every subscriber."""

    start: int
    cid: str
    template: dict[str, str]
    values: dict[str, str]
    next_index: int = 0


class Newsletter(EmailSender):
    mailbox = "news"

    def __init__(
        self,
        ctx: SimContext,
        key: str,
        country: str,
        *,
        signup_at: int,
        params: EmailParams | None = None,
        kind: str = "newsletter_email",
    ) -> None:
        super().__init__(ctx, key, country, kind, signup_at=signup_at, params=params)
        rng, p = self.rng, self.params
        self.list_size = rng.randint(*p.list_size)
        self.salt = derive_seed(ctx.seed, key, "list")
        self.unsub = rng.uniform(*p.unsubscribe)
        self.unsubscribed: set[int] = set()
        self.issue: Issue | None = None
        self.ident.use_case = "marketing"
        self.notes = f"newsletter from {self.ident.domain} to {self.list_size} subscribers"

    def traffic(self, t0: int, out: EventSink) -> None:
        rng, p = self.rng, self.params
        if (t0 - self.ctx.start) % DAY == 0 and rng.random() < p.send_days:
            start = local_to_epoch(self.tz, t0, rng.uniform(*p.local_send))
            if start >= max(t0, self.ready_at):
                cid = f"{self.ident.brand.lower()}-news-{(t0 - self.ctx.start) // DAY + 1}"
                values = self.values()
                for name in ("pct", "promo", "n"):  # one offer per issue, not per reader
                    values[name] = fill("{" + name + "}", rng, {})
                tpl = rng.choice(email_templates("email_newsletter"))
                self.issue = Issue(start, cid, tpl, values)
        issue = self.issue
        if issue is None:
            return
        end = t0 + HOUR
        while issue.next_index < self.list_size:
            k = issue.next_index
            ts = issue.start + int(k * 60 / p.per_minute)
            if ts >= end:
                break
            if k not in self.unsubscribed:
                self.send_issue(out, ts, k, issue)
            issue.next_index += 1
        if issue.next_index >= self.list_size:
            self.issue = None

    def send_issue(self, out: EventSink, ts: int, k: int, issue: Issue) -> None:
        rng = self.rng
        to = list_address(self.salt, k, self.country)
        values = dict(issue.values)
        values["first"] = greeting_name(to)
        values["url"] = brand_link(rng, self.ident.domain, "e")
        subject = fill(issue.template["subject"], rng, values)
        body = fill(issue.template["body"], rng, values)
        headers = dict(self.auth)
        headers.update(unsubscribe_headers(self.ident.domain, hex_token(rng, 12)))
        outcome = email_outcome(rng, self.hard, self.params.soft)
        send_email(
            out,
            self,
            ts,
            frm=self.from_addr,
            to=to,
            subject=subject,
            body=body,
            headers=headers,
            outcome=outcome,
            complaint=rng.random() < self.complaint,
            campaign=issue.cid,
        )
        if outcome == "delivered" and rng.random() < self.unsub:
            self.unsubscribed.add(k)
            fields = {
                "recipient": to,
                "sender": self.from_addr,
                "keyword": "list-unsubscribe",
                "channel": "email",
            }
            out.emit(ts + lag(rng, 4 * 3600, 1.0), "opt_out", self.account_id, fields)
