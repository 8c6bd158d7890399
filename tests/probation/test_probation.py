"""Rehabilitation end to end: an overturned appeal puts the account on probation with its
policy's goals; the sweep measures the lake and graduates it (goals met, time up) or escalates
it back to its case (a goal breached); the customer's notice reaches a real SMTP server either
way; timeline and audit say what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from abusedesk.clock import FixedClock
from abusedesk.enforcement.delivery import Outbox
from abusedesk.enforcement.services import Enforcement
from abusedesk.errors import ConflictError, InputError
from abusedesk.notices.channels.smtp import SmtpChannel
from abusedesk.probation.services import do_start_probation, list_probations
from abusedesk.storage.models import AuditEntry, Case, CaseEvent, Notice, Probation
from abusedesk.workspace import Workspace

from .conftest import (
    POLICY,
    T0,
    Inbox,
    add_account_and_case,
    email_traffic,
    ingest,
    overturned,
)


def _deliver(ws: Workspace, clock: FixedClock, port: int) -> int:
    box = Outbox(ws.store, clock, {"email": SmtpChannel("127.0.0.1", port, "ts@desk.example")})
    try:
        return box.drain().delivered
    finally:
        box.close()


def _timeline(ws: Workspace, case_id: int) -> list[str]:
    with ws.store.sessions() as s:
        return list(
            s.execute(
                select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            ).scalars()
        )


def _audit(ws: Workspace, object_type: str) -> list[str]:
    with ws.store.sessions() as s:
        return list(
            s.execute(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == object_type)
                .order_by(AuditEntry.id)
            ).scalars()
        )


def test_meeting_the_goals_graduates_and_the_customer_is_told(
    workspace: Workspace, enf: Enforcement, clock: FixedClock, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    decided = overturned(workspace, enf)
    assert decided.probation_id is not None
    with workspace.store.sessions() as s:
        probation = s.get(Probation, decided.probation_id)
        assert probation is not None
        assert probation.goals == [
            {"metric": "complaint_rate", "below": 0.001},
            {"metric": "bounce_rate", "below": 0.02},
        ]
        assert probation.ends_at == T0 + timedelta(days=14)
        case_id = probation.case_id
        reinstatement = s.get(Notice, decided.notice_id)
        assert reinstatement is not None
        # The reinstatement tells the customer what is measured and until when.
        assert "on probation: we measure its spam complaint rate (below 0.1 %)" in " ".join(
            reinstatement.body.split()
        )

    # Two clean weeks: 1,000 sends, 10 hard bounces (1 %), no complaints.
    clock.set(T0 + timedelta(days=14, hours=1))
    ingest(workspace, email_traffic("AC123", T0 + timedelta(days=2), sends=1000, bounces=10))
    # An earlier sweep, mid-way, keeps it running; the time being up graduates it.
    clock.set(T0 + timedelta(days=7))
    assert [r.outcome for r in workspace.run_probations()] == ["continuing"]
    clock.set(T0 + timedelta(days=14, hours=1))
    [result] = workspace.run_probations()
    assert result.outcome == "graduated"
    assert {m.metric: m.rate for m in result.judgement.measurements} == {
        "complaint_rate": 0.0,
        "bounce_rate": 0.01,
    }
    # A second sweep finds nothing left to do: the customer is told once.
    assert workspace.run_probations() == []

    assert _deliver(workspace, clock, port) == 2  # the reinstatement, then the graduation
    # Delivered concurrently: find it by its subject.
    [graduation] = [m for m in inbox.messages if str(m["Subject"]).startswith("Probation ended")]
    assert graduation["To"] == "admin@customer.example"
    assert graduation["Subject"] == "Probation ended: account AC123 is in good standing"
    text = graduation.get_body(preferencelist=("plain",))
    assert text is not None
    body = " ".join(str(text.get_content()).split())
    assert "hard-bounce rate below 2 %: 1 % (10 of 1,000 emails sent)" in body
    assert "spam complaint rate below 0.1 %: 0 % (0 of 1,000 messages sent)" in body
    with workspace.store.sessions() as s:
        ended = s.get(Probation, decided.probation_id)
        assert ended is not None
        assert (ended.status, ended.ended_at) == ("graduated", clock.now())
        assert ended.result is not None
        assert ended.result["outcome"] == "graduate"
        notice = s.get(Notice, ended.notice_id)
        assert notice is not None
        assert notice.status == "sent"
        case = s.get(Case, case_id)
        assert case is not None
        assert case.escalations == 0
    timeline = _timeline(workspace, case_id)
    assert timeline[timeline.index("action.reversed") :] == [
        "action.reversed",
        "probation.started",
        "notice.queued",  # the reinstatement
        "appeal.decided",
        "notice.queued",  # the graduation
        "probation.graduated",
    ]
    assert _audit(workspace, "probation") == ["probation.start", "probation.graduate"]


def test_a_breach_escalates_back_to_the_case_with_a_notice(
    workspace: Workspace, enf: Enforcement, clock: FixedClock, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    decided = overturned(workspace, enf)
    # Day 3: 500 sends and 3 complaints (0.6 %): the goal is 0.1 %.
    clock.set(T0 + timedelta(days=3))
    ingest(
        workspace,
        email_traffic("AC123", T0 + timedelta(days=2), sends=500, bounces=2, complaints=3),
    )
    [result] = workspace.run_probations()
    assert result.outcome == "escalated"
    assert [m.metric for m in result.judgement.breached] == ["complaint_rate"]
    with workspace.store.sessions() as s:
        probation = s.get(Probation, decided.probation_id)
        assert probation is not None
        assert probation.status == "escalated"
        case = s.get(Case, probation.case_id)
        assert case is not None
        # The case had been actioned; it is worked again.
        assert (case.status, case.escalations) == ("triage", 1)
        assert result.case_id == case.id
        escalated = s.execute(
            select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "probation.escalated"
            )
        ).scalar_one()
        assert escalated.actor == "system:probation"
        assert "complaint_rate" in escalated.body["reason"]
    assert _audit(workspace, "probation") == ["probation.start", "probation.escalate"]
    assert "case.probation.escalated" in _audit(workspace, "case")

    assert _deliver(workspace, clock, port) == 2
    [message] = [m for m in inbox.messages if "probation goals" in str(m["Subject"])]
    assert message["Subject"] == "Action required: account AC123 missed its probation goals"
    parts = {
        p.get_content_type(): str(p.get_content()) for p in message.walk() if not p.is_multipart()
    }
    text = " ".join(parts["text/plain"].split())
    assert "spam complaint rate below 0.1 %: 0.6 % (3 of 500 messages sent) (missed)" in text
    assert "What to fix:" in text
    assert "<strong>(missed)</strong>" in parts["text/html"]


def test_a_closed_case_is_reopened_by_an_escalation(
    workspace: Workspace, enf: Enforcement, clock: FixedClock
) -> None:
    decided = overturned(workspace, enf)
    with workspace.store.transaction() as s:
        p = s.get(Probation, decided.probation_id)
        assert p is not None
        case = s.get(Case, p.case_id)
        assert case is not None
        case.status, case.resolution, case.closed_at = "closed", "no_violation", T0
    clock.set(T0 + timedelta(days=5))
    ingest(workspace, email_traffic("AC123", T0 + timedelta(days=4), sends=200, bounces=20))
    [result] = workspace.run_probations()
    assert result.outcome == "escalated"
    with workspace.store.sessions() as s:
        case = s.get(Case, result.case_id)
        assert case is not None
        assert (case.status, case.resolution, case.closed_at) == ("triage", None, None)
        assert case.resolution_due_at is not None
        assert case.resolution_due_at > clock.now()


def test_too_little_traffic_is_not_judged_and_graduates_when_time_is_up(
    workspace: Workspace, enf: Enforcement, clock: FixedClock
) -> None:
    overturned(workspace, enf)
    # 50 sends with 5 complaints: 10 %, but under the policy's minimum volume of 100.
    clock.set(T0 + timedelta(days=2))
    ingest(workspace, email_traffic("AC123", T0 + timedelta(days=1), sends=50, complaints=5))
    [running] = workspace.run_probations()
    assert running.outcome == "continuing"
    assert not any(m.judged for m in running.judgement.measurements)
    clock.set(T0 + timedelta(days=15))
    [ended] = workspace.run_probations()
    assert ended.outcome == "graduated"


def test_traffic_outside_the_window_and_of_other_accounts_does_not_count(
    workspace: Workspace, enf: Enforcement, clock: FixedClock
) -> None:
    overturned(workspace, enf)
    clock.set(T0 + timedelta(days=3))
    # Before the probation: the breach that got the account paused. And a neighbour's.
    ingest(
        workspace,
        email_traffic("AC123", T0 - timedelta(days=1), sends=200, complaints=50, tag="old")
        + email_traffic("AC999", T0 + timedelta(days=1), sends=200, complaints=50, tag="nb")
        + email_traffic("AC123", T0 + timedelta(days=1), sends=300, tag="new"),
    )
    [result] = workspace.run_probations()
    assert result.outcome == "continuing"
    assert {m.metric: (m.count, m.base) for m in result.judgement.measurements} == {
        "complaint_rate": (0, 300),
        "bounce_rate": (0, 300),
    }


def test_an_analyst_starts_one_and_bad_requests_are_refused(
    workspace: Workspace, enf: Enforcement
) -> None:
    case_id = add_account_and_case(workspace, "AC7", email_="ops@seven.example")
    started = do_start_probation(
        enf, account_id="AC7", policy="sms-error-rate", case_id=case_id, actor="ana",
        reason="agreed with the customer", days=30,
    )  # fmt: skip
    assert started["ends_at"] == "2026-12-31T12:00:00Z"
    assert started["goals"] == [{"metric": "sms_error_rate", "below": 0.1}]
    with pytest.raises(ConflictError, match="is on probation"):
        do_start_probation(
            enf, account_id="AC7", policy="sms-error-rate", case_id=case_id, actor="ana",
            reason="again",
        )  # fmt: skip
    with pytest.raises(InputError, match="names no probation goals"):
        do_start_probation(
            enf, account_id="AC7", policy="phishing", case_id=case_id, actor="ana", reason="r"
        )
    no_email = add_account_and_case(workspace, "AC8", email_=None)
    with pytest.raises(InputError, match="has no email"):
        do_start_probation(
            enf, account_id="AC8", policy=POLICY, case_id=no_email, actor="ana", reason="r"
        )
    assert [p["account_id"] for p in list_probations(enf, status="active")] == ["AC7"]


def test_the_decider_may_leave_probation_out(workspace: Workspace, enf: Enforcement) -> None:
    from abusedesk.appeals.services import do_decide_appeal, do_open_appeal
    from abusedesk.enforcement.kinds import ActionRequest
    from abusedesk.enforcement.services import do_take_action

    case_id = add_account_and_case(workspace, "AC9", email_="a@nine.example")
    taken = do_take_action(
        enf,
        ActionRequest(account_id="AC9", actor="ana", reason="r", policy=POLICY, case_id=case_id),
    )
    appeal = do_open_appeal(
        enf, action_id=int(taken.action["id"]), message="m", channel="api", actor="c"
    )
    decided = do_decide_appeal(
        enf, workspace.notice_renderer(), appeal_id=appeal.id, decision="overturn",
        actor="lead", reason="wrong account", probation=False,
    )  # fmt: skip
    assert decided.probation_id is None
    assert list_probations(enf) == []
