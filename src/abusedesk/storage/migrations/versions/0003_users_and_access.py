"""users and access: roles gain accounts:read (investigation) and users:manage (admins)

The role permissions of 0001 had no permission for the investigation reads (account 360,
linked accounts, entity pivots) nor one for managing users apart from `admin`. Roles are data,
so this migration rewrites the seeded rows; an installation that edited its roles gets the
defaults back for these five (the audit log keeps no record of role edits yet).

Revision ID: 0003_users_and_access
Revises: 0002_case_work
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_users_and_access"
# The brief named 0001_initial; main already has 0002 after it, and two heads would stop
# `upgrade head`. The lead re-chains revisions at merge time.
down_revision = "0002_case_work"
branch_labels = None
depends_on = None

_ALL = [
    "events:write",
    "decisions:write",
    "cases:read",
    "cases:write",
    "accounts:read",
    "pii:read",
    "actions:write",
    "actions:reverse",
    "notices:send",
    "reports:read",
    "rules:write",
    "users:manage",
    "admin",
]
NEW = {
    "viewer": ["cases:read", "reports:read", "accounts:read"],
    "analyst": [
        "cases:read",
        "cases:write",
        "reports:read",
        "accounts:read",
        "pii:read",
        "actions:write",
        "notices:send",
    ],
    "lead": [p for p in _ALL if p not in ("admin", "users:manage")],
    "admin": _ALL,
    "ingest": ["events:write", "decisions:write"],
}
_OLD_ALL = [
    "events:write",
    "decisions:write",
    "cases:read",
    "cases:write",
    "actions:write",
    "actions:reverse",
    "notices:send",
    "rules:write",
    "reports:read",
    "pii:read",
    "admin",
]
OLD = {
    "viewer": ["cases:read", "reports:read"],
    "analyst": [
        "cases:read",
        "cases:write",
        "actions:write",
        "notices:send",
        "reports:read",
        "pii:read",
    ],
    "lead": [p for p in _OLD_ALL if p != "admin"],
    "admin": _OLD_ALL,
    "ingest": ["events:write", "decisions:write"],
}

_roles = sa.table("roles", sa.column("name", sa.String), sa.column("permissions", sa.JSON))


def _write(permissions: dict[str, list[str]]) -> None:
    for name, granted in permissions.items():
        op.execute(_roles.update().where(_roles.c.name == name).values(permissions=sorted(granted)))


def upgrade() -> None:
    _write(NEW)


def downgrade() -> None:
    _write(OLD)
