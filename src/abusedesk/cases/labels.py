"""Labels for content models from closed cases: the message events behind each decided case.

A case closed as a confirmed violation labels the message events of its signals as positive;
one closed as no violation (a false positive) labels them negative. Outcome names of both the
current case system (`confirmed`, `false_positive`) and the planned one
(`violation_confirmed`, `no_violation`) are read. Read only; the texts come from the lake.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from abusedesk.storage.db import Store
from abusedesk.storage.models import Case, Signal

POSITIVE_OUTCOMES: Final = frozenset({"confirmed", "violation_confirmed"})
NEGATIVE_OUTCOMES: Final = frozenset({"false_positive", "no_violation"})


def message_labels(store: Store) -> dict[str, int]:
    """event id -> 1 (violation) or 0 (no violation), for message events of closed cases."""
    outcomes = POSITIVE_OUTCOMES | NEGATIVE_OUTCOMES
    with store.sessions() as session:
        rows = session.execute(
            select(Signal.event_id, Case.outcome)
            .join(Case, Signal.case_id == Case.id)
            .where(
                Case.status == "closed",
                Case.outcome.in_(outcomes),
                Signal.event_type == "message",
            )
        ).all()
    return {str(event_id): int(outcome in POSITIVE_OUTCOMES) for event_id, outcome in rows}
