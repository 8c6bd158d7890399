"""Evidence, frozen when it is gathered.

A rule's hit is frozen with the feature values it saw and the condition (with its thresholds)
that tripped; a report with what the reporter sent; a message sample as the messages read then.
Later changes to the rule, the lake or the account never alter what the analyst decided on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abusedesk.cases.desk import Desk
from abusedesk.cases.lifecycle import load_case
from abusedesk.cases.timeline import record_change
from abusedesk.clock import Clock
from abusedesk.errors import InputError
from abusedesk.storage.db import Store
from abusedesk.storage.models import Account, CaseEvidence, Report, Signal

# (account id, its last event, how many) -> its newest messages, newest first: the caller's
# lake read (investigate/account.py `account_messages`), so cases/ does not read the lake itself.
MessageReader = Callable[[str, datetime, int], list[dict[str, Any]]]

EVIDENCE_KINDS = ("signal", "report", "messages", "metrics")


def freeze_signal(
    session: Session, case_id: int, signal: Signal, condition: str | None, now: datetime
) -> None:
    session.add(
        CaseEvidence(
            case_id=case_id,
            kind="signal",
            ref=str(signal.id),
            gathered_at=now,
            gathered_by=f"rule:{signal.rule_id}",
            body={
                "rule": signal.rule_id,
                "policy": signal.policy,
                "severity": signal.severity,
                "condition": condition,
                "features": dict(signal.features or {}),
                "event_id": signal.event_id,
                "event_type": signal.event_type,
                "event_ts": signal.event_ts.isoformat(),
            },
        )
    )


def freeze_report(
    session: Session, case_id: int, report: Report, actor: str, now: datetime
) -> None:
    session.add(
        CaseEvidence(
            case_id=case_id,
            kind="report",
            ref=report.report_id,
            gathered_at=now,
            gathered_by=actor,
            body={
                "report_id": report.report_id,
                "reporter": report.reporter,
                "category": report.category,
                "target": report.target,
                "description": report.description,
                "evidence": list(report.evidence or []),
                "received_at": report.received_at.isoformat(),
                # Who reported is kept for the analyst; this flag keeps it out of anything the
                # reported customer sees (notices, appeals).
                "reporter_contact": report.reporter_contact,
                "reporter_hidden": report.reporter_hidden,
            },
        )
    )


def do_add_evidence(
    store: Store,
    clock: Clock,
    desk: Desk,
    *,
    case_id: int,
    kind: str,
    items: Sequence[dict[str, Any]],
    actor: str,
    note: str = "",
) -> int:
    """Freeze a message sample or metric snapshot on a case; bounded by the desk's sample size.
    Returns how many items were kept."""
    if kind not in ("messages", "metrics"):
        raise InputError("evidence added by hand is a `messages` sample or a `metrics` snapshot")
    if not items:
        raise InputError("no evidence items given")
    kept = [dict(item) for item in items[: desk.message_sample]]
    with store.transaction() as session:
        case = load_case(session, case_id)
        now = clock.now()
        row = CaseEvidence(
            case_id=case.id,
            kind=kind,
            ref=None,
            gathered_at=now,
            gathered_by=actor,
            body={"items": kept, "offered": len(items), "note": note},
        )
        session.add(row)
        session.flush()
        record_change(
            session,
            clock,
            case,
            kind="evidence",
            actor=actor,
            reason=note or None,
            after={"evidence_id": row.id, "kind": kind, "items": len(kept)},
        )
    return len(kept)


def do_gather_messages(
    store: Store,
    clock: Clock,
    desk: Desk,
    *,
    case_id: int,
    read: MessageReader,
    actor: str,
    note: str = "",
) -> int:
    """Freeze the case account's newest messages, read from the lake now, on the case (at most
    the desk's sample size); how many were kept. The read happens outside the transaction: a
    lake read must not hold the database's write lock."""
    with store.sessions() as session:
        case = load_case(session, case_id)
        account = session.get(Account, case.account_id)
    if account is None:
        raise InputError(f"account {case.account_id!r} has no events in the registry")
    rows = read(case.account_id, account.last_seen, desk.message_sample)[: desk.message_sample]
    if not rows:
        raise InputError(f"no messages of {case.account_id} in the lake to sample")
    items = [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
        for row in rows
    ]
    with store.transaction() as session:
        case = load_case(session, case_id)
        now = clock.now()
        row = CaseEvidence(
            case_id=case.id,
            kind="messages",
            ref=None,
            gathered_at=now,
            gathered_by=actor,
            body={"items": items, "offered": len(items), "note": note, "source": "lake"},
        )
        session.add(row)
        session.flush()
        record_change(
            session,
            clock,
            case,
            kind="evidence",
            actor=actor,
            reason=note or None,
            after={
                "evidence_id": row.id,
                "kind": "messages",
                "items": len(items),
                "source": "lake",
            },
        )
    return len(items)


def evidence_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CaseEvidence).where(CaseEvidence.case_id == case_id).order_by(CaseEvidence.id)
    ).scalars()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "ref": r.ref,
            "gathered_at": r.gathered_at.isoformat(),
            "gathered_by": r.gathered_by,
            "body": r.body,
        }
        for r in rows
    ]
