"""case work: lifecycle statuses and resolutions, queues, SLA clocks, evidence, report intake

Cases get the working states (new, triage, investigating, pending_customer, actioned, closed)
and a resolution on close in place of the old outcome; the clocks an SLA report needs (first
response and resolution due, claimed, first action); snoozes; links to the case a case was
merged into, split from or reopened after. Frozen evidence gets its own table. Reports keep who
reported them (never shown to the reported customer) and whether they matched an account.

Existing rows are carried over: open -> new, pending -> pending_customer; outcome confirmed ->
violation_confirmed, false_positive and no_action -> no_violation, duplicate -> duplicate.

Revision ID: 0002_case_work
Revises: 0002_event_ids_without_rowid
Create Date: 2026-12-07 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_case_work"
# The lead re-chains revisions at merge time; on this branch it follows the one other 0002.
down_revision = "0002_event_ids_without_rowid"
branch_labels = None
depends_on = None

_STATUS_UP = {"open": "new", "pending": "pending_customer"}
_STATUS_DOWN = {
    "new": "open",
    "triage": "open",
    "investigating": "open",
    "actioned": "open",
    "pending_customer": "pending",
}
_OUTCOME_UP = {
    "confirmed": "violation_confirmed",
    "false_positive": "no_violation",
    "no_action": "no_violation",
    "duplicate": "duplicate",
}
_OUTCOME_DOWN = {
    "violation_confirmed": "confirmed",
    "no_violation": "false_positive",
    "duplicate": "duplicate",
    "escalated_out": "no_action",
}


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch:
        batch.add_column(sa.Column("resolution", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="detection")
        )
        batch.add_column(sa.Column("assignee", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("first_response_due_at", _tz(), nullable=True))
        batch.add_column(sa.Column("resolution_due_at", _tz(), nullable=True))
        batch.add_column(sa.Column("claimed_at", _tz(), nullable=True))
        batch.add_column(sa.Column("first_action_at", _tz(), nullable=True))
        batch.add_column(sa.Column("snoozed_until", _tz(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("split_from_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("reopened_from_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("escalations", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key(
            batch.f("fk_cases_merged_into_id_cases"), "cases", ["merged_into_id"], ["id"]
        )
        batch.create_foreign_key(
            batch.f("fk_cases_split_from_id_cases"), "cases", ["split_from_id"], ["id"]
        )
        batch.create_foreign_key(
            batch.f("fk_cases_reopened_from_id_cases"), "cases", ["reopened_from_id"], ["id"]
        )
        # Claim-next and the queue page read open cases of one queue by priority and due time.
        batch.create_index(
            "ix_cases_queue_work",
            ["queue", "status", "priority", "resolution_due_at", "id"],
            unique=False,
        )
        batch.create_index(batch.f("ix_cases_assignee"), ["assignee"], unique=False)
    cases = sa.table(
        "cases",
        sa.column("status", sa.String),
        sa.column("outcome", sa.String),
        sa.column("resolution", sa.String),
        sa.column("sla_due_at", _tz()),
        sa.column("resolution_due_at", _tz()),
    )
    for old, new in _STATUS_UP.items():
        op.execute(cases.update().where(cases.c.status == old).values(status=new))
    for old, new in _OUTCOME_UP.items():
        op.execute(cases.update().where(cases.c.outcome == old).values(resolution=new))
    op.execute(cases.update().values(resolution_due_at=cases.c.sla_due_at))
    with op.batch_alter_table("cases", schema=None) as batch:
        batch.drop_column("outcome")
        batch.drop_column("sla_due_at")

    op.create_table(
        "case_evidence",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=256), nullable=True),
        sa.Column("gathered_at", _tz(), nullable=False),
        sa.Column("gathered_by", sa.String(length=128), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_evidence_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_evidence")),
    )
    with op.batch_alter_table("case_evidence", schema=None) as batch:
        batch.create_index(batch.f("ix_case_evidence_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("reports", schema=None) as batch:
        batch.add_column(sa.Column("reporter_contact", sa.String(length=320), nullable=True))
        batch.add_column(
            sa.Column("reporter_hidden", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="new")
        )
        batch.add_column(sa.Column("routed_at", _tz(), nullable=True))
        batch.create_index(batch.f("ix_reports_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch:
        batch.drop_index(batch.f("ix_reports_status"))
        batch.drop_column("routed_at")
        batch.drop_column("status")
        batch.drop_column("reporter_hidden")
        batch.drop_column("reporter_contact")
    with op.batch_alter_table("case_evidence", schema=None) as batch:
        batch.drop_index(batch.f("ix_case_evidence_case_id"))
    op.drop_table("case_evidence")

    with op.batch_alter_table("cases", schema=None) as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sla_due_at", _tz(), nullable=True))
    cases = sa.table(
        "cases",
        sa.column("status", sa.String),
        sa.column("outcome", sa.String),
        sa.column("resolution", sa.String),
        sa.column("sla_due_at", _tz()),
        sa.column("resolution_due_at", _tz()),
    )
    for new, old in _STATUS_DOWN.items():
        op.execute(cases.update().where(cases.c.status == new).values(status=old))
    for new, old in _OUTCOME_DOWN.items():
        op.execute(cases.update().where(cases.c.resolution == new).values(outcome=old))
    op.execute(cases.update().values(sla_due_at=cases.c.resolution_due_at))
    with op.batch_alter_table("cases", schema=None) as batch:
        batch.drop_index(batch.f("ix_cases_assignee"))
        batch.drop_index("ix_cases_queue_work")
        batch.drop_constraint(batch.f("fk_cases_reopened_from_id_cases"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_cases_split_from_id_cases"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_cases_merged_into_id_cases"), type_="foreignkey")
        for column in (
            "escalations",
            "reopened_from_id",
            "split_from_id",
            "merged_into_id",
            "snoozed_until",
            "first_action_at",
            "claimed_at",
            "resolution_due_at",
            "first_response_due_at",
            "assignee",
            "source",
            "resolution",
        ):
            batch.drop_column(column)
