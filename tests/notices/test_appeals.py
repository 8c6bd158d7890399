"""Appeals end to end: a reply to the notice opens an appeal case with its own SLA, someone
other than the actor decides, overturning reverses the action and queues the reinstatement
notice; upholding keeps the action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from abusedesk.appeals.email_reply import do_appeal_by_email
from abusedesk.appeals.services import do_decide_appeal, do_open_appeal
from abusedesk.clock import FixedClock
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import Enforcement, do_take_action
from abusedesk.enforcement.state import account_status
from abusedesk.errors import ConflictError, ForbiddenError, InputError
from abusedesk.notices.render import NoticeRenderer
from abusedesk.notices.services import do_send_notice
from abusedesk.storage.models import Case, CaseEvent, Notice
from abusedesk.workspace import Workspace

REPLY = b"""From: Admin <admin@customer.example>
To: trust-safety@desk.example
Subject: Re: Action required: sending paused on account AC123
In-Reply-To: <notice-NID@desk.example>
References: <notice-NID@desk.example>
Content-Type: text/plain; charset=utf-8

We removed the purchased list on Monday and now use confirmed opt-in.

> Hello Customer Ltd,
> We have paused sending from your account.
"""


def test_reply_overturned_reverses_and_sends_reinstatement(
    workspace: Workspace, enf: Enforcement, clock: FixedClock, paused: int
) -> None:
    renderer = NoticeRenderer()
    notice = do_send_notice(
        enf, renderer, action_id=paused, actor="ana", fills={"threshold": "0.1 %"}
    )
    clock.advance(timedelta(hours=2))
    appeal = do_appeal_by_email(enf, REPLY.replace(b"NID", str(notice["id"]).encode()))
    assert appeal.channel == "email"
    assert appeal.action_id == paused
    with workspace.store.sessions() as s:
        case = s.get(Case, appeal.case_id)
        assert case is not None
        assert case.queue == "appeals"
        assert case.resolution_due_at == clock.now() + timedelta(hours=48)
        timeline = list(
            s.execute(select(CaseEvent).where(CaseEvent.case_id == appeal.case_id)).scalars()
        )
        assert timeline[0].body["message"].startswith("We removed the purchased list")
        assert "> Hello" not in timeline[0].body["message"]
    # A second reply while the appeal is open is the same appeal.
    again = do_appeal_by_email(enf, REPLY.replace(b"NID", str(notice["id"]).encode()))
    assert again.id == appeal.id

    with pytest.raises(ForbiddenError, match="someone else"):
        do_decide_appeal(
            enf, renderer, appeal_id=appeal.id, decision="overturn", actor="ana", reason="ok"
        )
    decided = do_decide_appeal(
        enf,
        renderer,
        appeal_id=appeal.id,
        decision="overturn",
        actor="lead",
        reason="Confirmed opt-in is in place.",
    )
    assert decided.status == "overturned"
    assert decided.reversal_id is not None
    assert account_status(workspace.store, clock, "AC123")["state"] == "active"
    with workspace.store.sessions() as s:
        reinstatement = s.get(Notice, decided.notice_id)
        assert reinstatement is not None
        assert reinstatement.subject == "Account AC123 reinstated"
        assert "Confirmed opt-in is in place." in reinstatement.body
        case = s.get(Case, appeal.case_id)
        assert case is not None
        assert (case.status, case.resolution) == ("closed", "no_violation")
    with pytest.raises(ConflictError, match="already decided"):
        do_decide_appeal(
            enf, renderer, appeal_id=appeal.id, decision="uphold", actor="lead", reason="x"
        )


def test_upheld_keeps_the_action(workspace: Workspace, enf: Enforcement, clock: FixedClock) -> None:
    taken = do_take_action(
        enf, ActionRequest(account_id="AC5", actor="ana", reason="r", kind="suspend")
    )
    appeal = do_open_appeal(
        enf, action_id=taken.action["id"], message="not us", channel="api", actor="token:x"
    )
    decided = do_decide_appeal(
        enf,
        NoticeRenderer(),
        appeal_id=appeal.id,
        decision="uphold",
        actor="lead",
        reason="the kit was on their domain",
    )
    assert decided.status == "upheld"
    assert decided.notice_id is None
    assert account_status(workspace.store, clock, "AC5")["state"] == "suspended"


def test_a_reply_to_something_else_is_refused(enf: Enforcement) -> None:
    with pytest.raises(InputError, match="not a reply to a notice"):
        do_appeal_by_email(enf, b"From: a@b.example\nSubject: hi\n\nhello\n")
