"""Actions: the ladder proposal, confirm or override with a reason, idempotency, expiry with a
timeline entry, reversal linked to what it reverses, audit rows, webhooks queued with the action,
and the account's state derived from its active actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from abusedesk.clock import FixedClock
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import (
    Enforcement,
    do_expire_actions,
    do_reverse_action,
    do_take_action,
    proposal,
)
from abusedesk.enforcement.state import account_status
from abusedesk.errors import ConflictError, InputError
from abusedesk.storage.models import Action, AuditEntry, CaseEvent, OutboxItem
from abusedesk.workspace import Workspace

from .helpers import open_case


def req(**kw: object) -> ActionRequest:
    base: dict[str, object] = {"account_id": "AC1", "actor": "ana", "reason": "complaints 0.6 %"}
    base.update(kw)
    return ActionRequest(**base)  # type: ignore[arg-type]


def count(ws: Workspace, model: type, *where: object) -> int:
    with ws.store.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def test_the_ladder_proposes_and_the_analyst_confirms(enf: Enforcement, clock: FixedClock) -> None:
    first = do_take_action(enf, req(policy="email-complaint-rate"))
    assert first.action["kind"] == "warn"
    assert first.action["status"] == "done"
    clock.advance(timedelta(days=1))
    assert proposal(enf, "AC1", "email-complaint-rate").step.action == "pause"
    second = do_take_action(enf, req(policy="email-complaint-rate"))
    assert second.action["kind"] == "pause"
    assert second.action["expires_at"] == "2026-12-05T12:00:00Z"  # 72 h after the action
    assert second.action["details"]["proposal"]["strikes"] == 1


def test_overriding_the_ladder_needs_a_reason(enf: Enforcement) -> None:
    with pytest.raises(InputError, match="proposes warn"):
        do_take_action(enf, req(policy="email-complaint-rate", kind="suspend"))
    result = do_take_action(
        enf, req(policy="email-complaint-rate", kind="suspend", override_reason="spam-trap flood")
    )
    assert result.action["kind"] == "suspend"
    assert result.action["details"]["override_reason"] == "spam-trap flood"


def test_phishing_suspends_at_once(enf: Enforcement) -> None:
    assert do_take_action(enf, req(policy="phishing")).action["kind"] == "suspend"


def test_same_request_twice_is_one_action(workspace: Workspace, enf: Enforcement) -> None:
    a = do_take_action(enf, req(kind="suspend", idempotency_key="k-1"))
    b = do_take_action(enf, req(kind="suspend", idempotency_key="k-1"))
    assert a.created
    assert not b.created
    assert a.action["id"] == b.action["id"]
    # Without a key, an identical lasting action already in force is the same action.
    c = do_take_action(enf, req(kind="pause", scope="campaign", target="black-friday"))
    d = do_take_action(enf, req(kind="pause", scope="campaign", target="black-friday"))
    assert c.created
    assert not d.created
    assert c.action["id"] == d.action["id"]
    assert count(workspace, Action) == 2
    assert count(workspace, OutboxItem) == 2  # one webhook per action, not per request
    with pytest.raises(ConflictError, match="idempotency key"):
        do_take_action(enf, req(kind="warn", idempotency_key="k-1"))


def test_expiry_lifts_temporary_actions_with_a_timeline_entry(
    workspace: Workspace, enf: Enforcement, clock: FixedClock
) -> None:
    case_id = open_case(workspace, "AC1", "consent")
    taken = do_take_action(
        enf, req(kind="pause", duration=timedelta(hours=72), case_id=case_id, policy=None)
    )
    assert account_status(workspace.store, clock, "AC1")["state"] == "paused"
    clock.advance(timedelta(hours=71))
    assert do_expire_actions(enf) == []
    clock.advance(timedelta(hours=1))
    assert do_expire_actions(enf) == [taken.action["id"]]
    assert do_expire_actions(enf) == []  # a second sweep finds nothing
    assert account_status(workspace.store, clock, "AC1")["state"] == "active"
    with workspace.store.sessions() as s:
        kinds = list(
            s.execute(
                select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            ).scalars()
        )
        row = s.get(Action, taken.action["id"])
        assert row is not None
        assert row.status == "expired"
        assert row.reversed_by == "system:expiry"
    assert kinds == ["action.taken", "action.expired"]
    assert count(workspace, OutboxItem, OutboxItem.delivery_id.like("action.expired-%")) == 1


def test_reversal_links_to_what_it_reverses(workspace: Workspace, enf: Enforcement) -> None:
    taken = do_take_action(enf, req(kind="suspend"))
    reversal = do_reverse_action(enf, action_id=taken.action["id"], actor="lead", reason="FP")
    assert reversal.action["kind"] == "reversal"
    assert reversal.action["reverses_id"] == taken.action["id"]
    again = do_reverse_action(enf, action_id=taken.action["id"], actor="lead", reason="FP")
    assert not again.created
    assert again.action["id"] == reversal.action["id"]
    with workspace.store.sessions() as s:
        original = s.get(Action, taken.action["id"])
        assert original is not None
        assert (original.status, original.reversed_by_id) == ("reversed", reversal.action["id"])
    audit = count(workspace, AuditEntry, AuditEntry.action.in_(["action.taken", "action.reversed"]))
    assert audit == 2


def test_reversed_strikes_do_not_count(enf: Enforcement) -> None:
    warn = do_take_action(enf, req(policy="email-complaint-rate"))
    do_reverse_action(enf, action_id=warn.action["id"], actor="lead", reason="overturned")
    assert proposal(enf, "AC1", "email-complaint-rate").step.action == "warn"


def test_state_is_the_strongest_active_action(
    workspace: Workspace, enf: Enforcement, clock: FixedClock
) -> None:
    do_take_action(enf, req(kind="throttle", rate_per_min=30))
    assert account_status(workspace.store, clock, "AC1")["state"] == "throttled"
    do_take_action(enf, req(kind="suspend"))
    assert account_status(workspace.store, clock, "AC1")["state"] == "suspended"
    reinstate = do_take_action(enf, req(kind="reinstate", reason="appeal upheld"))
    assert len(reinstate.action["details"]["lifted"]) == 2
    assert account_status(workspace.store, clock, "AC1")["state"] == "active"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "throttle"}, "positive rate"),
        ({"kind": "pause", "scope": "campaign"}, "needs a target"),
        ({"kind": "suspend", "scope": "sender", "target": "+1555"}, "scope account"),
        ({"kind": "block", "scope": "account"}, "scope number"),
        ({"kind": "warn", "duration": timedelta(hours=1)}, "one-shot"),
        ({"kind": "zap"}, "unknown action kind"),
        ({"kind": "warn", "reason": " "}, "reason is required"),
        ({"kind": "pause", "scope": "country", "target": "NGA"}, "alpha-2"),
    ],
)
def test_bad_requests_are_refused(enf: Enforcement, kw: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        do_take_action(enf, req(**kw))


def test_a_case_of_another_account_is_refused(workspace: Workspace, enf: Enforcement) -> None:
    case_id = open_case(workspace, "AC2", "consent")
    with pytest.raises(Exception, match="about account AC2"):
        do_take_action(enf, req(kind="warn", case_id=case_id))
    assert count(workspace, Action) == 0


def test_a_terminated_account_only_takes_reinstate(enf: Enforcement) -> None:
    do_take_action(enf, req(kind="terminate"))
    with pytest.raises(ConflictError, match="terminated"):
        do_take_action(enf, req(kind="warn"))
    assert do_take_action(enf, req(kind="reinstate")).created
    assert do_take_action(enf, req(kind="warn")).created
