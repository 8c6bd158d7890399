"""Bulk statements write timestamps as the ORM writes them: on SQLite the text the model's
DateTime column stores, so values written by ingest read back equal, and compare as text in
the order of time (registry upserts take MIN/MAX of that text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, select

from abusedesk.storage.bulk import insert_count, insert_keys_count, insert_returning, ts_param
from abusedesk.storage.models import Account
from abusedesk.workspace import Workspace

TIMES = [
    datetime(2026, 3, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.mark.parametrize("when", TIMES)
def test_bulk_timestamps_read_back_equal(workspace: Workspace, when: datetime) -> None:
    with workspace.store.engine.begin() as conn:
        ts = ts_param(conn)
        insert_returning(
            conn,
            "accounts",
            ("account_id", "first_seen", "last_seen", "event_count", "status"),
            [("AC1", ts(when), ts(when), 1, "active")],
            conflict="ON CONFLICT (account_id) DO NOTHING",
        )
    with workspace.store.sessions() as session:
        account = session.execute(select(Account)).scalar_one()
    assert account.first_seen == when
    assert account.first_seen.tzinfo is UTC


def test_sqlite_text_sorts_in_time_order(workspace: Workspace) -> None:
    with workspace.store.engine.connect() as conn:
        ts = ts_param(conn)
        if conn.dialect.name != "sqlite":
            assert ts(TIMES[0]) is TIMES[0]  # PostgreSQL takes the aware value itself
            return
        texts = [ts(t) for t in TIMES]
    assert sorted(texts) == [ts(t) for t in sorted(TIMES)]


KEYS = ["evt_1", 'quote"d', "back\\slash", "tab\there", "é ü 中 😀", "\x01ctl", "x" * 256, "evt_2"]


def test_insert_keys_count_is_insert_count(workspace: Workspace) -> None:
    # The idempotency index's fast path (one JSON array on SQLite) inserts the same rows and
    # counts them as the plain multi-row insert does: new keys, known keys, both, none.
    def table(conn: Connection) -> list[tuple[str, int]]:
        rows = conn.exec_driver_sql("SELECT event_id, ingest_run_id FROM event_ids").all()
        return sorted((r[0], r[1]) for r in rows)

    conflict = "ON CONFLICT (event_id) DO NOTHING"
    columns = ("event_id", "ingest_run_id")
    batches = [KEYS[:5], KEYS[3:], ["evt_3", "evt_1"], []]
    results = []
    for fast in (False, True):
        with workspace.store.engine.begin() as conn:
            counts = []
            for run, keys in enumerate(batches, 1):
                if fast:
                    counts.append(
                        insert_keys_count(
                            conn, "event_ids", "event_id", keys, ("ingest_run_id", run)
                        )
                    )
                else:
                    rows = [(k, run) for k in keys]
                    counts.append(insert_count(conn, "event_ids", columns, rows, conflict=conflict))
            results.append((counts, table(conn)))
            conn.exec_driver_sql("DELETE FROM event_ids")
    assert results[0] == results[1]
    assert results[0][0] == [5, 3, 1, 0]
