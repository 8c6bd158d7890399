"""Email addresses and headers.

Recipients live at the mailbox providers people in each market actually use, so per-provider
rates (and free-mail enrichment) behave as they would on real traffic. Sender domains are
invented brand names; they are not meant to exist.
"""

from __future__ import annotations

import random
from typing import Final

from abusedesk.sim.ids import splitmix64

MAILBOX_PROVIDERS: Final[dict[str, tuple[str, ...]]] = {
    "US": ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"),
    "GB": ("gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com"),
    "DE": ("gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.de"),
    "FR": ("gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr"),
    "BR": ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br"),
    "IN": ("gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com"),
    "MX": ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx"),
    "ES": ("gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net"),
    "NL": ("gmail.com", "hotmail.nl", "ziggo.nl", "kpnmail.nl", "outlook.com"),
    "AU": ("gmail.com", "bigpond.com", "outlook.com", "yahoo.com.au", "icloud.com"),
}
FIRST: Final = (
    "james", "mary", "oliver", "amelia", "lukas", "emma", "lucas", "chloe", "joao", "ana",
    "arjun", "priya", "diego", "sofia", "daan", "sanne", "jack", "olivia", "noah", "mia",
    "liam", "ava", "leon", "lea", "hugo", "ines", "rahul", "neha", "mateo", "valentina",
)  # fmt: skip
LAST: Final = (
    "smith", "jones", "brown", "muller", "schmidt", "martin", "bernard", "silva", "santos",
    "sharma", "patel", "garcia", "lopez", "devries", "jansen", "wilson", "taylor", "moreau",
    "rossi", "kumar", "hernandez", "martinez", "walker", "white", "king", "wright", "evans",
)  # fmt: skip
SEPARATORS: Final = (".", "_", "", ".")


def person_address(h: int, country: str) -> str:
    """A plausible personal address for a 64-bit hash (implicit lists: no storage)."""
    providers = MAILBOX_PROVIDERS.get(country, MAILBOX_PROVIDERS["US"])
    first = FIRST[h % len(FIRST)]
    last = LAST[(h >> 8) % len(LAST)]
    sep = SEPARATORS[(h >> 16) % len(SEPARATORS)]
    num = (h >> 20) % 10000
    suffix = "" if num < 2500 else str(num % (100 if num < 6000 else 10000))
    return f"{first}{sep}{last}{suffix}@{providers[(h >> 40) % len(providers)]}"


def greeting_name(address: str) -> str:
    """The first name an address was built from, for "Hi Mary" (or a neutral greeting)."""
    for first in FIRST:
        if address.startswith(first):
            return first.capitalize()
    return "there"


def list_address(salt: int, index: int, country: str) -> str:
    return person_address(splitmix64(salt * 1_000_003 + index), country)


def random_address(rng: random.Random, country: str) -> str:
    return person_address(rng.getrandbits(64), country)


def auth_results(domain: str, spf: str = "pass", dkim: str = "pass", dmarc: str = "pass") -> str:
    """An Authentication-Results value as a receiving MTA writes it (RFC 8601)."""
    return (
        f"mx.receiver.example; spf={spf} smtp.mailfrom={domain}; "
        f"dkim={dkim} header.d={domain}; dmarc={dmarc} header.from={domain}"
    )


def unsubscribe_headers(domain: str, token: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe (DOMAIN.md §1.6): an HTTPS URI plus the POST marker."""
    return {
        "List-Unsubscribe": f"<https://{domain}/u/{token}>, <mailto:unsubscribe@{domain}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
