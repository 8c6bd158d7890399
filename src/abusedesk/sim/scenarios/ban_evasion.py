"""ban_evasion: the same operator comes back under a new account (DOMAIN.md §7, E15).

A day after a smishing ring member (or the email spammer) started, a new account signs up from
that member's device, with its card, from its /24, and resumes similar lures more cautiously:
~60-110 a day instead of hundreds. Alone its volume is unremarkable; the shared device and card
with an abuser are the signal (SES "Related Account").
"""

from __future__ import annotations

from dataclasses import dataclass

from abusedesk.sim.actor import Actor, Identity
from abusedesk.sim.context import SimContext
from abusedesk.sim.ids import derive_rng
from abusedesk.sim.scenarios.common import Cast, same_subnet, throwaway_identity
from abusedesk.sim.scenarios.email_spam import SpamSender
from abusedesk.sim.scenarios.smishing import PhishingSender, SmishingParams
from abusedesk.sim.timeutil import HOUR
from abusedesk.sim.traffic import ErrorMix


@dataclass(frozen=True, slots=True)
class BanEvasionParams:
    evades: str = "smishing_ring"  # or "email_spam"
    member: int = 1  # which ring member's device and card come back
    after_h: float = 27.0  # sign-up this long after the evaded account signed up
    daily: tuple[int, int] = (60, 110)
    filtered: float = 0.16  # 30007: carriers already know the lure


def _twin(rng_key: tuple[object, ...], origin: Identity) -> Identity:
    """A fresh shell identity on the evaded account's device, card and network."""
    rng = derive_rng(*rng_key)
    return throwaway_identity(
        rng,
        origin.country,
        origin.use_case,
        ip=same_subnet(rng, origin.ip),
        device=origin.device,
        payment=origin.payment,
    )


def build(ctx: SimContext, p: BanEvasionParams, cast: Cast) -> list[Actor]:
    evaded = list(cast.get(p.evades, ()))
    if not evaded:
        raise ValueError(f"ban_evasion evades {p.evades!r}, which is not in this run")
    origin = evaded[min(p.member, len(evaded) - 1)]
    key = "scenario/ban_evasion/0"
    ident = _twin((ctx.seed, key, "identity"), origin.ident)
    planned = (origin.signup_at - ctx.start) / HOUR + p.after_h
    signup = min(origin.signup_at + int(p.after_h * HOUR), ctx.at(planned))
    rng = derive_rng(ctx.seed, key, "volume")
    actor: Actor
    if isinstance(origin, SpamSender):
        actor = SpamSender(
            ctx,
            key,
            origin.p,
            signup_at=signup,
            ident=ident,
            volume=rng.randint(*p.daily) / origin.p.daily,  # SpamSender applies abuse_volume
        )
        actor.label = actor.kind = "ban_evasion"
    else:
        sp = origin.p if isinstance(origin, PhishingSender) else SmishingParams()
        errors = ErrorMix({"30007": p.filtered, "30005": 0.03, "30003": 0.02})
        actor = PhishingSender(
            ctx,
            key,
            label="ban_evasion",
            signup_at=signup,
            ident=ident,
            daily=rng.randint(*p.daily) * ctx.abuse_volume,
            errors=errors,
            p=sp,
        )
    actor.notes = (
        f"returns as a new account {p.after_h:.0f} h after {p.evades} member {origin.account_id} "
        "signed up: same device and card, same /24; similar content at low volume"
    )
    return [actor]
