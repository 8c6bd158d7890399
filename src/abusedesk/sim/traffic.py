"""Sending primitives: one message and everything that follows from it.

A message is emitted with its fate already drawn (an `ErrorMix` outcome), and the receipt,
complaint or opt-out that fate implies is emitted at a plausible delay. Keeping cause and effect
in one call is what lets each scenario state its signal strength as a rate in one place.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any, Final

from abusedesk.sim.actor import Actor
from abusedesk.sim.content import segments
from abusedesk.sim.engine import EventSink
from abusedesk.sim.fbl import EarlyComplaint, goes_early
from abusedesk.sim.ids import ses_message_id, sid

# Twilio rejects these at the API: the message never reaches a carrier (status "failed").
# Everything else is a carrier receipt ("undelivered"). DOMAIN.md §2.6.
FAILED_AT_API: Final = frozenset({"21408", "21610", "21611", "21614", "30450", "60410"})


class ErrorMix:
    """Error code -> probability for one traffic stream; the rest is delivered."""

    __slots__ = ("_cum", "rates")

    def __init__(self, rates: Mapping[str, float]) -> None:
        self.rates = dict(rates)
        total, cum = 0.0, []
        for code, p in rates.items():
            total += p
            cum.append((total, code))
        if total > 1.0:
            raise ValueError(f"error rates sum to {total:.3f} > 1")
        self._cum = tuple(cum)

    def draw(self, rng: random.Random) -> str | None:
        x = rng.random()
        for bound, code in self._cum:
            if x < bound:
                return code
        return None


def lag(rng: random.Random, median_s: float, spread: float = 0.6) -> int:
    """A positive log-normal delay around `median_s` seconds (receipts, replies, complaints)."""
    return max(1, int(median_s * math.exp(rng.gauss(0.0, spread))))


def send_sms(
    out: EventSink,
    actor: Actor,
    ts: int,
    *,
    frm: str,
    to: str,
    body: str,
    error: str | None,
    price: float,
    campaign: str | None = None,
    api_key: str | None = None,
    sender_ip: str | None = None,
) -> str:
    """One outbound SMS and its final status receipt; returns the message id."""
    rng = actor.rng
    mid = sid(rng, "SM")
    segs = segments(body)
    fields: dict[str, Any] = {
        "message_id": mid,
        "channel": "sms",
        "from": frm,
        "to": to,
        "body": body,
        "segments": segs,
        "price": round(price * segs, 4),
        "api_key_id": api_key or actor.api_key,
        "sender_ip": sender_ip or actor.ident.ip,
    }
    if campaign:
        fields["campaign_id"] = campaign
    out.emit(ts, "message", actor.account_id, fields)
    if error is None:
        receipt: dict[str, Any] = {"message_id": mid, "status": "delivered"}
        out.emit(ts + lag(rng, 6), "delivery", actor.account_id, receipt)
    elif error in FAILED_AT_API:
        receipt = {"message_id": mid, "status": "failed", "error_code": error}
        out.emit(ts + 1, "delivery", actor.account_id, receipt)
    else:
        receipt = {"message_id": mid, "status": "undelivered", "error_code": error}
        out.emit(ts + lag(rng, 40, 0.9), "delivery", actor.account_id, receipt)
    return mid


def inbound_sms(out: EventSink, actor: Actor, ts: int, *, frm: str, to: str, body: str) -> None:
    """A reply from a recipient to one of the account's numbers."""
    fields = {
        "message_id": sid(actor.rng, "SM"),
        "channel": "sms",
        "direction": "inbound",
        "from": frm,
        "to": to,
        "body": body,
    }
    out.emit(ts, "message", actor.account_id, fields)


def sms_opt_out(
    out: EventSink, actor: Actor, ts: int, *, recipient: str, sender: str, word: str
) -> None:
    """A STOP-family reply: the inbound text and the opt-out it causes (Twilio handles both)."""
    inbound_sms(out, actor, ts, frm=recipient, to=sender, body=word)
    fields = {"recipient": recipient, "sender": sender, "keyword": word.upper(), "channel": "sms"}
    out.emit(ts + 1, "opt_out", actor.account_id, fields)


def carrier_complaint(out: EventSink, actor: Actor, ts: int, mid: str, feedback: str) -> None:
    """A carrier-forwarded 7726 ("SPAM") report on one message; the recipient is withheld."""
    fields = {"message_id": mid, "source": "carrier", "feedback_type": feedback}
    out.emit(ts, "complaint", actor.account_id, fields)


EmailOutcome = str  # "delivered", "hard" (permanent bounce) or "soft" (gave up after retries)


def send_email(
    out: EventSink,
    actor: Actor,
    ts: int,
    *,
    frm: str,
    to: str,
    subject: str,
    body: str,
    headers: dict[str, str],
    outcome: EmailOutcome,
    complaint: bool = False,
    campaign: str | None = None,
    api_key: str | None = None,
    sender_ip: str | None = None,
) -> str:
    """One email, its delivery or bounce notification, and an FBL complaint if drawn."""
    rng = actor.rng
    mid = ses_message_id(rng)
    fields: dict[str, Any] = {
        "message_id": mid,
        "channel": "email",
        "from": frm,
        "to": to,
        "subject": subject,
        "body": body,
        "headers": headers,
        "api_key_id": api_key or actor.api_key,
        "sender_ip": sender_ip or actor.ident.ip,
    }
    if campaign:
        fields["campaign_id"] = campaign
    out.emit(ts, "message", actor.account_id, fields)
    if outcome == "hard":
        receipt: dict[str, Any] = {
            "message_id": mid,
            "status": "bounced",
            "bounce_type": "permanent",
            "error_code": rng.choice(("5.1.1", "5.1.1", "5.1.1", "5.1.10", "5.4.1")),
            "recipient": to,
        }
        out.emit(ts + lag(rng, 4), "delivery", actor.account_id, receipt)
        return mid
    if outcome == "soft":
        receipt = {
            "message_id": mid,
            "status": "bounced",
            "bounce_type": "transient",
            "error_code": rng.choice(("4.2.2", "4.4.7", "4.7.28")),
            "recipient": to,
        }
        out.emit(ts + lag(rng, 3600), "delivery", actor.account_id, receipt)
        return mid
    receipt = {"message_id": mid, "status": "delivered", "recipient": to}
    out.emit(ts + lag(rng, 3), "delivery", actor.account_id, receipt)
    if complaint:
        # Feedback loops report hours after the mail was read; many redact the complainant.
        fb: dict[str, Any] = {"message_id": mid, "source": "fbl", "feedback_type": "abuse"}
        if rng.random() < 0.6:
            fb["recipient"] = to
        when = ts + lag(rng, 3 * 3600, 1.0)
        if goes_early(mid, out.early_share):  # an ARF report, before the message log
            ip = fields["sender_ip"]
            early = EarlyComplaint(when, ts, mid, frm, to, subject, ip, "recipient" not in fb)
            out.early.append(early)
        else:
            out.emit(when, "complaint", actor.account_id, fb)
    return mid


def email_outcome(rng: random.Random, hard: float, soft: float) -> EmailOutcome:
    x = rng.random()
    if x < hard:
        return "hard"
    if x < hard + soft:
        return "soft"
    return "delivered"


def place_call(
    out: EventSink,
    actor: Actor,
    ts: int,
    *,
    frm: str,
    to: str,
    status: str,
    duration: float,
    attestation: str,
) -> int:
    """One call; the event is written when the call ends (as a CDR is). Returns that time."""
    fields: dict[str, Any] = {
        "call_id": sid(actor.rng, "CA"),
        "from": frm,
        "to": to,
        "status": status,
        "duration_s": duration,
        "attestation": attestation,
    }
    end = ts + int(duration) + 5
    out.emit(end, "call", actor.account_id, fields)
    return end
