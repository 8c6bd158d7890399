"""SLA clocks: when a case is due for a first response and for its resolution.

A queue's SLA gives both durations by priority. With business hours, the clock runs only in
working time (a P2 report at 17:30 on a Friday with a 4 h first response in an 08:00-18:00
Monday-Friday queue is due at 11:30 on Monday); without, it runs around the clock. The clocks
keep running while a case is snoozed or waits on the customer: the SLA is the customer's and
the reporter's promise, not the analyst's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from abusedesk.cases.queues import BusinessHours, Queue

SEVERITY_ORDER: Final[dict[str, int]] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def clocks(queue: Queue, priority: str, start: datetime) -> tuple[datetime, datetime]:
    """(first response due, resolution due) of a case of this priority opened at `start`."""
    sla = queue.sla.get(priority) or queue.sla["P3"]
    return (
        add_working_time(start, sla.first_response, queue.business_hours),
        add_working_time(start, sla.resolution, queue.business_hours),
    )


def add_working_time(start: datetime, span: timedelta, hours: BusinessHours | None) -> datetime:
    if hours is None:
        return start + span
    local = start.astimezone(hours.zone)
    left = span
    # One step per day: bounded by the span in days plus the longest run of non-working days.
    for _ in range(int(span.total_seconds() // 3600) * 7 + 14):
        day_start = local.replace(
            hour=hours.start.hour, minute=hours.start.minute, second=0, microsecond=0
        )
        day_end = local.replace(
            hour=hours.end.hour, minute=hours.end.minute, second=0, microsecond=0
        )
        if local.weekday() in hours.days and local < day_end:
            begin = max(local, day_start)
            room = day_end - begin
            if left <= room:
                return (begin + left).astimezone(UTC)
            left -= room
        nxt = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        local = nxt
    raise ValueError("business hours without any working time")


def more_urgent(a: str, b: str) -> str:
    """'P1' beats 'P2': the lower number is the more urgent."""
    return min(a, b)


def more_severe(a: str, b: str) -> str:
    return a if SEVERITY_ORDER.get(a, 0) >= SEVERITY_ORDER.get(b, 0) else b


def at_risk(due_at: datetime | None, span: timedelta, now: datetime, fraction: float) -> bool:
    """Not yet breached, but less than `fraction` of the SLA is left."""
    if due_at is None or due_at <= now:
        return False
    return due_at - now <= span * fraction
