"""Tables of the relational store: everything people work on.

The raw event history lives in the Parquet lake (analytics/), not here; this store keeps what is
worked on and the small indexes ingest needs (event ids for idempotency, the account/entity
registry). Schema changes go through Alembic (storage/migrations), never `create_all`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger primary keys autoincrement on PostgreSQL but must be INTEGER for SQLite's rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on every backend.

    SQLite has no time zones: SQLAlchemy stores naive text there and hands back naive values.
    This type refuses naive input, stores UTC, and returns aware UTC, so code never meets a
    naive datetime whatever the store. storage.bulk writes the same text format directly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _tz() -> UtcDateTime:
    return UtcDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UtcDateTime(),
    }


class Account(Base):
    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(_tz())
    last_seen: Mapped[datetime] = mapped_column(_tz())
    event_count: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(32), default="active")
    email: Mapped[str | None] = mapped_column(String(320))
    company: Mapped[str | None] = mapped_column(String(256))
    country: Mapped[str | None] = mapped_column(String(2))
    declared_use_case: Mapped[str | None] = mapped_column(String(64))


class Entity(Base):
    """Something an account uses: phone number, email, domain, URL, IP, device, card, API key."""

    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    first_seen: Mapped[datetime] = mapped_column(_tz())
    last_seen: Mapped[datetime] = mapped_column(_tz())


class AccountEntity(Base):
    __tablename__ = "account_entities"
    __table_args__ = (Index("ix_account_entities_entity", "entity_id"),)

    account_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("accounts.account_id"), primary_key=True
    )
    entity_id: Mapped[int] = mapped_column(BigId, ForeignKey("entities.id"), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(_tz())
    last_seen: Mapped[datetime] = mapped_column(_tz())
    event_count: Mapped[int] = mapped_column(BigInteger, default=0)


class EventId(Base):
    """The idempotency index: an event id taken in once is never taken in again."""

    __tablename__ = "event_ids"
    # Rows live in the primary key's b-tree alone on SQLite (migration 0002).
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy's declarative form

    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    ingest_run_id: Mapped[int | None] = mapped_column(BigInteger)


class PendingComplaint(Base):
    """A complaint filed as a report because no account was known when it arrived; linked to
    its account when the message it complains about arrives (pipeline/linking.py)."""

    __tablename__ = "pending_complaints"

    report_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    # The local part of message_id: platforms put their own id there (SES, SendGrid).
    message_local: Mapped[str] = mapped_column(String(998), index=True)
    ts: Mapped[datetime] = mapped_column(_tz())
    complaint: Mapped[dict[str, Any]] = mapped_column(JSON)
    account_id: Mapped[str | None] = mapped_column(String(128))
    linked_at: Mapped[datetime | None] = mapped_column(_tz())


class IngestRun(Base):
    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(_tz())
    finished_at: Mapped[datetime | None] = mapped_column(_tz())
    origin: Mapped[str] = mapped_column(String(32))  # cli, api, demo
    actor: Mapped[str] = mapped_column(String(128))
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(32))
    read: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")


class LakeBatch(Base):
    """A committed ingest batch not yet fully done: its Parquet files are staged until published,
    and its events are not yet through detection. Written in the batch's own transaction and
    deleted once both are done; a row left behind by a killed run is finished by recovery
    (pipeline/recovery.py) at the next start."""

    __tablename__ = "lake_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger, index=True)
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)  # lake-relative final paths
    created_at: Mapped[datetime] = mapped_column(_tz())


class HeldEvent(Base):
    """A committed event detection has not seen yet because it waits for the stream to reach
    its time (a linked complaint, or an event whose account ingest found: pipeline/linking.Held).
    Written in its batch's transaction and deleted once detection has had it; a killed run's
    rows are handed to the next run, which holds the events again (pipeline/recovery.py)."""

    __tablename__ = "held_events"

    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger, index=True)


class QuarantineItem(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ingest_run_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    source: Mapped[str] = mapped_column(String(1024))
    line: Mapped[int | None] = mapped_column(Integer)
    item: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(_tz())


class Signal(Base):
    """A rule matched an event: the feature values that tripped it are kept as evidence."""

    __tablename__ = "signals"
    __table_args__ = (
        Index("ix_signals_account_ts", "account_id", "event_ts"),
        # A rule matches an event once: re-running detection over the lake adds nothing twice.
        UniqueConstraint("rule_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str | None] = mapped_column(String(128))
    rule_id: Mapped[str] = mapped_column(String(128), index=True)
    policy: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(256))
    event_type: Mapped[str] = mapped_column(String(32))
    event_ts: Mapped[datetime] = mapped_column(_tz())
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Repeat matches of the same rule on the same account within the cooldown are counted here
    # rather than stored one by one (a pumping burst would otherwise write thousands of rows).
    hits: Mapped[int] = mapped_column(Integer, default=1)
    last_hit_at: Mapped[datetime] = mapped_column(_tz())
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(_tz())


# Kept equal to cases.assignment.CLAIMABLE_SQL (a test checks): storage does not import cases.
CLAIMABLE_WHERE = "assignee IS NULL AND status IN ('new', 'triage', 'investigating')"
# One open case per account and policy (appeal cases aside): cases.lifecycle.OPEN_STATES.
OPEN_CASE_WHERE = (
    "status IN ('new', 'triage', 'investigating', 'pending_customer', 'actioned') "
    "AND source <> 'appeal'"
)


class Case(Base):
    """Work on one account and policy: opened by detection, a report or a person (cases/)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_account_policy_status", "account_id", "policy", "status"),
        # The queue page and the case list: by priority, then due time (status is filtered
        # while walking: a status column before priority would force a sort of the queue).
        Index("ix_cases_queue_work", "queue", "priority", "resolution_due_at", "id"),
        Index("ix_cases_urgency", "priority", "resolution_due_at", "id"),
        # Claim-next walks the unassigned claimable cases in order (cases/assignment.py).
        Index(
            "ix_cases_claimable",
            "priority",
            "resolution_due_at",
            "id",
            sqlite_where=text(CLAIMABLE_WHERE),
            postgresql_where=text(CLAIMABLE_WHERE),
        ),
        # The open-or-attach path relies on it (cases/lifecycle.py; migration 0009).
        Index(
            "ux_cases_one_open",
            "account_id",
            "policy",
            unique=True,
            sqlite_where=text(OPEN_CASE_WHERE),
            postgresql_where=text(OPEN_CASE_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(128))
    policy: Mapped[str] = mapped_column(String(128))
    queue: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[str] = mapped_column(String(4))
    # new, triage, investigating, pending_customer, actioned, closed (cases/states.py)
    status: Mapped[str] = mapped_column(String(16), default="new")
    title: Mapped[str] = mapped_column(String(512))
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(16))
    signal_count: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="detection", server_default="detection")
    opened_at: Mapped[datetime] = mapped_column(_tz())
    updated_at: Mapped[datetime] = mapped_column(_tz())
    closed_at: Mapped[datetime | None] = mapped_column(_tz())
    first_signal_at: Mapped[datetime] = mapped_column(_tz())
    last_signal_at: Mapped[datetime] = mapped_column(_tz())
    # violation_confirmed, no_violation, duplicate, escalated_out
    resolution: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    # The analyst's name (a user's username when one exists): work can be assigned before the
    # users table holds everyone, and the audit log names actors the same way.
    assignee: Mapped[str | None] = mapped_column(String(128), index=True)
    first_response_due_at: Mapped[datetime | None] = mapped_column(_tz())
    resolution_due_at: Mapped[datetime | None] = mapped_column(_tz())
    claimed_at: Mapped[datetime | None] = mapped_column(_tz())
    first_action_at: Mapped[datetime | None] = mapped_column(_tz())
    snoozed_until: Mapped[datetime | None] = mapped_column(_tz())
    merged_into_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))
    split_from_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))
    reopened_from_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))
    escalations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The account's risk score on the policy when the case last grew, and its contributions
    # ({"score": s, "contributions": {rule id: share}}; detection/risk.py).
    risk_score: Mapped[float | None] = mapped_column(Float)
    risk: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CaseEvent(Base):
    """The case timeline: opened, signal attached, note, status change, action, notice."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    ts: Mapped[datetime] = mapped_column(_tz())
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseEvidence(Base):
    """Evidence frozen when it was gathered: what tripped a rule, sampled messages, a report."""

    __tablename__ = "case_evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # signal, messages, metrics, report
    ref: Mapped[str | None] = mapped_column(String(256))
    gathered_at: Mapped[datetime] = mapped_column(_tz())
    gathered_by: Mapped[str] = mapped_column(String(128))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Action(Base):
    """An enforcement action (enforcement/services.py is its one writer).

    status: active (in force), done (one-shot: warn, reinstate, reversal), expired (a temporary
    action that lifted itself), reversed (lifted by `reversed_by_id`, a reversal or reinstate).
    """

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_status_expires_at", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))
    # warn, throttle, pause, suspend, terminate, block, require_verification, reinstate, reversal
    kind: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(32), default="account")
    target: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(_tz())
    reversed_at: Mapped[datetime | None] = mapped_column(_tz())
    reversed_by: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    policy: Mapped[str | None] = mapped_column(String(128))
    rate_per_min: Mapped[float | None] = mapped_column(Float)
    expires_at: Mapped[datetime | None] = mapped_column(_tz())
    reverses_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("actions.id"))
    reversed_by_id: Mapped[int | None] = mapped_column(BigInteger)
    bulk_job_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Notice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))
    action_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("actions.id"))
    channel: Mapped[str] = mapped_column(String(16))  # email, zendesk
    template: Mapped[str] = mapped_column(String(128))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(512))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[datetime] = mapped_column(_tz())
    sent_at: Mapped[datetime | None] = mapped_column(_tz())
    html: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(128))


class OutboxItem(Base):
    """Something to deliver outside (a webhook, a notice): retried with backoff until delivered
    or dead. `delivery_id` is sent along so receivers drop repeats."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # webhook, email, zendesk
    destination: Mapped[str] = mapped_column(String(1024))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(_tz())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(_tz())
    delivered_at: Mapped[datetime | None] = mapped_column(_tz())
    action_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    notice_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class OutboxAttempt(Base):
    """The delivery log: one row per attempt."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("outbox.id"), index=True)
    ts: Mapped[datetime] = mapped_column(_tz())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class BulkJob(Base):
    """A bulk action: planned (dry run), approved, run, perhaps rolled back."""

    __tablename__ = "bulk_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # planned, approved, running, done, rolled_back
    status: Mapped[str] = mapped_column(String(16), default="planned")
    selector: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str | None] = mapped_column(String(32))  # None: each account's ladder proposal
    reason: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    planned_by: Mapped[str] = mapped_column(String(128))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(_tz())
    finished_at: Mapped[datetime | None] = mapped_column(_tz())


class BulkItem(Base):
    __tablename__ = "bulk_items"
    __table_args__ = (UniqueConstraint("job_id", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bulk_jobs.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(128))
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned, done, failed
    action_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)


class Appeal(Base):
    """A customer's appeal of an action, worked as its own case (queue "appeals")."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("actions.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(128))
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    channel: Mapped[str] = mapped_column(String(16))  # api, cli, email
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, upheld, overturned
    opened_at: Mapped[datetime] = mapped_column(_tz())
    opened_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(_tz())
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    reversal_id: Mapped[int | None] = mapped_column(BigInteger)


class Probation(Base):
    """An account on probation under a policy: goals measured on the lake until `ends_at`
    (probation/). status: active, graduated (goals met), escalated (back to its case)."""

    __tablename__ = "probations"
    __table_args__ = (
        # One active probation per account and policy (probation/services.py relies on it).
        Index(
            "ux_probations_active",
            "account_id",
            "policy",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_probations_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    policy: Mapped[str] = mapped_column(String(128))
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    # The action the probation follows (the one an overturned appeal reversed, or named by hand).
    action_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("actions.id"))
    appeal_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("appeals.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    goals: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{metric, below}]
    min_volume: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # the notice channel: email, zendesk
    recipient: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(_tz())
    ends_at: Mapped[datetime] = mapped_column(_tz())
    ended_at: Mapped[datetime | None] = mapped_column(_tz())
    # The measurements the outcome was decided on.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notice_id: Mapped[int | None] = mapped_column(BigInteger)


class Report(Base):
    """An abuse report from outside, as received (reports are also events in the lake)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(String(256), unique=True)
    event_id: Mapped[str] = mapped_column(String(256))
    reporter: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(512))
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(_tz())
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))
    # Who reported it (an address, a form's user): kept for the analyst, never shown to the
    # reported customer; notices must not quote it while this is set.
    reporter_contact: Mapped[str | None] = mapped_column(String(320))
    reporter_hidden: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # new (not routed yet), matched (on a case), unmatched (waiting in the unmatched queue)
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new", index=True)
    routed_at: Mapped[datetime | None] = mapped_column(_tz())


class Role(Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    permissions: Mapped[list[Any]] = mapped_column(JSON, default=list)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32), ForeignKey("roles.name"))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(_tz())


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(32), ForeignKey("roles.name"))
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(_tz())
    last_used_at: Mapped[datetime | None] = mapped_column(_tz())
    revoked_at: Mapped[datetime | None] = mapped_column(_tz())


class AuditEntry(Base):
    """Append-only (triggers refuse UPDATE and DELETE): who did what, to whom, why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(_tz(), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
