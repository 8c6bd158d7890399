"""Deterministic randomness and identifiers.

Every account gets its own `random.Random`, seeded from a hash of (run seed, the account's stable
key), never from the global generator or the clock. Adding or removing one scenario therefore
changes nothing about the other accounts: their streams do not share state or draw order.
Identifiers are drawn from the account's stream (Twilio-style `SM` + 32 hex and friends), so a
run is byte-for-byte reproducible.
"""

from __future__ import annotations

import base64
import hashlib
import random
from typing import Final

_MASK64: Final = (1 << 64) - 1
_B64_TO_ALNUM: Final = bytes.maketrans(b"+/=", b"xQz")


def _digest(*parts: object) -> bytes:
    text = "|".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).digest()


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from any parts; stable across processes and Python versions."""
    return int.from_bytes(_digest(*parts)[:8], "big")


def derive_rng(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))


def account_id(seed: int, key: str) -> str:
    """Twilio-style account SID ("AC" + 32 hex), stable for (seed, key)."""
    return "AC" + _digest("account", seed, key)[:16].hex()


def splitmix64(x: int) -> int:
    """A cheap integer mixer: index -> well-spread 64-bit value, with no Random object.

    Used for implicit recipient lists (subscriber i of an account is a pure function of i), so a
    list of 50,000 numbers costs no memory.
    """
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def sid(rng: random.Random, prefix: str) -> str:
    """`prefix` + 32 hex digits drawn from the account's stream (SM..., VE..., CA..., SK...)."""
    return f"{prefix}{rng.getrandbits(128):032x}"


def ses_message_id(rng: random.Random) -> str:
    """An Amazon SES-shaped message id."""
    h = f"{rng.getrandbits(128):032x}"
    return f"0100{h[:12]}-{h[12:20]}-{h[20:24]}-{h[24:28]}-{h[28:32]}{h[:8]}-000000"


def token(rng: random.Random, n: int) -> str:
    """n random letters and digits (card fingerprints, short-link slugs).

    Base64 of random bytes with its two symbols mapped to letters: one C call instead of n
    `choice`s, which matters at one token per message.
    """
    raw = base64.b64encode(rng.randbytes((n * 3 + 3) // 4))
    return raw.translate(_B64_TO_ALNUM)[:n].decode()


def hex_token(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"
