"""Labels for content models from closed cases: the message events behind each decided case.

A case closed as a confirmed violation labels the message events of its signals as positive;
one closed as no violation (a false positive) labels them negative; other resolutions
(duplicate, escalated out) decide nothing. Read only; the texts come from the lake.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from abusedesk.storage.db import Store
from abusedesk.storage.models import Case, Signal

POSITIVE: Final = "violation_confirmed"
NEGATIVE: Final = "no_violation"


def message_labels(store: Store) -> dict[str, int]:
    """event id -> 1 (violation) or 0 (no violation), for message events of closed cases."""
    with store.sessions() as session:
        rows = session.execute(
            select(Signal.event_id, Case.resolution)
            .join(Case, Signal.case_id == Case.id)
            .where(
                Case.status == "closed",
                Case.resolution.in_((POSITIVE, NEGATIVE)),
                Signal.event_type == "message",
            )
        ).all()
    return {str(event_id): int(resolution == POSITIVE) for event_id, resolution in rows}
