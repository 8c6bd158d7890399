"""The one write path of enforcement: take, reverse and expire actions.

Each `do_*` runs one transaction holding the action, its audit row, the case timeline entry and
the webhook in the outbox, so the platform hears of exactly the actions that were committed.
`take` and `reverse` work inside a given session too, which lets a bulk job commit hundreds of
actions per transaction (enforcement/bulk.py) through the very same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from abusedesk.clock import Clock
from abusedesk.enforcement.case_link import add_timeline, check_case, mark_case_actioned
from abusedesk.enforcement.kinds import LASTING, ActionRequest, check_request
from abusedesk.enforcement.outbox import queue_delivery
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.policies.catalogue import LADDER_KINDS, Catalogue
from abusedesk.policies.ladder import Proposal, propose
from abusedesk.storage.audit import write_audit
from abusedesk.storage.db import Store
from abusedesk.storage.models import Action


@dataclass(frozen=True)
class Enforcement:
    """What the services need: the store, the clock, the policies and where webhooks go."""

    store: Store
    clock: Clock
    catalogue: Catalogue
    webhook_url: str | None = None


@dataclass(frozen=True)
class ActionResult:
    action: dict[str, Any]
    created: bool  # False: the same request had been made before (idempotent replay)


def action_json(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "account_id": action.account_id,
        "kind": action.kind,
        "scope": action.scope,
        "target": action.target,
        "policy": action.policy,
        "case_id": action.case_id,
        "status": action.status,
        "rate_per_min": action.rate_per_min,
        "expires_at": _iso(action.expires_at),
        "reason": action.reason,
        "created_by": action.created_by,
        "created_at": _iso(action.created_at),
        "reversed_at": _iso(action.reversed_at),
        "reversed_by": action.reversed_by,
        "reverses_id": action.reverses_id,
        "reversed_by_id": action.reversed_by_id,
        "bulk_job_id": action.bulk_job_id,
        "details": action.details,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


# -- the ladder --------------------------------------------------------------------------------


def strike_times(session: Session, account_id: str, policy: str) -> list[datetime]:
    """When the account was struck under the policy: ladder actions not reversed."""
    return strikes_of(session, [account_id], policy).get(account_id, [])


def strikes_of(session: Session, account_ids: list[str], policy: str) -> dict[str, list[datetime]]:
    """strike_times for many accounts in one query."""
    found: dict[str, list[datetime]] = {}
    rows = session.execute(
        select(Action.account_id, Action.created_at).where(
            Action.account_id.in_(account_ids),
            Action.policy == policy,
            Action.kind.in_(LADDER_KINDS),
            Action.status != "reversed",
        )
    )
    for account_id, created_at in rows:
        found.setdefault(account_id, []).append(created_at)
    return found


def terminated_among(session: Session, account_ids: list[str]) -> set[str]:
    """Which of the accounts have a termination in force."""
    return set(
        session.execute(
            select(Action.account_id).where(
                Action.account_id.in_(account_ids),
                Action.kind == "terminate",
                Action.status == "active",
            )
        ).scalars()
    )


def propose_for(session: Session, enf: Enforcement, account_id: str, policy: str) -> Proposal:
    return propose(
        enf.catalogue.get(policy), strike_times(session, account_id, policy), enf.clock.now()
    )


def proposal(enf: Enforcement, account_id: str, policy: str) -> Proposal:
    with enf.store.sessions() as session:
        return propose_for(session, enf, account_id, policy)


# -- take --------------------------------------------------------------------------------------


def do_take_action(enf: Enforcement, request: ActionRequest) -> ActionResult:
    try:
        with enf.store.transaction() as session:
            return take(session, enf, request)
    except IntegrityError:
        # Two identical requests with one idempotency key raced; the other one committed.
        if request.idempotency_key is None:
            raise
        with enf.store.sessions() as session:
            found = _by_key(session, request.idempotency_key)
            if found is None:
                raise
            return ActionResult(action_json(found), created=False)


def take(
    session: Session,
    enf: Enforcement,
    request: ActionRequest,
    *,
    strikes: list[datetime] | None = None,
    key_is_new: bool = False,
    terminated: bool | None = None,
) -> ActionResult:
    """Take one action in `session`. Every check runs before the first write, so a refused
    request leaves the session as it was. A bulk job passes the account's `strikes` and
    `key_is_new` and whether it is `terminated`, read for a whole chunk in three queries
    (enforcement/bulk.py)."""
    planned = plan_action(
        session, enf, request, strikes=strikes, key_is_new=key_is_new, terminated=terminated
    )
    if isinstance(planned, ActionResult):
        return planned
    session.add(planned)
    session.flush()
    return record_taken(session, enf, planned, actor=request.actor)


def plan_action(
    session: Session,
    enf: Enforcement,
    request: ActionRequest,
    *,
    strikes: list[datetime] | None = None,
    key_is_new: bool = False,
    terminated: bool | None = None,
) -> Action | ActionResult:
    """The checks of `take` and the action they allow, not yet added to the session; or the
    earlier result when the request repeats one (its idempotency key, or the same lasting
    action still active). Raises before any write when the request is refused."""
    now = enf.clock.now()
    if request.idempotency_key is not None and not key_is_new:
        found = _by_key(session, request.idempotency_key)
        if found is not None:
            if request.kind is not None and found.kind != request.kind:
                raise ConflictError(
                    f"idempotency key {request.idempotency_key!r} was used for action "
                    f"{found.id} ({found.kind}); use a new key for a different request"
                )
            return ActionResult(action_json(found), created=False)
    details: dict[str, Any] = dict(request.extra)
    kind = request.kind
    duration = request.duration
    rate = request.rate_per_min
    if request.policy is not None:
        if strikes is None:
            offer = propose_for(session, enf, request.account_id, request.policy)
        else:
            offer = propose(enf.catalogue.get(request.policy), strikes, now)
        details["proposal"] = offer.to_json()
        if kind is None:
            kind = offer.step.action
        if kind == offer.step.action:
            duration = duration if duration is not None else offer.step.duration
            if kind == "throttle" and rate is None:
                rate = offer.step.rate_per_min
        elif kind in LADDER_KINDS:
            if not (request.override_reason or "").strip():
                raise InputError(
                    f"the {request.policy} ladder proposes {offer.step.describe()} "
                    f"(strike {offer.strikes + 1}); to take {kind} instead give an "
                    "override reason"
                )
            details["override_reason"] = request.override_reason
    elif kind is None:
        raise InputError("give an action kind, or a policy whose ladder proposes one")
    check_request(
        _with(request, rate_per_min=rate, duration=duration),
        kind,
    )
    if request.case_id is not None:
        check_case(session, request.case_id, request.account_id)
    if kind != "reinstate":
        if terminated is None:
            terminated = bool(terminated_among(session, [request.account_id]))
        if terminated:
            raise ConflictError(
                f"account {request.account_id} is terminated; only reinstate applies to it"
            )
    if request.idempotency_key is None and kind in LASTING:
        same = _active_same(session, request, kind)
        if same is not None:
            return ActionResult(action_json(same), created=False)
    return Action(
        account_id=request.account_id,
        case_id=request.case_id,
        kind=kind,
        scope=request.scope,
        target=request.target,
        status="active" if kind in LASTING else "done",
        reason=request.reason.strip(),
        created_by=request.actor,
        created_at=now,
        idempotency_key=request.idempotency_key,
        policy=request.policy,
        rate_per_min=rate,
        expires_at=None if duration is None else now + duration,
        bulk_job_id=request.bulk_job_id,
        details=details,
    )


def record_taken(session: Session, enf: Enforcement, action: Action, *, actor: str) -> ActionResult:
    """After a planned action is flushed (it has its id): a reinstatement lifts what it
    lifts, then the audit row, the case timeline and the webhook."""
    if action.kind == "reinstate":
        lifted = _lift_all(session, action.account_id, action, action.created_at)
        action.details = {**action.details, "lifted": lifted}
    _record(session, enf, action, event="action.taken", actor=actor, now=action.created_at)
    return ActionResult(action_json(action), created=True)


def _with(request: ActionRequest, **changes: Any) -> ActionRequest:
    from dataclasses import replace

    return replace(request, **changes)


def _by_key(session: Session, key: str) -> Action | None:
    return session.execute(select(Action).where(Action.idempotency_key == key)).scalar_one_or_none()


def _active_same(session: Session, request: ActionRequest, kind: str) -> Action | None:
    query = select(Action).where(
        Action.account_id == request.account_id,
        Action.kind == kind,
        Action.scope == request.scope,
        Action.status == "active",
    )
    query = query.where(
        Action.target.is_(None) if request.target is None else Action.target == request.target
    )
    return session.execute(query.limit(1)).scalar_one_or_none()


def _lift_all(session: Session, account_id: str, by: Action, now: datetime) -> list[int]:
    rows = session.execute(
        select(Action).where(
            Action.account_id == account_id, Action.status == "active", Action.kind != "block"
        )
    ).scalars()
    lifted = []
    for row in rows:
        row.status = "reversed"
        row.reversed_at = now
        row.reversed_by = by.created_by
        row.reversed_by_id = by.id
        lifted.append(row.id)
    return lifted


# -- reverse and expire ------------------------------------------------------------------------


def do_reverse_action(enf: Enforcement, *, action_id: int, actor: str, reason: str) -> ActionResult:
    with enf.store.transaction() as session:
        return reverse(session, enf, action_id=action_id, actor=actor, reason=reason)


def reverse(
    session: Session, enf: Enforcement, *, action_id: int, actor: str, reason: str
) -> ActionResult:
    if not reason.strip():
        raise InputError("a reason is required; it is kept in the audit log")
    now = enf.clock.now()
    original = session.get(Action, action_id)
    if original is None:
        raise NotFoundError(f"no action {action_id}")
    if original.kind in ("reversal", "reinstate"):
        raise ConflictError(f"action {action_id} is a {original.kind}; take a new action instead")
    if original.status == "reversed" and original.reversed_by_id is not None:
        earlier = session.get(Action, original.reversed_by_id)
        if earlier is not None and earlier.kind == "reversal":
            return ActionResult(action_json(earlier), created=False)
        raise ConflictError(
            f"action {action_id} was already lifted by action {original.reversed_by_id}"
        )
    if original.status == "expired":
        raise ConflictError(f"action {action_id} expired at {_iso(original.reversed_at)}")
    reversal = Action(
        account_id=original.account_id,
        case_id=original.case_id,
        kind="reversal",
        scope=original.scope,
        target=original.target,
        status="done",
        reason=reason.strip(),
        created_by=actor,
        created_at=now,
        policy=original.policy,
        reverses_id=original.id,
        details={"reverses": {"kind": original.kind, "status": original.status}},
    )
    session.add(reversal)
    session.flush()
    original.status = "reversed"
    original.reversed_at = now
    original.reversed_by = actor
    original.reversed_by_id = reversal.id
    _record(session, enf, reversal, event="action.reversed", actor=actor, now=now)
    return ActionResult(action_json(reversal), created=True)


def do_expire_actions(enf: Enforcement, *, limit: int = 1000) -> list[int]:
    """Lift temporary actions whose time is up, each with a timeline entry and a webhook."""
    now = enf.clock.now()
    with enf.store.transaction() as session:
        rows = list(
            session.execute(
                select(Action)
                .where(Action.status == "active", Action.expires_at <= now)
                .order_by(Action.expires_at)
                .limit(limit)
            ).scalars()
        )
        for row in rows:
            row.status = "expired"
            row.reversed_at = now
            row.reversed_by = "system:expiry"
            _record(session, enf, row, event="action.expired", actor="system:expiry", now=now)
        return [r.id for r in rows]


# -- the shared tail: audit, timeline, webhook -------------------------------------------------


def _record(
    session: Session, enf: Enforcement, action: Action, *, event: str, actor: str, now: datetime
) -> None:
    body = action_json(action)
    write_audit(
        session,
        enf.clock,
        actor=actor,
        action=event,
        object_type="action",
        object_id=str(action.id),
        reason=action.reason if event != "action.expired" else "temporary action expired",
        after=body,
    )
    if action.case_id is not None:
        add_timeline(session, action.case_id, kind=event, actor=actor, body=body, now=now)
        if event == "action.taken":
            mark_case_actioned(session, action.case_id, now)
    if enf.webhook_url:
        delivery_id = f"{event}-{action.id}"
        queue_delivery(
            session,
            delivery_id=delivery_id,
            channel="webhook",
            destination=enf.webhook_url,
            payload={
                "delivery_id": delivery_id,
                "event": event,
                "occurred_at": _iso(now),
                "action": body,
            },
            now=now,
            action_id=action.id,
        )


def list_actions(
    store: Store,
    *,
    account_id: str | None = None,
    status: str | None = None,
    case_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    query = select(Action).order_by(Action.id.desc()).limit(limit)
    if account_id is not None:
        query = query.where(Action.account_id == account_id)
    if status is not None:
        query = query.where(Action.status == status)
    if case_id is not None:
        query = query.where(Action.case_id == case_id)
    with store.sessions() as session:
        return [action_json(a) for a in session.execute(query).scalars()]
