"""One open case per account and policy, held by the database (ux_cases_one_open, migration
0009) and by the open-or-attach path, with real concurrent connections on both backends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from abusedesk.cases.lifecycle import do_open_case
from abusedesk.cases.services import SignalDraft, do_record_signals
from abusedesk.cases.states import OPEN_STATES
from abusedesk.settings import Settings
from abusedesk.storage.db import Store
from abusedesk.storage.models import OPEN_CASE_WHERE, AuditEntry, Case, Signal
from abusedesk.workspace import Workspace

from .conftest import Call, rule

WRITERS = 4


def _race(settings: Settings, work: Callable[[Store, int], Any]) -> list[Any]:
    """Run `work` in WRITERS threads at once, each with its own Store (engine, pool,
    connections), released by one barrier; their results in thread order."""
    stores = [Store(settings.resolved_database_url) for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)
    results: list[Any] = [None] * WRITERS
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(stores[i], i)
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for store in stores:
        store.close()
    assert errors == []
    return results


def _open_cases(ws: Workspace, account_id: str) -> list[int]:
    with ws.store.sessions() as session:
        return list(
            session.execute(
                select(Case.id).where(Case.account_id == account_id, Case.status.in_(OPEN_STATES))
            ).scalars()
        )


def test_the_index_predicate_is_the_open_states() -> None:
    states = ", ".join(f"'{s}'" for s in OPEN_STATES)
    assert f"status IN ({states}) AND source <> 'appeal'" == OPEN_CASE_WHERE


def test_the_database_refuses_a_second_open_case(ws: Workspace, account: Any) -> None:
    account("AC1")
    case_id, opened = do_open_case(
        ws.store, ws.clock, ws.desk, account_id="AC1", policy="spam", actor="ann", reason="r"
    )
    assert opened
    with ws.store.sessions() as session:
        first = session.get(Case, case_id)
        assert first is not None
        values = {c.name: getattr(first, c.name) for c in Case.__table__.columns if c.name != "id"}
    with pytest.raises(IntegrityError), ws.store.transaction() as session:
        session.add(Case(**values))
    # Another policy, or a closed case beside the open one, is fine.
    with ws.store.transaction() as session:
        session.add(Case(**(values | {"policy": "phishing"})))
        session.add(Case(**(values | {"status": "closed", "resolution": "duplicate"})))
        session.add(Case(**(values | {"source": "appeal"})))


def test_people_opening_the_same_case_at_once_get_one_case(
    ws: Workspace, settings: Settings, account: Any
) -> None:
    account("AC1")

    def work(store: Store, i: int) -> tuple[int, bool]:
        return do_open_case(
            store,
            ws.clock,
            ws.desk,
            account_id="AC1",
            policy="spam",
            actor=f"analyst{i}",
            reason="seen in a report",
        )

    results = _race(settings, work)
    assert len({case_id for case_id, _ in results}) == 1
    assert sum(opened for _, opened in results) == 1
    assert _open_cases(ws, "AC1") == [results[0][0]]
    with ws.store.sessions() as session:
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "case.open")
        )
    assert audited == 1


def test_detection_in_several_processes_attaches_to_one_case(
    ws: Workspace, settings: Settings, account: Any
) -> None:
    account("AC2")
    spec = rule()

    def work(store: Store, i: int) -> list[int]:
        draft = SignalDraft(
            rule=spec,
            account_id="AC2",
            event_id=f"ev-{i}",
            event_type="message",
            event_ts=ws.clock.now() - timedelta(minutes=1),
            features={"otp_unverified_1h": 40 + i},
            case_call=Call(spec.case.queue, spec.case.priority) if spec.case else None,
        )
        return do_record_signals(store, ws.clock, [draft], desk=ws.desk).cases_opened

    results = _race(settings, work)
    assert sum(len(opened) for opened in results) == 1
    cases = _open_cases(ws, "AC2")
    assert len(cases) == 1
    with ws.store.sessions() as session:
        on_case = session.scalar(
            select(func.count()).select_from(Signal).where(Signal.case_id == cases[0])
        )
        case = session.get(Case, cases[0])
    assert on_case == WRITERS
    assert case is not None
    assert case.signal_count == WRITERS


def test_writers_attaching_to_the_same_cases_in_opposite_orders_do_not_fail(
    ws: Workspace, settings: Settings, account: Any
) -> None:
    """Two ingests of overlapping files record signals for the same accounts' open cases in
    one transaction each; listed in opposite orders they used to lock the cases in opposite
    orders and PostgreSQL aborted one as a deadlock (bench/faults.py, concurrent pairs)."""
    spec = rule()
    accounts = [f"AC-D{n}" for n in range(6)]
    for account_id in accounts:
        account(account_id)

    def draft(account_id: str, event_id: str) -> SignalDraft:
        return SignalDraft(
            rule=spec,
            account_id=account_id,
            event_id=event_id,
            event_type="message",
            event_ts=ws.clock.now() - timedelta(minutes=1),
            features={"otp_unverified_1h": 40},
            case_call=Call(spec.case.queue, spec.case.priority) if spec.case else None,
        )

    do_record_signals(ws.store, ws.clock, [draft(a, f"open-{a}") for a in accounts], desk=ws.desk)

    def work(store: Store, i: int) -> int:
        order = accounts if i % 2 == 0 else accounts[::-1]
        attached = 0
        for round_ in range(5):
            drafts = [draft(a, f"ev-{i}-{round_}-{a}") for a in order]
            attached += len(do_record_signals(store, ws.clock, drafts, desk=ws.desk).cases_updated)
        return attached

    results = _race(settings, work)
    assert results == [5 * len(accounts)] * WRITERS
    for account_id in accounts:
        (case_id,) = _open_cases(ws, account_id)
        with ws.store.sessions() as session:
            case = session.get(Case, case_id)
        assert case is not None
        assert case.signal_count == 1 + 5 * WRITERS
