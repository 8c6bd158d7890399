"""Roles and the permissions they carry: the one description of who may do what.

The `roles` table holds these as data (migrations seed them, an admin may change them); this
module names every permission the code checks, so a typo in a route is a failed import, not a
route nobody may use. `admin` is also a permission: a principal holding it may do everything.

    permission        what it allows                                    viewer analyst lead admin
    cases:read        read cases, queues and reports                    x      x       x    x
    cases:write       open, work and close cases                               x       x    x
    accounts:read     account 360, linked accounts, entity pivots       x      x       x    x
    pii:read          reveal masked personal data (audited)                    x       x    x
    actions:write     take enforcement actions                                 x       x    x
    actions:reverse   reverse an action                                                x    x
    notices:send      send notices to customers                                x       x    x
    reports:read      read abuse reports                                x      x       x    x
    rules:write       ship rule packs                                                  x    x
    users:manage      create and disable users, make tokens for them                        x
    events:write      POST /v1/events (the `ingest` service role)                      x    x
    decisions:write   POST /v1/decisions (the `ingest` service role)                   x    x
"""

from __future__ import annotations

from typing import Final

EVENTS_WRITE: Final = "events:write"
DECISIONS_WRITE: Final = "decisions:write"
CASES_READ: Final = "cases:read"
CASES_WRITE: Final = "cases:write"
ACCOUNTS_READ: Final = "accounts:read"
PII_READ: Final = "pii:read"
ACTIONS_WRITE: Final = "actions:write"
ACTIONS_REVERSE: Final = "actions:reverse"
NOTICES_SEND: Final = "notices:send"
REPORTS_READ: Final = "reports:read"
RULES_WRITE: Final = "rules:write"
USERS_MANAGE: Final = "users:manage"
ADMIN: Final = "admin"

PERMISSIONS: Final[frozenset[str]] = frozenset(
    {
        EVENTS_WRITE,
        DECISIONS_WRITE,
        CASES_READ,
        CASES_WRITE,
        ACCOUNTS_READ,
        PII_READ,
        ACTIONS_WRITE,
        ACTIONS_REVERSE,
        NOTICES_SEND,
        REPORTS_READ,
        RULES_WRITE,
        USERS_MANAGE,
        ADMIN,
    }
)

# The roles a person can have, least to most; `ingest` is a service role for tokens only.
PERSON_ROLES: Final[tuple[str, ...]] = ("viewer", "analyst", "lead", "admin")
SERVICE_ROLES: Final[tuple[str, ...]] = ("ingest",)

# What migration 0003 writes into `roles` (a migration never imports this module, so the
# lists are written out there too; tests/auth/test_roles.py checks the two agree).
DEFAULT_PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "viewer": frozenset({CASES_READ, REPORTS_READ, ACCOUNTS_READ}),
    "analyst": frozenset(
        {
            CASES_READ,
            CASES_WRITE,
            REPORTS_READ,
            ACCOUNTS_READ,
            PII_READ,
            ACTIONS_WRITE,
            NOTICES_SEND,
        }
    ),
    "lead": PERMISSIONS - {ADMIN, USERS_MANAGE},
    "admin": PERMISSIONS,
    "ingest": frozenset({EVENTS_WRITE, DECISIONS_WRITE}),
}


def check_permission(name: str) -> str:
    """The name itself, if the code knows it; raises ValueError otherwise (at import time of
    the route that names it)."""
    if name not in PERMISSIONS:
        raise ValueError(f"unknown permission {name!r}; known: {', '.join(sorted(PERMISSIONS))}")
    return name
