"""The lake through DuckDB: views per type, the union view, limits on user SQL."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from abusedesk.analytics.sql import check_read_only, run_query
from abusedesk.errors import DeadlineError, QueryError
from abusedesk.lake.compaction import compact
from abusedesk.lake.reader import VIEW_NAMES
from abusedesk.workspace import Workspace


def test_empty_lake_has_every_view(workspace: Workspace) -> None:
    with workspace.lake_reader() as reader:
        for view in [*VIEW_NAMES.values(), "events"]:
            assert reader.con.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,)


def test_events_view_unions_types_with_their_fields(workspace: Workspace, tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "type": "message",
            "ts": "2026-03-01T10:00:00Z",
            "account_id": "AC1",
            "message_id": "SM1",
            "channel": "email",
            "from": "a@x.example",
            "to": "b@y.example",
            "headers": {"Subject": "hi"},
            "x_custom": 1,
        },
        {
            "id": "b",
            "type": "delivery",
            "ts": "2026-03-02T10:00:00Z",
            "account_id": "AC1",
            "message_id": "SM1",
            "status": "bounced",
            "bounce_type": "permanent",
        },
    ]
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    workspace.ingestor().ingest_paths([path])
    with workspace.lake_reader() as reader:
        got = reader.con.execute(
            "SELECT id, type, day::VARCHAR, channel, status, json_extract_string(attrs, '$.x_custom'),"
            " json_extract_string(headers, '$.Subject') FROM events ORDER BY id"
        ).fetchall()
    assert got == [
        ("a", "message", "2026-03-01", "email", None, "1", "hi"),
        ("b", "delivery", "2026-03-02", None, "bounced", None, None),
    ]


def test_compaction_keeps_every_row(workspace: Workspace, tmp_path: Path) -> None:
    for batch in range(3):
        path = tmp_path / f"b{batch}.jsonl"
        path.write_bytes(
            orjson.dumps(
                {
                    "id": f"o{batch}",
                    "type": "opt_out",
                    "ts": "2026-03-01T10:00:00Z",
                    "account_id": "AC1",
                    "recipient": "+15550001111",
                }
            )
            + b"\n"
        )
        workspace.ingestor().ingest_paths([path])
    folder = workspace.lake_dir / "events" / "type=opt_out" / "day=2026-03-01"
    assert len(list(folder.glob("part-*.parquet"))) == 3
    assert compact(workspace.lake_dir, min_files=2) == 3
    assert len(list(folder.glob("part-*.parquet"))) == 1
    with workspace.lake_reader() as reader:
        assert reader.con.execute("SELECT count(*) FROM opt_outs").fetchone() == (3,)


def test_a_slow_query_is_stopped(workspace: Workspace) -> None:
    with workspace.lake_reader(locked=True) as reader, pytest.raises(DeadlineError):
        run_query(
            reader, "SELECT count(*) FROM range(1000000000000) a, range(1000) b", timeout_s=0.2
        )


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "COPY messages TO '/tmp/x.csv'",
        "ATTACH 'x.db'",
        "CREATE TABLE t AS SELECT 1",
        "PRAGMA version",
        "SET threads = 1",
    ],
)
def test_only_select_is_accepted(sql: str) -> None:
    with pytest.raises(QueryError):
        check_read_only(sql)
