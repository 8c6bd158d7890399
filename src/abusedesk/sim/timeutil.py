"""Time in the simulator: integer epoch seconds inside, RFC 3339 'Z' strings outside.

Integers keep the hot path cheap (one event is a few additions, not datetime arithmetic) and make
ordering exact. Recipient-local hours come from real IANA zones (zoneinfo), cached per zone and
UTC hour, so quiet-hours and business-hours traffic agrees with what an enricher computes from the
destination number.
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

HOUR: Final = 3600
DAY: Final = 86400
# A fixed Monday, so a seed gives the same bytes whenever it runs.
DEFAULT_START: Final = datetime(2026, 3, 2, tzinfo=UTC)


def to_epoch(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("the simulator needs a timezone-aware start time")
    return int(when.timestamp())


def from_epoch(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def rfc3339(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@lru_cache(maxsize=8192)
def _offset(tz: str, utc_hour: int) -> int:
    """UTC offset in seconds of `tz` during the UTC hour starting at utc_hour * 3600."""
    moment = datetime.fromtimestamp(utc_hour * HOUR, tz=UTC).astimezone(ZoneInfo(tz))
    off = moment.utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def utc_offset(tz: str, ts: int) -> int:
    return _offset(tz, ts // HOUR)


def local_hour(tz: str, ts: int) -> float:
    """Hour of day (with fraction) at `tz` for epoch `ts`."""
    return ((ts + utc_offset(tz, ts)) % DAY) / HOUR


def local_to_epoch(tz: str, day_start: int, hour: float) -> int:
    """Epoch of local `hour` (fractional) on the local day containing UTC `day_start` + 12 h."""
    noon = day_start + 12 * HOUR
    off = utc_offset(tz, noon)
    local_midnight = ((noon + off) // DAY) * DAY - off
    return local_midnight + int(hour * HOUR)


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw: exact for small means, normal approximation above 30 (volume, not stats)."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit = math.exp(-lam)
        k, p = 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


# Relative activity by local hour. Consumer-driven traffic (log-ins needing an OTP) follows people's
# days; business notifications follow shop hours. Both are smoothed guesses, not measurements.
CONSUMER_CURVE: Final = (
    0.25, 0.15, 0.10, 0.08, 0.08, 0.12, 0.30, 0.60, 0.85, 1.00, 1.05, 1.10,
    1.15, 1.10, 1.05, 1.05, 1.10, 1.15, 1.25, 1.30, 1.25, 1.05, 0.75, 0.45,
)  # fmt: skip
BUSINESS_CURVE: Final = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.60, 1.00, 1.25, 1.35, 1.35,
    1.30, 1.30, 1.30, 1.25, 1.20, 1.10, 0.95, 0.75, 0.50, 0.30, 0.15, 0.08,
)  # fmt: skip


def hourly_mean(daily: float, curve: tuple[float, ...], hour: float) -> float:
    """Expected count in one hour for a `daily` volume spread along `curve` (24 weights)."""
    return daily * curve[int(hour) % 24] / sum(curve)
