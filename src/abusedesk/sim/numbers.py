"""Phone numbers that are valid for their country (per `phonenumbers`), cheap to draw.

Validating every generated number would cost ~50 µs each, a third of the time budget. Instead a
pool of number *prefixes* (E.164 without the last four digits, the same cut the pumping signals
use) is validated once per process, and numbers are drawn as prefix + four free digits: within a
valid block the subscriber digits are free in every numbering plan used here.
Pools are seeded from the country alone, so they are identical in every run and every process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from random import Random
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberType

from abusedesk.sim.ids import derive_seed, splitmix64
from abusedesk.sim.markets import market

_MOBILE: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

# US area codes by zone. The US numbering plan does not separate mobile from fixed lines, so US
# numbers are "fixed_line_or_mobile"; the area code fixes the recipient's local time.
US_AREAS: Final[dict[str, tuple[str, ...]]] = {
    "America/New_York": ("212", "305", "404", "617", "646", "718", "786", "917", "954", "215"),
    "America/Chicago": ("312", "713", "214", "512", "612", "314"),
    "America/Denver": ("303", "720", "801"),
    "America/Los_Angeles": ("415", "206", "213", "310", "503", "702", "408"),
}
# South Florida only: one zone, so quiet hours are unambiguous for a list drawn from it.
US_EASTERN_FLORIDA: Final = ("305", "786", "954")


@dataclass(frozen=True, slots=True)
class NumberPool:
    country: str
    prefixes: tuple[str, ...]
    tzs: tuple[str, ...]

    def random(self, rng: Random) -> str:
        return f"{rng.choice(self.prefixes)}{rng.randrange(10000):04d}"

    def random_with_tz(self, rng: Random) -> tuple[str, str]:
        """A number and its time zone (for traffic that must respect the callee's hours)."""
        k = rng.randrange(len(self.prefixes))
        return f"{self.prefixes[k]}{rng.randrange(10000):04d}", self.tzs[k]

    def pick(self, h: int) -> str:
        """Number for a 64-bit hash: the basis of implicit, memory-free recipient lists."""
        return f"{self.prefixes[h % len(self.prefixes)]}{(h >> 20) % 10000:04d}"


def list_number(pool: NumberPool, salt: int, index: int) -> str:
    """Subscriber `index` of a list identified by `salt` (stable, no storage)."""
    return pool.pick(splitmix64(salt * 1_000_003 + index))


def _valid(e164: str, country: str, types: frozenset[int]) -> bool:
    num = phonenumbers.parse(e164)
    return (
        phonenumbers.is_valid_number(num)
        and phonenumbers.region_code_for_number(num) == country
        and phonenumbers.number_type(num) in types
    )


def _block_ok(prefix: str, country: str, rng: random.Random, types: frozenset[int]) -> bool:
    return all(_valid(f"{prefix}{rng.randrange(10000):04d}", country, types) for _ in range(2))


def _us_pool(areas: tuple[str, ...], size: int) -> NumberPool:
    rng = random.Random(derive_seed("numbers", "US", areas))
    tz_of = {a: tz for tz, codes in US_AREAS.items() for a in codes}
    prefixes: list[str] = []
    tzs: list[str] = []
    tries = 0
    while len(prefixes) < size and tries < size * 50:
        tries += 1
        area = areas[len(prefixes) % len(areas)]
        exchange = f"{rng.randint(2, 9)}{rng.randrange(100):02d}"
        if exchange == "555" or exchange.endswith("11"):
            continue  # fictional (555) and service (N11) exchanges
        prefix = f"+1{area}{exchange}"
        if prefix not in prefixes and _block_ok(prefix, "US", rng, _MOBILE):
            prefixes.append(prefix)
            tzs.append(tz_of.get(area, "America/New_York"))
    return NumberPool("US", tuple(prefixes), tuple(tzs))


def _generic_pool(country: str, types: frozenset[int], size: int) -> NumberPool:
    rng = random.Random(derive_seed("numbers", country, sorted(types)))
    example = phonenumbers.example_number_for_type(country, PhoneNumberType.MOBILE)
    if example is None:  # pragma: no cover - every country used has an example
        raise ValueError(f"no example number for {country}")
    cc = f"+{example.country_code}"
    national = str(example.national_number)
    prefixes: list[str] = []
    tries = 0
    while len(prefixes) < size and tries < size * 400:
        tries += 1
        # Keep the example's leading digit (the mobile range), randomise the rest of the block.
        body = national[0] + "".join(str(rng.randrange(10)) for _ in range(len(national) - 5))
        prefix = cc + body
        if prefix not in prefixes and _block_ok(prefix, country, rng, types):
            prefixes.append(prefix)
    if not prefixes:  # pragma: no cover - guards a phonenumbers metadata change
        raise ValueError(f"could not build a number pool for {country}")
    tz = market(country).tz
    return NumberPool(country, tuple(prefixes), (tz,) * len(prefixes))


@lru_cache(maxsize=64)
def mobile_pool(country: str, areas: tuple[str, ...] | None = None) -> NumberPool:
    """Valid mobile numbers of `country` (US: area codes `areas`, default all zones)."""
    if country == "US":
        codes = areas or tuple(a for codes in US_AREAS.values() for a in codes)
        return _us_pool(codes, 160)
    return _generic_pool(country, _MOBILE, 64)


def sequential_block(pool: NumberPool, rng: random.Random, count: int) -> list[str]:
    """`count` near-sequential numbers in one prefix: the range-controlled pumping pattern."""
    prefix = rng.choice(pool.prefixes)
    suffix = rng.randrange(0, 10000 - 3 * count) if count < 3000 else 0
    out = []
    for _ in range(count):
        suffix = (suffix + rng.choice((1, 1, 1, 2, 3))) % 10000
        out.append(f"{prefix}{suffix:04d}")
    return out
