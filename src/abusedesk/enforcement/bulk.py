"""Bulk actions: plan (a dry run listing exactly who is affected and what each account's
ladder proposes), approve (a second person, above ABUSEDESK_BULK_APPROVAL_SIZE accounts), run
(in chunks, each one transaction, with a per-account result and progress), roll back.

Each account's action goes through `services.take` with the idempotency key
"bulk-<job>-<account>", so running a job again after a crash finishes it without doubling
anything, and each action queues its own webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import (
    ActionResult,
    Enforcement,
    plan_action,
    record_taken,
    reverse,
    strikes_of,
    terminated_among,
)
from abusedesk.errors import (
    AbusedeskError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
)
from abusedesk.policies.catalogue import parse_duration
from abusedesk.policies.ladder import propose
from abusedesk.storage.audit import write_audit
from abusedesk.storage.models import AccountEntity, Action, BulkItem, BulkJob, Entity

# Entities that link accounts into a cluster: a device or a card, as detection/links.py uses.
# IPs are left out: carrier NAT and cloud egress put strangers on one address.
CLUSTER_KINDS = ("device", "payment")
MAX_ACCOUNTS = 100_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobView:
    id: int
    status: str
    policy: str
    kind: str | None
    size: int
    done: int
    failed: int
    planned_by: str
    approved_by: str | None
    needs_approval: bool
    selector: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _view(job: BulkJob, threshold: int) -> JobView:
    return JobView(
        job.id,
        job.status,
        job.policy,
        job.kind,
        job.size,
        job.done,
        job.failed,
        job.planned_by,
        job.approved_by,
        job.size > threshold,
        job.selector,
    )


def cluster_of(session: Session, account_id: str) -> list[str]:
    """The account and every account sharing a device or a card with it (one hop)."""
    shared = (
        select(AccountEntity.entity_id)
        .join(Entity, Entity.id == AccountEntity.entity_id)
        .where(AccountEntity.account_id == account_id, Entity.kind.in_(CLUSTER_KINDS))
    )
    linked = session.execute(
        select(AccountEntity.account_id).where(AccountEntity.entity_id.in_(shared)).distinct()
    ).scalars()
    return sorted({account_id, *linked})


def do_plan_bulk(
    enf: Enforcement,
    *,
    accounts: Sequence[str],
    selector: dict[str, Any],
    policy: str,
    reason: str,
    actor: str,
    approval_size: int,
    kind: str | None = None,
    duration: str | None = None,
    override_reason: str | None = None,
) -> tuple[JobView, list[dict[str, Any]]]:
    """Store the plan and return it: every account with the ladder's proposal and the action
    the job will take. Nothing is enforced."""
    wanted = sorted({a.strip() for a in accounts if a and a.strip()})
    if not wanted:
        raise InputError("the selection matches no account")
    too_long = [a for a in wanted if len(a) > 128]
    if too_long:
        raise InputError(f"account ids longer than 128 characters: {too_long[0][:40]}…")
    if len(wanted) > MAX_ACCOUNTS:
        raise InputError(f"{len(wanted)} accounts; a bulk job takes at most {MAX_ACCOUNTS}")
    if not reason.strip():
        raise InputError("a reason is required; it is kept in the audit log")
    enf.catalogue.get(policy)
    if duration is not None:
        parse_duration(duration)
    with enf.store.transaction() as session:
        job = BulkJob(
            status="planned",
            selector={**selector, "duration": duration, "override_reason": override_reason},
            policy=policy,
            kind=kind,
            reason=reason.strip(),
            size=len(wanted),
            done=0,
            failed=0,
            planned_by=actor,
            created_at=enf.clock.now(),
        )
        session.add(job)
        session.flush()
        items: list[dict[str, Any]] = []
        ladder = enf.catalogue.get(policy)
        now = enf.clock.now()
        struck: dict[str, list[datetime]] = {}
        for start in range(0, len(wanted), 500):  # strikes of 500 accounts a query
            struck.update(strikes_of(session, wanted[start : start + 500], policy))
        for account in wanted:
            offer = propose(ladder, struck.get(account, []), now)
            take_kind = kind or offer.step.action
            if take_kind != offer.step.action and not (override_reason or "").strip():
                raise InputError(
                    f"account {account}: the ladder proposes {offer.step.describe()}; to take "
                    f"{take_kind} for every account give an override reason"
                )
            items.append(
                {
                    "job_id": job.id,
                    "account_id": account,
                    "proposed": {**offer.to_json(), "will_take": take_kind},
                    "status": "planned",
                }
            )
        session.execute(insert(BulkItem), items)
        write_audit(
            session,
            enf.clock,
            actor=actor,
            action="bulk.plan",
            object_type="bulk_job",
            object_id=str(job.id),
            reason=job.reason,
            after={"size": job.size, "policy": policy, "kind": kind, "selector": selector},
        )
        return _view(job, approval_size), [
            {"account_id": i["account_id"], **i["proposed"]} for i in items
        ]


def do_approve_bulk(enf: Enforcement, *, job_id: int, actor: str, approval_size: int) -> JobView:
    with enf.store.transaction() as session:
        job = _job(session, job_id)
        if job.status != "planned":
            raise ConflictError(
                f"bulk job {job_id} is {job.status}; only planned jobs are approved"
            )
        if actor == job.planned_by:
            raise ForbiddenError(
                f"bulk job {job_id} was planned by {actor}; a second person approves"
            )
        job.status = "approved"
        job.approved_by = actor
        write_audit(
            session,
            enf.clock,
            actor=actor,
            action="bulk.approve",
            object_type="bulk_job",
            object_id=str(job_id),
            after={"status": "approved"},
        )
        return _view(job, approval_size)


def do_run_bulk(
    enf: Enforcement,
    *,
    job_id: int,
    actor: str,
    approval_size: int,
    chunk: int = 500,
    progress: Progress | None = None,
) -> JobView:
    with enf.store.transaction() as session:
        job = _job(session, job_id)
        if job.status == "planned" and job.size > approval_size:
            raise ForbiddenError(
                f"bulk job {job_id} touches {job.size} accounts (over {approval_size}); "
                "a second person must approve it first"
            )
        if job.status not in ("planned", "approved", "running"):
            raise ConflictError(f"bulk job {job_id} is {job.status}")
        job.status = "running"
        selector = dict(job.selector)
        policy, kind, reason = job.policy, job.kind, job.reason
    duration = parse_duration(selector["duration"]) if selector.get("duration") else None
    while True:
        with enf.store.transaction() as session:
            items = list(
                session.execute(
                    select(BulkItem)
                    .where(BulkItem.job_id == job_id, BulkItem.status == "planned")
                    .order_by(BulkItem.id)
                    .limit(chunk)
                ).scalars()
            )
            if not items:
                break
            # Two queries for the chunk instead of two per account: who already has the job's
            # action (a rerun after a crash) and every account's live strikes.
            keys = {f"bulk-{job_id}-{item.account_id}": item for item in items}
            taken = dict(
                session.execute(
                    select(Action.idempotency_key, Action.id).where(
                        Action.idempotency_key.in_(list(keys))
                    )
                ).all()
            )
            chunk_accounts = [item.account_id for item in items]
            struck = strikes_of(session, chunk_accounts, policy)
            ended = terminated_among(session, chunk_accounts)
            # Plan every action of the chunk, insert them in one statement, then record each
            # (audit, timeline, webhook): a chunk is a few statements, not a few per account.
            planned: list[tuple[BulkItem, Action]] = []
            for item in items:
                request = ActionRequest(
                    account_id=item.account_id,
                    actor=actor,
                    reason=reason,
                    kind=kind or item.proposed.get("will_take"),
                    policy=policy,
                    duration=duration,
                    override_reason=selector.get("override_reason"),
                    idempotency_key=f"bulk-{job_id}-{item.account_id}",
                    bulk_job_id=job_id,
                )
                if request.idempotency_key in taken:
                    item.status, item.action_id = "done", taken[request.idempotency_key]
                    continue
                try:
                    # No savepoint: planning checks everything and writes nothing.
                    action = plan_action(
                        session,
                        enf,
                        request,
                        strikes=struck.get(item.account_id, []),
                        key_is_new=True,
                        terminated=item.account_id in ended,
                    )
                except AbusedeskError as exc:
                    item.status, item.error = "failed", exc.message
                    continue
                if isinstance(action, ActionResult):  # cannot happen with a new key; kept exact
                    item.status, item.action_id = "done", action.action["id"]
                else:
                    planned.append((item, action))
            session.add_all([action for _, action in planned])
            session.flush()
            for item, action in planned:
                record_taken(session, enf, action, actor=actor)
                item.status, item.action_id = "done", action.id
            counts = _counts(session, job_id)
            session.execute(
                update(BulkJob)
                .where(BulkJob.id == job_id)
                .values(done=counts.get("done", 0), failed=counts.get("failed", 0))
            )
        if progress is not None:
            progress(counts.get("done", 0) + counts.get("failed", 0), sum(counts.values()))
    with enf.store.transaction() as session:
        job = _job(session, job_id)
        job.status = "done"
        job.finished_at = enf.clock.now()
        write_audit(
            session,
            enf.clock,
            actor=actor,
            action="bulk.run",
            object_type="bulk_job",
            object_id=str(job_id),
            reason=job.reason,
            after={"done": job.done, "failed": job.failed},
        )
        return _view(job, approval_size)


def do_rollback_bulk(
    enf: Enforcement,
    *,
    job_id: int,
    actor: str,
    reason: str,
    approval_size: int,
    chunk: int = 500,
) -> JobView:
    """Reverse every action the job took that is still in force (or a strike)."""
    with enf.store.transaction() as session:
        job = _job(session, job_id)
        if job.status not in ("done", "running"):
            raise ConflictError(f"bulk job {job_id} is {job.status}; only run jobs roll back")
    last = 0
    while True:
        with enf.store.transaction() as session:
            ids = list(
                session.execute(
                    select(Action.id)
                    .where(
                        Action.bulk_job_id == job_id,
                        Action.status.in_(("active", "done")),
                        Action.kind != "reversal",
                        Action.id > last,
                    )
                    .order_by(Action.id)
                    .limit(chunk)
                ).scalars()
            )
            if not ids:
                break
            for action_id in ids:
                reverse(session, enf, action_id=action_id, actor=actor, reason=reason)
            last = ids[-1]
    with enf.store.transaction() as session:
        job = _job(session, job_id)
        job.status = "rolled_back"
        write_audit(
            session,
            enf.clock,
            actor=actor,
            action="bulk.rollback",
            object_type="bulk_job",
            object_id=str(job_id),
            reason=reason,
            after={"status": "rolled_back"},
        )
        return _view(job, approval_size)


def bulk_results(enf: Enforcement, job_id: int) -> list[dict[str, Any]]:
    with enf.store.sessions() as session:
        _job(session, job_id)
        rows = session.execute(
            select(BulkItem).where(BulkItem.job_id == job_id).order_by(BulkItem.id)
        ).scalars()
        return [
            {
                "account_id": r.account_id,
                "status": r.status,
                "action_id": r.action_id,
                "error": r.error,
                "will_take": r.proposed.get("will_take"),
                "proposed": r.proposed.get("describe"),
            }
            for r in rows
        ]


def get_job(enf: Enforcement, job_id: int, approval_size: int) -> JobView:
    with enf.store.sessions() as session:
        return _view(_job(session, job_id), approval_size)


def _job(session: Session, job_id: int) -> BulkJob:
    job = session.get(BulkJob, job_id)
    if job is None:
        raise NotFoundError(f"no bulk job {job_id}")
    return job


def _counts(session: Session, job_id: int) -> dict[str, int]:
    rows = session.execute(
        select(BulkItem.status, func.count())
        .where(BulkItem.job_id == job_id)
        .group_by(BulkItem.status)
    ).all()
    return {str(status): int(n) for status, n in rows}
