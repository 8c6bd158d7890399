"""cases carry the account's risk score and its contributions

A case is opened when the account clears the pack's case bar (detection/case_bar.py); its
priority follows the account's risk score on the policy (detection/risk.py). The score and the
contributions of each rule are kept on the case, shown by `cases list --json`.

Revision ID: 0006_risk_scores
Revises: 0004_enforcement
Create Date: 2026-12-07 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_risk_scores"
# The lead re-chains revisions at merge time; this branch follows the head it was cut from.
down_revision = "0004_enforcement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("risk_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("risk", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("risk")
        batch.drop_column("risk_score")
