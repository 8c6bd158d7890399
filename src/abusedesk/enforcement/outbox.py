"""The persistent outbox: deliveries are written in the transaction of what caused them, so an
action that commits always has its webhook queued, and one that rolls back never does.

`delivery.py` sends what is due; here are the writes around it (queue, retry from the dead
letter) and the reads (list, the delivery log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abusedesk.clock import Clock
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.storage.audit import write_audit
from abusedesk.storage.db import Store
from abusedesk.storage.models import OutboxAttempt, OutboxItem

STATUSES = ("pending", "delivered", "dead")


def queue_delivery(
    session: Session,
    *,
    delivery_id: str,
    channel: str,
    destination: str,
    payload: dict[str, Any],
    now: datetime,
    action_id: int | None = None,
    notice_id: int | None = None,
) -> OutboxItem:
    item = OutboxItem(
        delivery_id=delivery_id,
        channel=channel,
        destination=destination,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        action_id=action_id,
        notice_id=notice_id,
    )
    session.add(item)
    return item


@dataclass(frozen=True)
class OutboxRow:
    id: int
    delivery_id: str
    channel: str
    destination: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    action_id: int | None
    notice_id: int | None

    @classmethod
    def of(cls, item: OutboxItem) -> OutboxRow:
        return cls(
            item.id,
            item.delivery_id,
            item.channel,
            item.destination,
            item.status,
            item.attempts,
            item.next_attempt_at,
            item.last_error,
            item.created_at,
            item.delivered_at,
            item.action_id,
            item.notice_id,
        )


def list_outbox(store: Store, *, status: str | None = None, limit: int = 100) -> list[OutboxRow]:
    if status is not None and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}")
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxItem.status == status)
    with store.sessions() as session:
        return [OutboxRow.of(i) for i in session.execute(query).scalars()]


def delivery_log(store: Store, outbox_id: int) -> list[OutboxAttempt]:
    with store.sessions() as session:
        return list(
            session.execute(
                select(OutboxAttempt)
                .where(OutboxAttempt.outbox_id == outbox_id)
                .order_by(OutboxAttempt.id)
            ).scalars()
        )


def do_retry_delivery(store: Store, clock: Clock, *, outbox_id: int, actor: str) -> OutboxRow:
    """Put a dead delivery back in the queue with a fresh set of attempts."""
    with store.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        if item is None:
            raise NotFoundError(f"no outbox item {outbox_id}")
        if item.status != "dead":
            raise ConflictError(f"outbox item {outbox_id} is {item.status}; only dead ones retry")
        before = {"status": item.status, "attempts": item.attempts}
        item.status = "pending"
        item.attempts = 0
        item.next_attempt_at = clock.now()
        write_audit(
            session,
            clock,
            actor=actor,
            action="outbox.retry",
            object_type="outbox",
            object_id=str(outbox_id),
            before=before,
            after={"status": "pending", "attempts": 0},
        )
        return OutboxRow.of(item)
