"""Ad-hoc SQL over the lake (`abusedesk sql`): one read-only SELECT, with a time limit.

The statement is checked with sqlglot before it runs (exactly one SELECT); the reader it runs on
is opened locked (lake.reader), so DuckDB itself refuses file access outside the lake.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from abusedesk.errors import DeadlineError, QueryError
from abusedesk.lake.reader import LakeReader


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def run_query(
    reader: LakeReader, sql: str, *, timeout_s: float | None = None, max_rows: int | None = None
) -> QueryResult:
    """Run one read-only SELECT (user SQL), stopping it at `timeout_s`."""
    check_read_only(sql)
    timer: threading.Timer | None = None
    expired = threading.Event()
    if timeout_s is not None:

        def _stop() -> None:
            expired.set()
            reader.con.interrupt()

        timer = threading.Timer(timeout_s, _stop)
        timer.start()
    try:
        cursor = reader.con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        if max_rows is None:
            rows = cursor.fetchall()
            truncated = False
        else:
            rows = cursor.fetchmany(max_rows + 1)
            truncated = len(rows) > max_rows
            rows = rows[:max_rows]
    except duckdb.InterruptException:
        raise DeadlineError(
            f"query stopped after {timeout_s:g} s (ABUSEDESK_SQL_TIMEOUT_S)"
        ) from None
    except duckdb.Error as exc:
        if expired.is_set():
            raise DeadlineError(
                f"query stopped after {timeout_s:g} s (ABUSEDESK_SQL_TIMEOUT_S)"
            ) from None
        raise QueryError(_first_line(str(exc))) from None
    finally:
        if timer is not None:
            timer.cancel()
    return QueryResult(columns, rows, truncated)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "query failed"


def check_read_only(sql: str) -> None:
    """Accept exactly one SELECT (or WITH ... SELECT, or a set operation of SELECTs)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        message = str(exc).splitlines()[0]
        raise QueryError(f"cannot parse the query: {message}") from None
    if len(statements) != 1:
        raise QueryError(f"give exactly one statement (got {len(statements)})")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = type(statement).__name__.upper()
        raise QueryError(f"only SELECT queries are allowed over the lake (got {kind})")
    for node in statement.walk():
        if isinstance(
            node, exp.Insert | exp.Update | exp.Delete | exp.Create | exp.Drop | exp.Command
        ):
            raise QueryError("only SELECT queries are allowed over the lake")
