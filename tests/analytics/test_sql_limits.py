"""`abusedesk sql` under hostile queries: a memory cap, a time limit that holds while the query
is checked and parsed, and one readable line for every bad query (never a traceback)."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from abusedesk.analytics.sql import run_query
from abusedesk.cli.main import app
from abusedesk.errors import DeadlineError, QueryError
from abusedesk.workspace import Workspace

runner = CliRunner()

# Each is refused with a one-line error naming the problem (a fragment of it is given).
BAD_QUERIES = [
    ("SELEC 1", "cannot parse the query"),
    ("SELECT 'unclosed", "cannot read the query"),
    ("SELECT 1 /* unclosed comment", "cannot read the query"),
    ("SELECT $$x", "cannot read the query"),
    ("", "give exactly one statement (got 0)"),
    ("  ;  ", "give exactly one statement (got 0)"),
    ("SELECT 1; SELECT 2", "give exactly one statement (got 2)"),
    ("DELETE FROM messages", "only SELECT queries"),
    ("SELECT * FROM nope", "Catalog Error"),
    ("SELECT nope FROM messages", "Binder Error"),
    ("SELECT sum(body) FROM messages", "Binder Error"),
    ("SELECT 1 // 0", "Division by zero"),
    ("SELECT 9223372036854775807 + 1", "Overflow"),
    ("SELECT 'a'::INT", "Conversion Error"),
    ("SELECT repeat('x', 10000000000)", "Out of Range Error"),
    ("SELECT range(1, 1000000000000)", "Invalid Input Error"),
    ("SELECT " + "1 + " * 5000 + "1", "Max expression depth"),
    ("SELECT " + "(" * 3000 + "1" + ")" * 3000, "nests too deeply"),
    ("SELECT " + "[" * 3000 + "1" + "]" * 3000, "nests too deeply"),
    ("SELECT INTERVAL 100000000 YEAR", "cannot hand a result value to Python"),
    ("SELECT error('boom')", "boom"),
    ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
    ("SELECT * FROM read_parquet('/etc/hostname')", "Permission Error"),
    ("SELECT * FROM '/etc/passwd'", "does not exist"),
    ("SELECT * FROM glob('/*')", "Permission Error"),
    ("SELECT * FROM read_text('~/.bashrc')", "Permission Error"),
    ("SELECT getenv('HOME')", "Catalog Error"),
    ("SET memory_limit = '100GB'", "only SELECT queries"),
    ("SELECT * FROM sqlite_scan('x.db', 't')", "external extensions is disabled"),
    ("INSTALL httpfs", "only SELECT queries"),
]


@pytest.mark.parametrize(("query", "message"), BAD_QUERIES, ids=lambda q: str(q)[:40])
def test_a_bad_query_is_a_query_error(workspace: Workspace, query: str, message: str) -> None:
    with workspace.lake_reader(locked=True) as reader, pytest.raises(QueryError) as caught:
        run_query(reader, query, timeout_s=20)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(("query", "message"), BAD_QUERIES[::3], ids=lambda q: str(q)[:40])
def test_the_cli_answers_a_bad_query_with_one_line(query: str, message: str) -> None:
    result = runner.invoke(app, ["sql", query])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no exception escaped
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]


def test_memory_is_capped(workspace: Workspace) -> None:
    small = Workspace(workspace.settings.model_copy(update={"sql_memory_limit_mb": 64}))
    try:
        with small.lake_reader(locked=True) as reader:
            setting = run_query(reader, "SELECT current_setting('memory_limit')", timeout_s=20)
            assert setting.rows == [("61.0 MiB",)]  # 64 MB as DuckDB writes it
            with pytest.raises(QueryError) as caught:
                run_query(reader, "SELECT list(range) FROM range(500000000)", timeout_s=60)
    finally:
        small.close()
    assert "Out of Memory Error" in caught.value.message
    assert "ABUSEDESK_SQL_MEMORY_LIMIT_MB" in caught.value.message


def test_the_memory_cap_cannot_be_raised_by_a_query(workspace: Workspace) -> None:
    with workspace.lake_reader(locked=True) as reader:
        with pytest.raises(QueryError):
            run_query(reader, "SET memory_limit = '100GB'", timeout_s=20)
        with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
            reader.con.execute("SET memory_limit = '100GB'")


def test_the_time_limit_covers_the_check(workspace: Workspace) -> None:
    # sqlglot takes seconds over an IN list of 100,000 numbers and cannot be interrupted; the
    # caller still hears of the deadline (this query would otherwise answer, with no rows).
    in_list = "SELECT 1 WHERE 1 IN (" + ",".join(map(str, range(100_000))) + ")"
    with workspace.lake_reader(locked=True) as reader, pytest.raises(DeadlineError):
        run_query(reader, in_list, timeout_s=0.2)


def test_the_time_limit_covers_duckdbs_parser(workspace: Workspace) -> None:
    # DuckDB parses a 50 MB literal for seconds without checking for interrupts; the query runs
    # on its own cursor, so the deadline is reported and the reader still closes cleanly.
    literal = "SELECT length('" + "x" * 50_000_000 + "')"
    with workspace.lake_reader(locked=True) as reader, pytest.raises(DeadlineError):
        run_query(reader, literal, timeout_s=0.2)


def test_a_slow_query_is_interrupted_and_the_reader_stays_usable(workspace: Workspace) -> None:
    with workspace.lake_reader(locked=True) as reader:
        with pytest.raises(DeadlineError):
            run_query(reader, "SELECT count(*) FROM range(1000000000000)", timeout_s=0.2)
        assert run_query(reader, "SELECT 42", timeout_s=20).rows == [(42,)]
