"""Abuse reports in: resolved to accounts and put on the account's case, or held as unmatched.

A report names an account, or something an account uses (a number, an address, a URL or
domain, a message id). Through the entity registry it resolves to the one account that uses
it; the report then lands on that account's open case for the report's policy, or opens one
(routed like any case, source `report`). A report that resolves to no account, or to several,
waits in the unmatched queue (`status = unmatched`) until an analyst attaches it to a case or
an account. Reports come in as `report` events (files, ARF complaints that name no known
sender, POST /v1/events) or through POST /v1/reports; ingest stores them and `ReportIntake`
routes each batch after it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from abusedesk.cases.desk import Desk
from abusedesk.cases.evidence import freeze_report
from abusedesk.cases.lifecycle import (
    CaseFacts,
    case_for,
    load_case,
    require_open,
    retry_open_conflict,
)
from abusedesk.cases.timeline import add_event, record_change
from abusedesk.clock import Clock
from abusedesk.errors import ConflictError, InputError, NotFoundError
from abusedesk.storage.db import Store
from abusedesk.storage.models import AccountEntity, Case, Entity, Report

# A report's policy follows its category, as the shipped playbook's report rules do, so the
# report and the detection signal on the same event meet on one case.
POLICY_OF: Final = {"phishing": "phishing", "fraud": "phishing"}
PRIORITY_OF: Final = {"phishing": "P1", "fraud": "P1", "illegal_content": "P1"}
MessageOwner = Callable[[str], str | None]


@dataclass
class RouteResult:
    matched: dict[str, int] = field(default_factory=dict)  # report id -> case id
    unmatched: list[str] = field(default_factory=list)
    cases_opened: list[int] = field(default_factory=list)


def target_values(target: str) -> list[str]:
    """The registry values a report target may be stored under."""
    value = target.strip()
    if not value:
        return []
    if value.startswith("+") or value.replace(" ", "").isdigit():
        return [value.replace(" ", "")]
    value = value.lower()
    if "@" in value and "//" not in value:
        return [value, value.rsplit("@", 1)[1]]
    host = value.split("//", 1)[-1].split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    return list(dict.fromkeys([host, host.removeprefix("www.")]))


def accounts_for(session: Session, values: Sequence[str]) -> set[str]:
    if not values:
        return set()
    return set(
        session.execute(
            select(AccountEntity.account_id)
            .join(Entity, Entity.id == AccountEntity.entity_id)
            .where(Entity.value.in_(list(values)))
        ).scalars()
    )


def resolve(session: Session, report: Report, message_owner: MessageOwner | None) -> set[str]:
    if report.account_id:
        return {report.account_id}
    target = report.target or ""
    owners = accounts_for(session, target_values(target))
    if not owners and message_owner is not None and _looks_like_message_id(target):
        owner = message_owner(target)
        owners = {owner} if owner else set()
    return owners


def _looks_like_message_id(target: str) -> bool:
    """A provider message id (SM…, <…@…>): worth a lake lookup, which numbers and
    addresses, found in the registry or nowhere, are not."""
    value = target.strip()
    if not value or " " in value:
        return False
    if value.startswith("<") and value.endswith(">"):
        return True
    return not value.startswith("+") and "@" not in value and "." not in value


@retry_open_conflict
def do_route_reports(
    store: Store,
    clock: Clock,
    desk: Desk,
    *,
    report_ids: Sequence[str] | None = None,
    contacts: dict[str, str] | None = None,
    message_owner: MessageOwner | None = None,
    actor: str = "intake",
) -> RouteResult:
    """Route new reports (all, or those named) to cases; the rest become unmatched."""
    result = RouteResult()
    with store.transaction() as session:
        query = select(Report).where(Report.status == "new").order_by(Report.id)
        if report_ids is not None:
            if not report_ids:
                return result
            query = query.where(Report.report_id.in_(list(report_ids)))
        now = clock.now()
        for report in session.execute(query).scalars().all():
            if contacts and report.report_id in contacts:
                report.reporter_contact = contacts[report.report_id][:320]
            report.routed_at = now
            owners = resolve(session, report, message_owner)
            if len(owners) != 1:
                report.status = "unmatched"
                result.unmatched.append(report.report_id)
                continue
            case, opened = _land(session, clock, desk, report, account_id=owners.pop(), actor=actor)
            result.matched[report.report_id] = case.id
            if opened:
                result.cases_opened.append(case.id)
    return result


def _land(
    session: Session, clock: Clock, desk: Desk, report: Report, *, account_id: str, actor: str
) -> tuple[Case, bool]:
    policy = POLICY_OF.get(report.category, "abuse-report")
    facts = CaseFacts(
        account_id=account_id,
        policy=policy,
        severity="high" if policy == "phishing" else "medium",
        priority=PRIORITY_OF.get(report.category, "P3"),
        source="report",
        title=f"{policy}: {report.reporter} reported {report.category}",
        first_seen=report.received_at,
        last_seen=report.received_at,
        extra={"report_id": report.report_id},
    )
    case, opened = case_for(
        session, clock, desk, facts, actor=actor, reason=f"{report.reporter} report"
    )
    now = clock.now()
    report.account_id, report.case_id, report.status = account_id, case.id, "matched"
    freeze_report(session, case.id, report, actor, now)
    case.last_signal_at = max(case.last_signal_at, report.received_at)
    case.updated_at = now
    add_event(
        session,
        case.id,
        "report",
        actor,
        {"report_id": report.report_id, "reporter": report.reporter, "category": report.category},
        now=now,
    )
    return case, opened


@retry_open_conflict
def do_attach_report(
    store: Store,
    clock: Clock,
    desk: Desk,
    *,
    report_id: str,
    actor: str,
    reason: str,
    case_id: int | None = None,
    account_id: str | None = None,
) -> int:
    """Attach an unmatched report to a case, or to an account (its open case or a new one)."""
    if (case_id is None) == (account_id is None):
        raise InputError("attach the report to a case or to an account (one of them)")
    if not reason.strip():
        raise InputError("give a reason: it is kept in the audit log")
    with store.transaction() as session:
        report = session.execute(
            select(Report).where(Report.report_id == report_id).with_for_update()
        ).scalar_one_or_none()
        if report is None:
            raise NotFoundError(f"no report {report_id!r}")
        if report.status == "matched":
            raise ConflictError(f"report {report_id!r} is on case {report.case_id} already")
        report.routed_at = clock.now()
        if case_id is not None:
            case = load_case(session, case_id, for_update=True)
            require_open(case)
            report.account_id, report.case_id, report.status = case.account_id, case.id, "matched"
            freeze_report(session, case.id, report, actor, clock.now())
        else:
            assert account_id is not None
            case, _ = _land(session, clock, desk, report, account_id=account_id, actor=actor)
        record_change(
            session,
            clock,
            case,
            kind="report_attached",
            actor=actor,
            reason=reason,
            before={"report_status": "unmatched"},
            after={"report_id": report_id, "account_id": case.account_id},
        )
        return case.id


def report_json(report: Report, *, show_reporter: bool = True) -> dict[str, Any]:
    """A report for the desk; `show_reporter=False` for anything the customer may see."""
    out: dict[str, Any] = {
        "report_id": report.report_id,
        "event_id": report.event_id,
        "reporter": report.reporter,
        "category": report.category,
        "target": report.target,
        "account_id": report.account_id,
        "description": report.description,
        "evidence": list(report.evidence or []),
        "received_at": report.received_at.isoformat(),
        "case_id": report.case_id,
        "status": report.status,
        "reporter_hidden": report.reporter_hidden,
    }
    if show_reporter or not report.reporter_hidden:
        out["reporter_contact"] = report.reporter_contact
    return out


def list_reports(
    store: Store, *, status: str | None = None, after_id: int | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], int | None]:
    """Reports by arrival, `limit` at a time; (page, id to continue after or None)."""
    query = select(Report).order_by(Report.id).limit(limit + 1)
    if status is not None:
        query = query.where(Report.status == status)
    if after_id is not None:
        query = query.where(Report.id > after_id)
    with store.sessions() as session:
        rows = list(session.execute(query).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return [report_json(r) for r in rows], (rows[-1].id if more else None)
