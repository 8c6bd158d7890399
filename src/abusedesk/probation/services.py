"""The one write path of probation: start one, and the sweep that ends them by themselves.

`do_start_probation` (an analyst, API or CLI) and `start_probation` (inside an overturned
appeal's transaction, appeals/services.py) put an account on probation under a policy whose
catalogue entry names goals. `do_run_probations` is the periodic sweep (`abusedesk probation
run`, and the worker inside `abusedesk serve`): it measures every active probation on the lake
in one query and, per probation, in one transaction: graduates it (its time is up and no goal
was breached) or escalates it back to its case (a goal breached), queues the customer's notice,
writes the case timeline and the audit row. A probation is concluded by a conditional update
on its status, so two sweeps running at once conclude it (and tell the customer) once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from abusedesk.cases.desk import Desk
from abusedesk.enforcement.case_link import add_timeline, check_case
from abusedesk.enforcement.services import Enforcement
from abusedesk.errors import AbusedeskError, ConflictError, InputError, NotFoundError
from abusedesk.lake.reader import LakeReader
from abusedesk.notices.render import NoticeRenderer
from abusedesk.notices.services import CHANNELS
from abusedesk.probation.case_return import return_to_case
from abusedesk.probation.goals import Judgement, judge
from abusedesk.probation.metrics import Window, measure
from abusedesk.probation.notices import queue_probation_notice
from abusedesk.storage.audit import write_audit
from abusedesk.storage.models import Account, Action, Probation

log = logging.getLogger("abusedesk.probation")

SWEEP_ACTOR = "system:probation"
STATUSES = ("active", "graduated", "escalated")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def probation_json(p: Probation) -> dict[str, Any]:
    return {
        "id": p.id,
        "account_id": p.account_id,
        "policy": p.policy,
        "case_id": p.case_id,
        "action_id": p.action_id,
        "appeal_id": p.appeal_id,
        "status": p.status,
        "goals": p.goals,
        "min_volume": p.min_volume,
        "channel": p.channel,
        "recipient": p.recipient,
        "reason": p.reason,
        "started_by": p.started_by,
        "started_at": _iso(p.started_at),
        "ends_at": _iso(p.ends_at),
        "ended_at": _iso(p.ended_at),
        "result": p.result,
        "notice_id": p.notice_id,
    }


# -- start -------------------------------------------------------------------------------------


def start_probation(
    session: Session,
    enf: Enforcement,
    *,
    account_id: str,
    policy: str,
    case_id: int,
    actor: str,
    reason: str,
    action_id: int | None = None,
    appeal_id: int | None = None,
    channel: str = "email",
    recipient: str | None = None,
    days: int | None = None,
) -> Probation:
    """Put the account on probation in `session`; every check runs before the first write."""
    if not reason.strip():
        raise InputError("a reason is required; it is kept in the audit log")
    if channel not in CHANNELS:
        raise InputError(f"channel must be one of {', '.join(CHANNELS)}")
    entry = enf.catalogue.get(policy)
    if not entry.probation_goals:
        raise InputError(f"policy {policy} names no probation goals (catalogue: probation.goals)")
    if days is not None and days <= 0:
        raise InputError("probation days must be positive")
    check_case(session, case_id, account_id)
    if action_id is not None:
        action = session.get(Action, action_id)
        if action is None or action.account_id != account_id:
            raise NotFoundError(f"no action {action_id} on account {account_id}")
    current = active_of(session, account_id, policy)
    if current is not None:
        raise ConflictError(
            f"account {account_id} is on probation {current.id} under {policy} until "
            f"{_iso(current.ends_at)}"
        )
    if recipient is None:
        account = session.get(Account, account_id)
        recipient = account.email if account is not None else None
    if not recipient:
        raise InputError(
            f"account {account_id} has no email; give a recipient (the customer is told how "
            "the probation ends)"
        )
    now = enf.clock.now()
    probation = Probation(
        account_id=account_id,
        policy=policy,
        case_id=case_id,
        action_id=action_id,
        appeal_id=appeal_id,
        status="active",
        goals=[{"metric": g.metric, "below": g.below} for g in entry.probation_goals],
        min_volume=entry.probation_min_volume,
        channel=channel,
        recipient=recipient,
        reason=reason.strip(),
        started_by=actor,
        started_at=now,
        ends_at=now + timedelta(days=days or entry.probation_days),
    )
    session.add(probation)
    session.flush()
    body = probation_json(probation)
    add_timeline(session, case_id, kind="probation.started", actor=actor, body=body, now=now)
    write_audit(
        session,
        enf.clock,
        actor=actor,
        action="probation.start",
        object_type="probation",
        object_id=str(probation.id),
        reason=probation.reason,
        after=body,
    )
    return probation


def do_start_probation(
    enf: Enforcement,
    *,
    account_id: str,
    policy: str,
    case_id: int,
    actor: str,
    reason: str,
    action_id: int | None = None,
    channel: str = "email",
    recipient: str | None = None,
    days: int | None = None,
) -> dict[str, Any]:
    with enf.store.transaction() as session:
        probation = start_probation(
            session,
            enf,
            account_id=account_id,
            policy=policy,
            case_id=case_id,
            actor=actor,
            reason=reason,
            action_id=action_id,
            channel=channel,
            recipient=recipient,
            days=days,
        )
        return probation_json(probation)


def active_of(session: Session, account_id: str, policy: str) -> Probation | None:
    return session.execute(
        select(Probation).where(
            Probation.account_id == account_id,
            Probation.policy == policy,
            Probation.status == "active",
        )
    ).scalar_one_or_none()


# -- the sweep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    probation_id: int
    account_id: str
    outcome: str  # graduated, escalated, continuing, skipped, failed
    judgement: Judgement
    notice_id: int | None = None
    case_id: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "probation_id": self.probation_id,
            "account_id": self.account_id,
            "outcome": self.outcome,
            "notice_id": self.notice_id,
            "case_id": self.case_id,
            "error": self.error,
            "measurements": self.judgement.to_json()["measurements"],
        }


def judge_active(
    enf: Enforcement, reader: LakeReader, probations: list[Probation]
) -> dict[int, Judgement]:
    """Each active probation's judgement now, from one query over the lake."""
    now = enf.clock.now()
    windows = [
        Window(p.id, p.account_id, p.started_at, min(now, p.ends_at))
        for p in probations
        if p.status == "active"
    ]
    counts = measure(reader, windows)
    return {
        p.id: judge(
            p.goals, counts.get(p.id, {}), min_volume=p.min_volume, now=now, ends_at=p.ends_at
        )
        for p in probations
        if p.status == "active"
    }


def do_run_probations(
    enf: Enforcement,
    renderer: NoticeRenderer,
    desk: Desk,
    reader: LakeReader,
    *,
    actor: str = SWEEP_ACTOR,
) -> list[SweepResult]:
    """Measure every active probation; graduate or escalate those that are decided."""
    with enf.store.sessions() as session:
        active = list(
            session.execute(
                select(Probation).where(Probation.status == "active").order_by(Probation.id)
            ).scalars()
        )
        session.expunge_all()
    judgements = judge_active(enf, reader, active)
    results = []
    for p in active:
        judgement = judgements[p.id]
        if judgement.outcome == "continue":
            results.append(SweepResult(p.id, p.account_id, "continuing", judgement))
            continue
        try:
            with enf.store.transaction() as session:
                results.append(
                    _conclude(
                        session,
                        enf,
                        renderer=renderer,
                        desk=desk,
                        probation_id=p.id,
                        judgement=judgement,
                        actor=actor,
                    )
                )
        except AbusedeskError as exc:
            # One probation that cannot conclude (its policy left the catalogue, a template
            # lacks a value) stays active and is retried next sweep; the others go on.
            log.warning("probation %s not concluded: %s", p.id, exc.message)
            results.append(SweepResult(p.id, p.account_id, "failed", judgement, error=exc.message))
    return results


def _conclude(
    session: Session,
    enf: Enforcement,
    *,
    renderer: NoticeRenderer,
    desk: Desk,
    probation_id: int,
    judgement: Judgement,
    actor: str,
) -> SweepResult:
    now = enf.clock.now()
    status = "graduated" if judgement.outcome == "graduate" else "escalated"
    claimed = session.execute(
        update(Probation)
        .where(Probation.id == probation_id, Probation.status == "active")
        .values(status=status, ended_at=now, result=judgement.to_json())
        .execution_options(synchronize_session=False)
    )
    probation = session.get(Probation, probation_id)
    assert probation is not None
    if getattr(claimed, "rowcount", 0) != 1:
        return SweepResult(probation_id, probation.account_id, "skipped", judgement)
    session.refresh(probation)
    notice = queue_probation_notice(
        session, enf, renderer, probation, judgement, outcome=status, actor=actor
    )
    probation.notice_id = int(notice["id"])
    body = {
        "probation_id": probation.id,
        "policy": probation.policy,
        "notice_id": probation.notice_id,
        **judgement.to_json(),
    }
    case_id = probation.case_id
    if status == "graduated":
        add_timeline(session, case_id, kind="probation.graduated", actor=actor, body=body, now=now)
    else:
        missed = ", ".join(m.metric for m in judgement.breached)
        case = return_to_case(
            session,
            enf.clock,
            desk,
            case_id=case_id,
            actor=actor,
            reason=f"probation {probation.id} breached its goals: {missed}",
            body=body,
        )
        case_id = case.id
    write_audit(
        session,
        enf.clock,
        actor=actor,
        action=f"probation.{'graduate' if status == 'graduated' else 'escalate'}",
        object_type="probation",
        object_id=str(probation.id),
        reason=f"goals {'met' if status == 'graduated' else 'breached'}",
        before={"status": "active"},
        after={**body, "status": status, "case_id": case_id},
    )
    return SweepResult(
        probation.id, probation.account_id, status, judgement, probation.notice_id, case_id
    )


# -- reads -------------------------------------------------------------------------------------


def list_probations(
    enf: Enforcement,
    *,
    status: str | None = None,
    account_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}")
    query = select(Probation).order_by(Probation.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Probation.status == status)
    if account_id is not None:
        query = query.where(Probation.account_id == account_id)
    with enf.store.sessions() as session:
        return [probation_json(p) for p in session.execute(query).scalars()]


def show_probation(enf: Enforcement, reader: LakeReader, probation_id: int) -> dict[str, Any]:
    """One probation; an active one with its goals measured on the lake now."""
    with enf.store.sessions() as session:
        probation = session.get(Probation, probation_id)
        if probation is None:
            raise NotFoundError(f"no probation {probation_id}")
        session.expunge(probation)
    body = probation_json(probation)
    if probation.status == "active":
        body["now"] = judge_active(enf, reader, [probation])[probation.id].to_json()
    return body
