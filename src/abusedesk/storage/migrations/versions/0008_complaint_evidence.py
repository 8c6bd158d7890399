"""complaint evidence: complaints filed as reports wait in pending_complaints for late linking

A complaint that names no account and whose message is not known yet is filed as a report.
Its complaint is kept here, keyed by the Message-ID it complains about, so that the message
arriving later (ingest, or `abusedesk detect`) links it to its account (pipeline/linking.py).

Revision ID: 0008_complaint_evidence
Revises: 0007_ingest_recovery
Create Date: 2026-12-07 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_complaint_evidence"
# The brief: down_revision is main's head at branch time. The lead re-chains at merge.
down_revision = "0007_ingest_recovery"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pending_complaints",
        sa.Column("report_id", sa.String(length=256), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("message_local", sa.String(length=998), nullable=False),
        sa.Column("ts", _tz(), nullable=False),
        sa.Column("complaint", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("linked_at", _tz(), nullable=True),
        sa.PrimaryKeyConstraint("report_id"),
    )
    op.create_index(
        "ix_pending_complaints_message_id", "pending_complaints", ["message_id"], unique=False
    )
    op.create_index(
        "ix_pending_complaints_message_local", "pending_complaints", ["message_local"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_pending_complaints_message_local", table_name="pending_complaints")
    op.drop_index("ix_pending_complaints_message_id", table_name="pending_complaints")
    op.drop_table("pending_complaints")
