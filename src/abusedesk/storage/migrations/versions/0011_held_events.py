"""held events: committed events that detection has not seen yet because they wait for the
stream to reach their time

Ingest holds a linked complaint (and an event whose account it found) until a batch reaches
the event's time (pipeline/linking.Held). The batch's `lake_batches` row is gone once the
batch went through detection, so a run killed while holding such events left them committed,
never detected, and counted by the rerun as detected (its rebuild replayed them, recording
nothing): their signals and cases were lost. `held_events` keeps one row per held event from
its batch's commit until detection has had it; recovery hands a dead run's rows to the rerun.

Revision ID: 0011_held_events
Revises: 0010_one_open_case
Create Date: 2026-12-07 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_held_events"
# The brief names the current head of main; the lead re-chains revisions at merge time.
down_revision = "0010_one_open_case"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_events",
        sa.Column("event_id", sa.String(256), primary_key=True),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_held_events_run_id", "held_events", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_held_events_run_id", table_name="held_events")
    op.drop_table("held_events")
