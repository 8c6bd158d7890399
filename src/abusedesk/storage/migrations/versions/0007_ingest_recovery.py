"""ingest recovery: committed batches whose lake files or detection are not yet done

A batch's Parquet files are written under staging names and published (renamed into place)
after the batch's transaction commits; detection runs after that. `lake_batches` holds one row
per batch between its commit and the end of both, so a run killed in between is finished at
the next start (pipeline/recovery.py).

Revision ID: 0007_ingest_recovery
Revises: 0006_risk_scores
Create Date: 2026-12-07 16:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_ingest_recovery"
# The brief names the current head of main; the lead re-chains revisions at merge time.
down_revision = "0006_risk_scores"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lake_batches",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_lake_batches_run_id", "lake_batches", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_lake_batches_run_id", table_name="lake_batches")
    op.drop_table("lake_batches")
