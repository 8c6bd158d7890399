"""Notices: preview and send. A notice is rendered from the action, its policy and its case's
evidence; one with an unfilled placeholder is refused; a sent notice is a `notices` row, an
outbox delivery (email or Zendesk, retried like webhooks) and a case timeline entry, in one
transaction with its audit row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abusedesk.enforcement.case_link import add_timeline
from abusedesk.enforcement.outbox import queue_delivery
from abusedesk.enforcement.services import Enforcement
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.notices.evidence import metrics_from_features, safe_examples
from abusedesk.notices.render import NoticeRenderer, Rendered
from abusedesk.storage.audit import write_audit
from abusedesk.storage.models import Account, Action, Notice, Signal

CHANNELS = ("email", "zendesk")

_LABEL = {
    "warn": "warning",
    "throttle": "sending limited",
    "pause": "sending paused",
    "suspend": "account suspended",
    "terminate": "account terminated",
    "block": "blocked",
    "require_verification": "verification required",
    "reinstate": "account reinstated",
}
_SENTENCE = {
    "warn": "We are writing to warn you about traffic from your account. Nothing is restricted "
    "yet; if the problem continues we will restrict sending.",
    "throttle": "We have limited how fast your account can send.",
    "pause": "We have paused sending from your account.",
    "suspend": "We have suspended sending from your account.",
    "terminate": "We have terminated your account.",
    "block": "We have blocked an address used by your account on our platform.",
    "require_verification": "We need you to verify your business before your account can "
    "send more.",
}
_STILL_WORKS = {
    "warn": "Everything: your account is fully functional.",
    "throttle": "Sending continues at the limited rate; login, the API and billing are unchanged.",
    "pause": "Login, reading data through the API and your reports keep working; messages you "
    "send are refused until sending resumes. Billing continues.",
    "suspend": "You can log in and read your data; sending and new API keys are disabled. "
    "Billing continues.",
    "terminate": "Access ends. Your data can be exported on request for 30 days.",
    "block": "Everything else on your account keeps working.",
    "require_verification": "Everything, up to the limits for unverified accounts, until "
    "verification is complete.",
}


@dataclass(frozen=True)
class NoticeDraft:
    action_id: int
    policy: str
    kind: str
    account_id: str
    case_id: int | None
    email: str | None
    rendered: Rendered


def _scope_text(action: Action) -> str:
    if action.scope == "account":
        return "the whole account"
    return f"{action.scope} {action.target}"


def _context(
    session: Session,
    enf: Enforcement,
    action: Action,
    *,
    fills: Mapping[str, str],
    examples: Sequence[Mapping[str, Any]],
    appeal_days: int,
) -> tuple[dict[str, Any], str | None, str]:
    lifted = action
    if action.kind == "reversal" and action.reverses_id is not None:
        lifted = session.get(Action, action.reverses_id) or action
    policy_id = action.policy or lifted.policy
    if policy_id is None:
        raise InputError(f"action {action.id} names no policy; a notice explains one")
    policy = enf.catalogue.get(policy_id)
    account = session.get(Account, action.account_id)
    features: list[dict[str, Any]] = []
    if action.case_id is not None:
        features = [
            dict(f)
            for f in session.execute(
                select(Signal.features).where(Signal.case_id == action.case_id).order_by(Signal.id)
            ).scalars()
        ]
    kind = "reinstate" if action.kind in ("reinstate", "reversal") else action.kind
    context: dict[str, Any] = {
        "account": {
            "id": action.account_id,
            "company": account.company if account else None,
            "email": account.email if account else None,
        },
        "action": {
            "id": action.id,
            "kind": kind,
            "label": _LABEL.get(kind, kind),
            "sentence": _SENTENCE.get(kind, ""),
            "still_works": _STILL_WORKS.get(kind, ""),
            "scope_text": _scope_text(lifted),
            "effective_at": action.created_at.strftime("%Y-%m-%d %H:%M"),
            "expires_at": action.expires_at.strftime("%Y-%m-%d %H:%M")
            if action.expires_at
            else None,
            "rate_per_min": action.rate_per_min,
            "reason_text": fills.get("reason_text", "Thank you for the changes you made."),
        },
        "policy": policy,
        "metrics": [m.to_json() for m in metrics_from_features(features)],
        "examples": safe_examples(examples),
        "appeal_days": appeal_days,
        "reference": f"enf-{action.id}",
    }
    context.update({k: v for k, v in fills.items() if k not in context})
    return context, account.email if account else None, kind


def draft_notice(
    enf: Enforcement,
    renderer: NoticeRenderer,
    *,
    action_id: int,
    fills: Mapping[str, str] | None = None,
    examples: Sequence[Mapping[str, Any]] = (),
    appeal_days: int = 21,
) -> NoticeDraft:
    """Render the notice of an action (the preview): nothing is stored or sent."""
    with enf.store.sessions() as session:
        return draft_in_session(
            session,
            enf,
            renderer,
            action_id=action_id,
            fills=fills or {},
            examples=examples,
            appeal_days=appeal_days,
        )


def draft_in_session(
    session: Session,
    enf: Enforcement,
    renderer: NoticeRenderer,
    *,
    action_id: int,
    fills: Mapping[str, str],
    examples: Sequence[Mapping[str, Any]],
    appeal_days: int,
) -> NoticeDraft:
    action = session.get(Action, action_id)
    if action is None:
        raise NotFoundError(f"no action {action_id}")
    context, email, kind = _context(
        session, enf, action, fills=fills, examples=examples, appeal_days=appeal_days
    )
    policy_id = context["policy"].id
    rendered = renderer.render(policy_id, kind, context)
    return NoticeDraft(
        action_id, policy_id, kind, action.account_id, action.case_id, email, rendered
    )


def do_send_notice(
    enf: Enforcement,
    renderer: NoticeRenderer,
    *,
    action_id: int,
    actor: str,
    channel: str = "email",
    recipient: str | None = None,
    fills: Mapping[str, str] | None = None,
    examples: Sequence[Mapping[str, Any]] = (),
    appeal_days: int = 21,
) -> dict[str, Any]:
    with enf.store.transaction() as session:
        return queue_notice(
            session,
            enf,
            renderer,
            action_id=action_id,
            actor=actor,
            channel=channel,
            recipient=recipient,
            fills=fills,
            examples=examples,
            appeal_days=appeal_days,
        )


def queue_notice(
    session: Session,
    enf: Enforcement,
    renderer: NoticeRenderer,
    *,
    action_id: int,
    actor: str,
    channel: str = "email",
    recipient: str | None = None,
    fills: Mapping[str, str] | None = None,
    examples: Sequence[Mapping[str, Any]] = (),
    appeal_days: int = 21,
) -> dict[str, Any]:
    """do_send_notice inside a given session (an overturned appeal sends one with its reversal)."""
    if channel not in CHANNELS:
        raise InputError(f"channel must be one of {', '.join(CHANNELS)}")
    draft = draft_in_session(
        session,
        enf,
        renderer,
        action_id=action_id,
        fills=fills or {},
        examples=examples,
        appeal_days=appeal_days,
    )
    if draft.rendered.missing:
        raise ConflictError(
            "fill these placeholders before sending: " + ", ".join(draft.rendered.missing),
            details={"missing": draft.rendered.missing},
        )
    to = recipient or draft.email
    if not to:
        raise InputError(f"account {draft.account_id} has no email; give a recipient")
    return record_notice(
        session,
        enf,
        account_id=draft.account_id,
        case_id=draft.case_id,
        action_id=action_id,
        rendered=draft.rendered,
        tags=[f"policy_{draft.policy}", f"action_{draft.kind}"],
        external_id=f"enf-{action_id}",
        channel=channel,
        recipient=to,
        actor=actor,
    )


def record_notice(
    session: Session,
    enf: Enforcement,
    *,
    account_id: str,
    case_id: int | None,
    action_id: int | None,
    rendered: Rendered,
    tags: Sequence[str],
    external_id: str,
    channel: str,
    recipient: str,
    actor: str,
) -> dict[str, Any]:
    """Store a rendered notice and queue its delivery, with its timeline entry and audit row,
    in the caller's transaction. Notices that follow no action (probation/) come in here."""
    if channel not in CHANNELS:
        raise InputError(f"channel must be one of {', '.join(CHANNELS)}")
    if rendered.missing:
        raise ConflictError(
            "fill these placeholders before sending: " + ", ".join(rendered.missing),
            details={"missing": rendered.missing},
        )
    now = enf.clock.now()
    notice = Notice(
        account_id=account_id,
        case_id=case_id,
        action_id=action_id,
        channel=channel,
        template=rendered.template,
        recipient=recipient,
        subject=rendered.subject,
        body=rendered.text,
        html=rendered.html,
        status="queued",
        created_at=now,
        created_by=actor,
    )
    session.add(notice)
    session.flush()
    delivery_id = f"notice-{notice.id}"
    queue_delivery(
        session,
        delivery_id=delivery_id,
        channel=channel,
        destination=recipient,
        payload={
            "delivery_id": delivery_id,
            "notice_id": notice.id,
            "to": recipient,
            "subject": notice.subject,
            "text": notice.body,
            "html": notice.html,
            "external_id": f"{external_id}-notice-{notice.id}",
            "tags": ["ts_enforcement", *tags],
        },
        now=now,
        notice_id=notice.id,
        action_id=action_id,
    )
    body = {
        "notice_id": notice.id,
        "action_id": action_id,
        "channel": channel,
        "subject": notice.subject,
        "template": notice.template,
    }
    if case_id is not None:
        add_timeline(session, case_id, kind="notice.queued", actor=actor, body=body, now=now)
    write_audit(
        session,
        enf.clock,
        actor=actor,
        action="notice.send",
        object_type="notice",
        object_id=str(notice.id),
        after={**body, "recipient": recipient},
    )
    return {**body, "id": notice.id, "recipient": recipient, "status": "queued"}
