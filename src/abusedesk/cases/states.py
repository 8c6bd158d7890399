"""The states a case moves through and the resolutions it closes with.

    new -> triage -> investigating -> pending_customer -> actioned -> closed
                    (any open state may move to any other; closing needs a resolution)

`resolution` is what rule precision is measured against: violation_confirmed counts for the
rule, no_violation against it; duplicate and escalated_out decide nothing.
"""

from __future__ import annotations

from typing import Final

STATUSES: Final = ("new", "triage", "investigating", "pending_customer", "actioned", "closed")
OPEN_STATES: Final = STATUSES[:-1]
# States a case can be claimed from: nobody has started on it, or it was released.
CLAIMABLE_STATES: Final = ("new", "triage", "investigating")
RESOLUTIONS: Final = ("violation_confirmed", "no_violation", "duplicate", "escalated_out")
# Names the first case tooling used; `cases close --resolution confirmed` still works.
LEGACY_RESOLUTIONS: Final = {
    "confirmed": "violation_confirmed",
    "false_positive": "no_violation",
    "no_action": "no_violation",
    "duplicate": "duplicate",
}
PRIORITIES: Final = ("P1", "P2", "P3", "P4")
SOURCES: Final = ("detection", "report", "manual")


def resolution_named(name: str) -> str | None:
    """The resolution a name stands for (current or legacy), None for an unknown name."""
    if name in RESOLUTIONS:
        return name
    return LEGACY_RESOLUTIONS.get(name)
