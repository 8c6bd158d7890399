"""The audit log's one writer. Every service that changes what people work on calls it inside
its own transaction, so the change and its audit row commit (or fail) together."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from abusedesk.clock import Clock
from abusedesk.storage.models import AuditEntry


def write_audit(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            ts=clock.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            reason=reason,
            before=before,
            after=after,
        )
    )
