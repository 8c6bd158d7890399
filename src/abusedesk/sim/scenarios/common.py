"""Identities and helpers abusers share."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from abusedesk.sim.actor import Actor, Identity, card_fingerprint, device_id, random_ip
from abusedesk.sim.engine import EventSink
from abusedesk.sim.ids import hex_token
from abusedesk.sim.mail import random_address

# What earlier scenarios built, by scenario name (the ban evader looks up the ring).
Cast = Mapping[str, Sequence[Actor]]

SHELL_NAMES = (
    "Prime Logistics", "Rapid Notify", "Global Connect", "Apex Alerts", "Vertex Media",
    "Blue Line Services", "Metro Dispatch", "Summit Digital", "Nexa Solutions", "Quick Reach",
)  # fmt: skip


def throwaway_identity(
    rng: random.Random,
    country: str,
    use_case: str,
    *,
    ip: str | None = None,
    device: str | None = None,
    payment: str | None = None,
) -> Identity:
    """A shell-company sign-up: free-mail owner address, no real website."""
    name = rng.choice(SHELL_NAMES)
    slug = name.lower().replace(" ", "")
    return Identity(
        country=country,
        company=f"{name} LLC",
        brand=name.split()[0],
        domain=f"{slug}{rng.randint(1, 99)}.com",
        email=random_address(rng, country),
        ip=ip or random_ip(rng),
        device=device or device_id(rng),
        payment=payment or card_fingerprint(rng),
        use_case=use_case,
        website=None,
    )


def same_subnet(rng: random.Random, ip: str) -> str:
    """Another address in the /24 of `ip` (one hosting provider, one VPN exit range)."""
    head = ip.rsplit(".", 1)[0]
    return f"{head}.{rng.randint(1, 254)}"


def outside_report(
    out: EventSink,
    rng: random.Random,
    ts: int,
    *,
    reporter: str,
    category: str,
    target: str,
    description: str,
    evidence: list[str],
) -> None:
    """An abuse report from outside the platform: it names a target, not an account."""
    fields = {
        "report_id": "RPT-" + hex_token(rng, 12).upper(),
        "reporter": reporter,
        "category": category,
        "target": target,
        "description": description,
        "evidence": evidence,
    }
    out.emit(ts, "report", None, fields)
