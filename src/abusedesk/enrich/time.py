"""Time at the recipient: hour in UTC, local hour from the destination number, quiet hours.

Quiet hours are 47 CFR 64.1200(c)(1): no telephone solicitation before 08:00 or from 21:00 at
the called party's location (DOMAIN.md 3.4). The location is the number's: phonenumbers maps
fixed lines (and mobiles in countries where mobile ranges are regional, such as the US) to a
zone by prefix, other numbers to every zone of their country; then the country's most populous
zone is used (data/primary_time_zones.csv), which for a Moscow mobile is Moscow rather than
Asia/Almaty, the first of Russia's zones in alphabetical order.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import datetime
from functools import cache, lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from abusedesk.enrich._data import read_data
from abusedesk.enrich.phone import TYPE_NAMES, PhoneInfo

QUIET_BEFORE: Final = 8
QUIET_FROM: Final = 21
_TYPE_CODES: Final = {name: code for code, name in TYPE_NAMES.items()}
_UNKNOWN_ZONE: Final = "Etc/Unknown"


@cache
def primary_time_zones() -> Mapping[str, str]:
    rows = csv.DictReader(
        line
        for line in read_data("primary_time_zones.csv").splitlines()
        if not line.startswith("#")
    )
    return {row["country"].strip().upper(): row["time_zone"].strip() for row in rows}


@lru_cache(maxsize=4096)
def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=65536)
def _zone_name(key: str, country: str | None, geographic: bool) -> str | None:
    """key: the number's leading E.164 digits (geographic) or its calling code (country-level)."""
    zones: tuple[str, ...] = ()
    shortest = 1 if geographic else len(key)
    for length in range(min(len(key), TIMEZONE_LONGEST_PREFIX), shortest - 1, -1):
        found = TIMEZONE_DATA.get(key[:length])
        if found:
            zones = tuple(z for z in found if z != _UNKNOWN_ZONE)
            break
    if not zones:
        return None
    if len(zones) == 1:
        return zones[0]
    primary = primary_time_zones().get(country or "")
    if primary and zone(primary) is not None:
        return primary
    return sorted(zones)[0]


def zone_name(info: PhoneInfo) -> str | None:
    """IANA zone of a valid destination number; None when it cannot be placed."""
    if not info.valid or info.calling_code is None or info.number_type is None:
        return None
    code = _TYPE_CODES.get(info.number_type)
    if code is None:
        return None
    if phonenumbers.is_number_type_geographical(code, info.calling_code):
        return _zone_name(info.digits[:TIMEZONE_LONGEST_PREFIX], info.country, True)
    return _zone_name(str(info.calling_code), info.country, False)


@cache
def _zone_prefix_stems() -> frozenset[str]:
    """Every proper prefix of phonenumbers' time-zone prefixes (1,364 strings)."""
    return frozenset(key[:n] for key in TIMEZONE_DATA for n in range(1, len(key)))


def zone_decided_by(block: str) -> bool:
    """zone_name is the same for every valid number that starts with `block` and has the same
    calling code, type and country: no time-zone prefix longer than the block starts with it,
    so the longest-prefix lookup reads digits of the block only."""
    return block not in _zone_prefix_stems()


def local_hour(ts: datetime, zone_info: ZoneInfo) -> int:
    return ts.astimezone(zone_info).hour


def cache_clear() -> None:
    _zone_name.cache_clear()
