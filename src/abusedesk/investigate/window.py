"""The days an investigation looks at: ending on the account's last event, never the clock, so
a quiet account still shows its last busy month."""

from __future__ import annotations

from datetime import datetime, timedelta

from abusedesk.investigate.lake_reads import DayRange


def days_ending(last_seen: datetime, days: int) -> DayRange:
    last = last_seen.date()
    return DayRange(first=last - timedelta(days=days - 1), last=last)
