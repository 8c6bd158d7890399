"""Service levels by priority: how long a case may wait for a first decision."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

# P1 is "harm is happening now" (pumping, phishing in flight); P4 is housekeeping.
SLA: Final[dict[str, timedelta]] = {
    "P1": timedelta(hours=4),
    "P2": timedelta(hours=24),
    "P3": timedelta(hours=72),
    "P4": timedelta(days=7),
}
SEVERITY_ORDER: Final[dict[str, int]] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def due(priority: str, opened_at: datetime) -> datetime:
    return opened_at + SLA.get(priority, SLA["P3"])


def more_urgent(a: str, b: str) -> str:
    """'P1' beats 'P2': the lower number is the more urgent."""
    return min(a, b)


def more_severe(a: str, b: str) -> str:
    return a if SEVERITY_ORDER.get(a, 0) >= SEVERITY_ORDER.get(b, 0) else b
