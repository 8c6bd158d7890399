"""one open case per account and policy, enforced by a partial unique index

`cases/lifecycle.case_for` looks for the open case before it opens one, but two writers that
look at the same moment (detection in two processes, a report and a rule) both found none and
both opened one. The index makes the second insert fail; the open-or-attach path retries its
unit of work and attaches to the case the first writer opened. Appeal cases are worked beside
the case they appeal and are left out, as `open_case` leaves them out.

An existing database holding two open cases for one account and policy cannot take the index:
the upgrade stops and names them, to be merged (`abusedesk cases merge`) before it runs again.

Revision ID: 0010_one_open_case
Revises: 0008_complaint_evidence
Create Date: 2026-12-07 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_one_open_case"
down_revision = "0009_probation"
branch_labels = None
depends_on = None

# Kept equal to storage/models.py OPEN_CASE_WHERE (the models-match-migrations test compares).
_OPEN = (
    "status IN ('new', 'triage', 'investigating', 'pending_customer', 'actioned') "
    "AND source <> 'appeal'"
)


def upgrade() -> None:
    twice = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT account_id, policy, count(*) FROM cases WHERE {_OPEN} "
                "GROUP BY account_id, policy HAVING count(*) > 1 ORDER BY account_id, policy"
            )
        )
        .all()
    )
    if twice:
        shown = ", ".join(f"{a}/{p} ({n} cases)" for a, p, n in twice[:10])
        raise RuntimeError(
            f"{len(twice)} account/policy pair(s) have more than one open case: {shown}; "
            "merge them (abusedesk cases merge) and upgrade again"
        )
    op.create_index(
        "ux_cases_one_open",
        "cases",
        ["account_id", "policy"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ux_cases_one_open", table_name="cases")
