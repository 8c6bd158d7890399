"""Message bodies: the shipped templates (data/templates.json) filled with per-message values.

Templates are loaded once per process from the installed package, never from the repository's
data folder, so `generate` works from a wheel. `[a|b|c]` in a template is content spinning (one
alternative per message), the filtering-evasion habit snowshoe senders have.
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from abusedesk.sim.ids import token

_SPIN: Final = re.compile(r"\[([^\[\]]+)\]")
SHORTENERS: Final = ("bit.ly", "tinyurl.com", "is.gd", "cutt.ly", "t.ly")
BANKS: Final = ("Chase", "Wells Fargo", "Bank of America", "HSBC", "Barclays", "Lloyds", "NatWest")
NAMES: Final = (
    "J. Carter", "M. Lopez", "A. Nguyen", "S. Patel", "R. Evans", "K. Brown", "D. Hughes",
    "L. Moore", "T. Walker", "P. Reid",
)  # fmt: skip
FIRST_NAMES: Final = ("Sam", "Alex", "Chris", "Jo", "Pat", "Max", "Kim", "Lee", "Ana", "Tom")
DAYS: Final = ("today", "tomorrow", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    text = resources.files("abusedesk.sim").joinpath("data/templates.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def sms_templates(family: str, lang: str) -> list[str]:
    fam: dict[str, list[str]] = templates()[family]
    return fam.get(lang) or fam["en"]


def email_templates(family: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = templates()[family]
    return out


def stop_keywords() -> list[str]:
    out: list[str] = templates()["stop_keywords"]
    return out


def spin(text: str, rng: random.Random) -> str:
    return _SPIN.sub(lambda m: rng.choice(m.group(1).split("|")), text)


def fill(template: str, rng: random.Random, values: dict[str, str]) -> str:
    """Fill placeholders; ones the caller did not give get a plausible random value."""
    if "[" in template:
        template = spin(template, rng)
    return template.format_map(_Defaults(rng, values))


class _Defaults(dict[str, str]):
    def __init__(self, rng: random.Random, values: dict[str, str]) -> None:
        super().__init__(values)
        self._rng = rng

    def __missing__(self, key: str) -> str:
        r = self._rng
        if key == "code":
            return f"{r.randrange(1_000_000):06d}"
        if key == "code3":
            return f"{r.randrange(1000):03d}"
        if key == "order":
            return f"{r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{r.randrange(10**7):07d}"
        if key == "amount":
            return str(r.choice((49, 89, 120, 250, 300, 480, 500, 750, 900, 1000, 1500, 2500)))
        if key == "pct":
            return str(r.choice((10, 15, 20, 25, 30, 40)))
        if key == "promo":
            return r.choice(("SPRING", "SAVE", "HELLO", "VIP", "WEEKEND")) + str(
                r.randrange(10, 99)
            )
        if key == "time":
            return f"{r.randint(8, 17)}:{r.choice(('00', '15', '30', '45'))}"
        if key == "day":
            return r.choice(DAYS)
        if key == "name":
            return r.choice(NAMES)
        if key == "bank":
            return r.choice(BANKS)
        if key == "n":
            return str(r.randint(3, 9))
        if key == "first":
            return r.choice(FIRST_NAMES)
        if key == "currency":
            return "$"
        raise KeyError(key)


def short_link(rng: random.Random) -> str:
    """A public shortener link: filtered by carriers on US traffic (DOMAIN.md §3.3)."""
    return f"https://{rng.choice(SHORTENERS)}/{token(rng, 7)}"


def brand_link(rng: random.Random, domain: str, path: str = "s") -> str:
    return f"https://{domain}/{path}/{token(rng, 6)}"


# Anything outside ASCII and the non-ASCII letters the GSM 03.38 alphabet carries in one septet.
_NOT_GSM: Final = re.compile("[^\x00-\x7f£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà€]")


def segments(body: str) -> int:
    """SMS parts: GSM-7 160/153 characters, else UCS-2 70/67 (what the customer pays for)."""
    n = len(body)
    gsm = body.isascii() or _NOT_GSM.search(body) is None
    single, part = (160, 153) if gsm else (70, 67)
    return 1 if n <= single else -(-n // part)
