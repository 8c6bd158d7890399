"""Ad-hoc SQL over the lake (`abusedesk sql`): one read-only SELECT, with a time limit.

The statement is checked with sqlglot before it runs (exactly one SELECT); the reader it runs on
is opened locked (lake.reader), so DuckDB itself refuses file access outside the lake, and with
a memory limit (ABUSEDESK_SQL_MEMORY_LIMIT_MB).

The time limit covers the whole query, the sqlglot check included: a worker thread checks and
runs it while the caller waits at most `timeout_s`, then interrupts the DuckDB connection. The
check is pure Python and cannot be interrupted; a check still busy at the deadline is left to
its daemon thread (it holds no lock and writes nothing) and the caller hears of the deadline
on time. Every failure of a user's query is a QueryError or a DeadlineError with one line of
text, never a traceback.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final

import duckdb
import sqlglot
from sqlglot import exp

from abusedesk.errors import DeadlineError, QueryError
from abusedesk.lake.reader import LakeReader

# After an interrupt DuckDB stops at its next check, usually within milliseconds; this is how
# long the caller waits for that before reporting the deadline anyway.
_INTERRUPT_GRACE_S: Final = 0.5


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def run_query(
    reader: LakeReader, sql: str, *, timeout_s: float | None = None, max_rows: int | None = None
) -> QueryResult:
    """Run one read-only SELECT (user SQL), stopping it at `timeout_s`."""
    run = _Run(reader, sql, max_rows)
    worker = threading.Thread(target=run.work, name="abusedesk-sql", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive() and (connection := run.cancel()) is not None:
        # DuckDB has the query: interrupt it. DuckDB checks for interrupts as it executes, not
        # while it parses (a 50 MB literal parses for seconds), so wait only a moment; the query
        # runs on its own cursor, and the caller can close the reader even if it is still busy.
        connection.interrupt()
        worker.join(_INTERRUPT_GRACE_S)
    if worker.is_alive() or isinstance(run.outcome, duckdb.InterruptException):
        raise DeadlineError(f"query stopped after {timeout_s:g} s (ABUSEDESK_SQL_TIMEOUT_S)")
    if isinstance(run.outcome, BaseException):
        raise run.outcome
    assert run.outcome is not None
    return run.outcome


class _Run:
    """One query in its worker thread. `cancel` and the start of DuckDB's part are ordered by a
    lock, so a query cancelled while it is still being checked never reaches the connection."""

    def __init__(self, reader: LakeReader, sql: str, max_rows: int | None) -> None:
        self.reader, self.sql, self.max_rows = reader, sql, max_rows
        self.outcome: QueryResult | BaseException | None = None
        self._lock = threading.Lock()
        self._cancelled = False
        self._cursor: duckdb.DuckDBPyConnection | None = None

    def cancel(self) -> duckdb.DuckDBPyConnection | None:
        """Stop the query; the cursor to interrupt if DuckDB runs it already."""
        with self._lock:
            self._cancelled = True
            return self._cursor

    def work(self) -> None:
        try:
            check_read_only(self.sql)
            with self._lock:
                if self._cancelled:
                    return
                # A cursor is a connection of its own to the same database (views, settings
                # and locks shared), so a query left running never holds the reader's.
                self._cursor = cursor = self.reader.con.cursor()
            try:
                self.outcome = _execute(cursor, self.sql, self.max_rows)
            finally:
                cursor.close()
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self.outcome = exc


def _execute(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int | None) -> QueryResult:
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        if max_rows is None:
            rows = cursor.fetchall()
            truncated = False
        else:
            rows = cursor.fetchmany(max_rows + 1)
            truncated = len(rows) > max_rows
            rows = rows[:max_rows]
    except duckdb.InterruptException:
        raise
    except duckdb.OutOfMemoryException as exc:
        raise QueryError(f"{_first_line(str(exc))} (ABUSEDESK_SQL_MEMORY_LIMIT_MB)") from None
    except duckdb.Error as exc:
        raise QueryError(_first_line(str(exc))) from None
    except (ValueError, OverflowError, TypeError) as exc:
        # A value DuckDB computed that Python cannot hold (an interval of 10^8 years, ...).
        raise QueryError(f"cannot hand a result value to Python: {_first_line(str(exc))}") from None
    except MemoryError:
        raise QueryError("the result does not fit in memory; select fewer rows") from None
    return QueryResult(columns, rows, truncated)


def _first_line(text: str) -> str:
    """The error's first line (DuckDB follows it with the query and a caret), and the second
    too when the first only introduces it ("... extension 'x':")."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "query failed"
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]


def check_read_only(sql: str) -> None:
    """Accept exactly one SELECT (or WITH ... SELECT, or a set operation of SELECTs)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        message = _first_line(str(exc))
        raise QueryError(f"cannot parse the query: {message}") from None
    except sqlglot.errors.SqlglotError as exc:  # TokenError: an unclosed quote or comment
        raise QueryError(f"cannot read the query: {_first_line(str(exc))}") from None
    except RecursionError:
        raise QueryError("the query nests too deeply to check") from None
    if len(statements) != 1:
        raise QueryError(f"give exactly one statement (got {len(statements)})")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = type(statement).__name__.upper()
        raise QueryError(f"only SELECT queries are allowed over the lake (got {kind})")
    try:
        for node in statement.walk():
            if isinstance(
                node, exp.Insert | exp.Update | exp.Delete | exp.Create | exp.Drop | exp.Command
            ):
                raise QueryError("only SELECT queries are allowed over the lake")
    except RecursionError:
        raise QueryError("the query nests too deeply to check") from None
