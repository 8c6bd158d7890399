"""The desk: what case services need beyond the store and the clock (queues and a few bounds),
built once per workspace from its settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from abusedesk.cases.queues import QueueBook, load_queues
from abusedesk.settings import Settings


@dataclass(frozen=True)
class Desk:
    queues: QueueBook
    reopen_window: timedelta = timedelta(hours=72)
    at_risk_fraction: float = 0.25
    message_sample: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> Desk:
        return cls(
            queues=load_queues(settings.queues_path),
            reopen_window=timedelta(hours=settings.case_reopen_window_h),
            at_risk_fraction=settings.sla_at_risk_fraction,
            message_sample=settings.case_message_sample,
        )


@cache
def default_desk() -> Desk:
    """The shipped queues and default bounds, for callers that were given no desk."""
    return Desk(queues=load_queues())
