"""Evidence, frozen when it is gathered.

A rule's hit is frozen with the feature values it saw and the condition (with its thresholds)
that tripped; a report with what the reporter sent; a message sample as the messages read then.
Later changes to the rule, the lake or the account never alter what the analyst decided on.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from abusedesk.storage.models import CaseEvidence, Report, Signal

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
