"""Bulk actions: the dry run lists who and what each ladder proposes, approval by a second
person above the size, per-account results, a rerun doubles nothing, rollback reverses all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from abusedesk.clock import FixedClock
from abusedesk.enforcement.bulk import (
    bulk_results,
    cluster_of,
    do_approve_bulk,
    do_plan_bulk,
    do_rollback_bulk,
    do_run_bulk,
)
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import Enforcement, do_take_action
from abusedesk.enforcement.state import account_status
from abusedesk.errors import ConflictError, ForbiddenError, InputError
from abusedesk.storage.models import Account, AccountEntity, Action, Entity, OutboxItem
from abusedesk.workspace import Workspace

from .helpers import T0


def plan(enf: Enforcement, accounts: list[str], **kw: object) -> tuple:  # type: ignore[type-arg]
    args: dict[str, object] = {
        "accounts": accounts,
        "selector": {"accounts": accounts},
        "policy": "email-complaint-rate",
        "reason": "list bought from a broker",
        "actor": "ana",
        "approval_size": 3,
    }
    args.update(kw)
    return do_plan_bulk(enf, **args)  # type: ignore[arg-type]


def test_dry_run_lists_each_ladder_and_enforces_nothing(
    workspace: Workspace, enf: Enforcement, clock: FixedClock
) -> None:
    do_take_action(
        enf,
        ActionRequest(account_id="B", actor="ana", reason="r", policy="email-complaint-rate"),
    )
    clock.advance(timedelta(days=1))
    job, items = plan(enf, ["A", "B", "C", "A"])
    assert job.size == 3
    assert job.needs_approval is False
    assert [(i["account_id"], i["will_take"], i["strikes"]) for i in items] == [
        ("A", "warn", 0),
        ("B", "pause", 1),
        ("C", "warn", 0),
    ]
    with workspace.store.sessions() as s:
        assert s.execute(select(func.count()).select_from(Action)).scalar_one() == 1


def test_approval_run_rerun_and_rollback(
    workspace: Workspace, enf: Enforcement, clock: FixedClock
) -> None:
    accounts = [f"AC{i}" for i in range(7)]
    job, _ = plan(enf, accounts, policy="phishing")
    assert job.needs_approval
    with pytest.raises(ForbiddenError, match="second person"):
        do_run_bulk(enf, job_id=job.id, actor="ana", approval_size=3)
    with pytest.raises(ForbiddenError, match="planned by ana"):
        do_approve_bulk(enf, job_id=job.id, actor="ana", approval_size=3)
    do_approve_bulk(enf, job_id=job.id, actor="lead", approval_size=3)
    seen: list[tuple[int, int]] = []
    done = do_run_bulk(
        enf,
        job_id=job.id,
        actor="ana",
        approval_size=3,
        chunk=3,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert (done.status, done.done, done.failed) == ("done", 7, 0)
    assert seen == [(3, 7), (6, 7), (7, 7)]
    results = bulk_results(enf, job.id)
    assert {r["status"] for r in results} == {"done"}
    assert all(account_status(workspace.store, clock, a)["state"] == "suspended" for a in accounts)
    with workspace.store.sessions() as s:
        assert s.execute(select(func.count()).select_from(OutboxItem)).scalar_one() == 7
    with pytest.raises(ConflictError, match="is done"):
        do_run_bulk(enf, job_id=job.id, actor="ana", approval_size=3)

    rolled = do_rollback_bulk(
        enf, job_id=job.id, actor="lead", reason="wrong list", approval_size=3
    )
    assert rolled.status == "rolled_back"
    assert all(account_status(workspace.store, clock, a)["state"] == "active" for a in accounts)
    with workspace.store.sessions() as s:
        reversals = s.execute(
            select(func.count()).select_from(Action).where(Action.kind == "reversal")
        ).scalar_one()
    assert reversals == 7


def test_per_account_failures_do_not_stop_the_job(workspace: Workspace, enf: Enforcement) -> None:
    job, _ = plan(enf, ["A", "B"])
    # B is terminated between the plan and the run: only reinstate applies to it now.
    do_take_action(enf, ActionRequest(account_id="B", actor="lead", reason="r", kind="terminate"))
    view = do_run_bulk(enf, job_id=job.id, actor="ana", approval_size=3)
    assert (view.done, view.failed) == (1, 1)
    failed = [r for r in bulk_results(enf, job.id) if r["status"] == "failed"]
    assert failed[0]["account_id"] == "B"
    assert "terminated" in failed[0]["error"]
    with pytest.raises(InputError, match="longer than 128"):
        plan(enf, ["x" * 200])


def test_one_kind_for_all_needs_an_override_reason(enf: Enforcement) -> None:
    with pytest.raises(InputError, match="override reason"):
        plan(enf, ["A"], kind="suspend")
    _job, items = plan(enf, ["A"], kind="suspend", override_reason="spam-trap flood")
    assert items[0]["will_take"] == "suspend"
    assert items[0]["action"] == "warn"


def test_cluster_is_accounts_sharing_a_device_or_card(workspace: Workspace) -> None:
    with workspace.store.transaction() as s:
        for account in "ABCD":
            s.add(Account(account_id=account, first_seen=T0, last_seen=T0))
        for i, (kind, value) in enumerate(
            [("device", "d1"), ("payment", "p1"), ("ip", "10.0.0.1")], start=1
        ):
            s.add(Entity(id=i, kind=kind, value=value, first_seen=T0, last_seen=T0))
        s.flush()
        for account, entity in [("A", 1), ("B", 1), ("A", 2), ("C", 2), ("D", 3), ("A", 3)]:
            s.add(AccountEntity(account_id=account, entity_id=entity, first_seen=T0, last_seen=T0))
    with workspace.store.sessions() as s:
        assert cluster_of(s, "A") == ["A", "B", "C"]  # D shares only an IP


def test_notices_dry_run_says_when_an_action_already_applies(
    workspace: Workspace, enf: Enforcement
) -> None:
    """The demo's dry run: a second P1 case of an account the first would suspend takes nothing
    new (the suspension applies), and the notice goes with the action that is taken."""
    from abusedesk.notices.dry_run import dry_run

    requests = [
        ActionRequest(account_id="A", actor="demo", reason="case 1", policy="phishing"),
        ActionRequest(account_id="A", actor="demo", reason="case 2", policy="compromised-account"),
    ]
    first, second = dry_run(enf, workspace.notice_renderer(), requests)
    assert first.created
    assert first.action is not None
    assert first.notice is not None
    assert not second.created
    assert second.action is not None
    assert second.action["id"] == first.action["id"]
    assert second.notice is None
    with workspace.store.sessions() as s:
        assert s.execute(select(func.count()).select_from(Action)).scalar_one() == 0
