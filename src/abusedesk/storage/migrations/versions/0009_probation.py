"""probation: accounts on probation with metric goals from their policy

An account whose action was reversed after an appeal (or that an analyst places on probation)
is measured on the lake against its policy's probation goals until the probation ends; it then
graduates or is escalated back to its case (probation/).

Revision ID: 0009_probation
Revises: 0008_complaint_evidence
Create Date: 2026-12-07 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_probation"
# The brief: down_revision is main's head at branch time. The lead re-chains at merge.
down_revision = "0008_complaint_evidence"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "probations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("policy", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("action_id", sa.BigInteger(), nullable=True),
        sa.Column("appeal_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("min_volume", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("started_at", _tz(), nullable=False),
        sa.Column("ends_at", _tz(), nullable=False),
        sa.Column("ended_at", _tz(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_probations_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name="fk_probations_action_id_actions"
        ),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name="fk_probations_appeal_id_appeals"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_probations"),
    )
    op.create_index("ix_probations_account_id", "probations", ["account_id"], unique=False)
    op.create_index(
        "ix_probations_status_ends_at", "probations", ["status", "ends_at"], unique=False
    )
    op.create_index(
        "ux_probations_active",
        "probations",
        ["account_id", "policy"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ux_probations_active", table_name="probations")
    op.drop_index("ix_probations_status_ends_at", table_name="probations")
    op.drop_index("ix_probations_account_id", table_name="probations")
    op.drop_table("probations")
