"""Appeals: open one (a linked case in the "appeals" queue with its own SLA), decide it.

Someone other than the person who took the action decides. Overturning reverses the action and
queues the reinstatement notice in the same transaction; upholding keeps the action. Either way
the appeal case is closed with the outcome and both cases' timelines say so.

An overturn also puts the account on probation (probation/) when the action's policy names
probation goals and the action was taken on a case, unless the decider says not to: the
reinstatement notice then tells the customer what is measured and until when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abusedesk.enforcement.case_link import add_timeline, close_appeal_case, open_appeal_case
from abusedesk.enforcement.services import Enforcement, reverse
from abusedesk.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from abusedesk.notices.render import NoticeRenderer
from abusedesk.notices.services import queue_notice
from abusedesk.probation.notices import probation_summary
from abusedesk.probation.services import active_of, start_probation
from abusedesk.storage.audit import write_audit
from abusedesk.storage.models import Action, Appeal

# An appeal is answered within two days: the customer is waiting, often unable to send.
APPEAL_SLA = timedelta(hours=48)
DECISIONS = ("uphold", "overturn")
CHANNELS = ("api", "cli", "email")


@dataclass(frozen=True)
class AppealView:
    id: int
    action_id: int
    account_id: str
    case_id: int
    channel: str
    status: str
    opened_at: datetime
    decided_by: str | None
    reversal_id: int | None
    notice_id: int | None = None
    probation_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "opened_at": self.opened_at.isoformat()}


def _view(
    appeal: Appeal, notice_id: int | None = None, probation_id: int | None = None
) -> AppealView:
    return AppealView(
        appeal.id,
        appeal.action_id,
        appeal.account_id,
        appeal.case_id,
        appeal.channel,
        appeal.status,
        appeal.opened_at,
        appeal.decided_by,
        appeal.reversal_id,
        notice_id,
        probation_id,
    )


def do_open_appeal(
    enf: Enforcement, *, action_id: int, message: str, channel: str, actor: str
) -> AppealView:
    """Open an appeal of an action; a second appeal while one is open returns the open one."""
    if channel not in CHANNELS:
        raise InputError(f"channel must be one of {', '.join(CHANNELS)}")
    if not message.strip():
        raise InputError("an appeal needs the customer's message")
    now = enf.clock.now()
    with enf.store.transaction() as session:
        action = session.get(Action, action_id)
        if action is None:
            raise NotFoundError(f"no action {action_id}")
        if action.kind in ("reversal", "reinstate") or action.status in ("reversed", "expired"):
            raise ConflictError(f"action {action_id} is {action.status}; nothing to appeal")
        open_one = session.execute(
            select(Appeal).where(Appeal.action_id == action_id, Appeal.status == "open")
        ).scalar_one_or_none()
        if open_one is not None:
            return _view(open_one)
        case = open_appeal_case(
            session,
            account_id=action.account_id,
            policy=action.policy or "appeal",
            title=f"Appeal of action {action_id} ({action.kind})",
            now=now,
            due=now + APPEAL_SLA,
        )
        appeal = Appeal(
            action_id=action_id,
            account_id=action.account_id,
            case_id=case.id,
            channel=channel,
            message=message.strip(),
            status="open",
            opened_at=now,
            opened_by=actor,
        )
        session.add(appeal)
        session.flush()
        body = {"appeal_id": appeal.id, "action_id": action_id, "channel": channel}
        add_timeline(
            session,
            case.id,
            kind="appeal.opened",
            actor=actor,
            body={**body, "message": appeal.message},
            now=now,
        )
        if action.case_id is not None:
            add_timeline(
                session,
                action.case_id,
                kind="appeal.opened",
                actor=actor,
                body={**body, "appeal_case_id": case.id},
                now=now,
            )
        write_audit(
            session,
            enf.clock,
            actor=actor,
            action="appeal.open",
            object_type="appeal",
            object_id=str(appeal.id),
            after={**body, "case_id": case.id},
        )
        return _view(appeal)


def do_decide_appeal(
    enf: Enforcement,
    renderer: NoticeRenderer,
    *,
    appeal_id: int,
    decision: str,
    actor: str,
    reason: str,
    channel: str = "email",
    probation: bool = True,
) -> AppealView:
    if decision not in DECISIONS:
        raise InputError(f"decision must be one of {', '.join(DECISIONS)}")
    if not reason.strip():
        raise InputError("a reason is required; it is kept in the audit log")
    now = enf.clock.now()
    with enf.store.transaction() as session:
        appeal = _appeal(session, appeal_id)
        if appeal.status != "open":
            raise ConflictError(f"appeal {appeal_id} was already decided: {appeal.status}")
        action = session.get(Action, appeal.action_id)
        assert action is not None  # a foreign key
        if actor == action.created_by:
            raise ForbiddenError(
                f"{actor} took action {action.id}; someone else decides its appeal"
            )
        notice_id = probation_id = None
        if decision == "overturn":
            reversal = reverse(
                session,
                enf,
                action_id=action.id,
                actor=actor,
                reason=f"appeal {appeal_id} overturned: {reason}",
            )
            appeal.reversal_id = int(reversal.action["id"])
            session.flush()
            fills = {"reason_text": reason}
            entry = enf.catalogue.policies.get(action.policy or "")
            if (
                probation
                and entry is not None
                and entry.probation_goals
                and action.case_id is not None
                and active_of(session, action.account_id, entry.id) is None
            ):
                started = start_probation(
                    session,
                    enf,
                    account_id=action.account_id,
                    policy=entry.id,
                    case_id=action.case_id,
                    actor=actor,
                    reason=f"appeal {appeal_id} overturned: {reason}",
                    action_id=action.id,
                    appeal_id=appeal_id,
                    channel=channel,
                )
                probation_id = started.id
                fills["probation_text"] = probation_summary(started)
            notice = queue_notice(
                session,
                enf,
                renderer,
                action_id=appeal.reversal_id,
                actor=actor,
                channel=channel,
                fills=fills,
            )
            notice_id = int(notice["id"])
        appeal.status = "overturned" if decision == "overturn" else "upheld"
        appeal.decided_at = now
        appeal.decided_by = actor
        appeal.decision_reason = reason
        body = {
            "appeal_id": appeal_id,
            "decision": appeal.status,
            "reason": reason,
            "probation_id": probation_id,
        }
        add_timeline(
            session, appeal.case_id, kind="appeal.decided", actor=actor, body=body, now=now
        )
        if action.case_id is not None:
            add_timeline(
                session, action.case_id, kind="appeal.decided", actor=actor, body=body, now=now
            )
        close_appeal_case(session, appeal.case_id, outcome=appeal.status, now=now)
        write_audit(
            session,
            enf.clock,
            actor=actor,
            action="appeal.decide",
            object_type="appeal",
            object_id=str(appeal_id),
            reason=reason,
            before={"status": "open"},
            after=body,
        )
        return _view(appeal, notice_id, probation_id)


def list_appeals(enf: Enforcement, *, status: str | None = None) -> list[AppealView]:
    query = select(Appeal).order_by(Appeal.id.desc())
    if status is not None:
        query = query.where(Appeal.status == status)
    with enf.store.sessions() as session:
        return [_view(a) for a in session.execute(query).scalars()]


def _appeal(session: Session, appeal_id: int) -> Appeal:
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFoundError(f"no appeal {appeal_id}")
    return appeal
