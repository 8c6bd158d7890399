"""An appeal by replying to the notice: the reply's In-Reply-To or References names the notice
(its Message-ID is "<notice-<id>@…>", notices/channels/smtp.py), which names the action."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from sqlalchemy import select

from abusedesk.appeals.services import AppealView, do_open_appeal
from abusedesk.enforcement.services import Enforcement
from abusedesk.errors import InputError, NotFoundError
from abusedesk.storage.models import Notice

_NOTICE_ID = re.compile(r"<notice-(\d+)@")


def do_appeal_by_email(enf: Enforcement, raw: bytes) -> AppealView:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    refs = f"{message.get('In-Reply-To', '')} {message.get('References', '')}"
    match = _NOTICE_ID.search(refs)
    if match is None:
        raise InputError("the email is not a reply to a notice (no <notice-…> reference)")
    notice_id = int(match.group(1))
    with enf.store.sessions() as session:
        action_id = session.execute(
            select(Notice.action_id).where(Notice.id == notice_id)
        ).scalar_one_or_none()
    if action_id is None:
        raise NotFoundError(f"no notice {notice_id} with an action")
    part = message.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part is not None else ""
    # Keep the customer's words, not the quoted notice below them.
    own = "\n".join(line for line in str(text).splitlines() if not line.startswith(">")).strip()
    sender = str(message.get("From", "customer"))
    return do_open_appeal(
        enf,
        action_id=action_id,
        message=own or "(empty reply)",
        channel="email",
        actor=f"email:{sender}"[:128],
    )
