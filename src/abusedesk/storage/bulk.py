"""Bulk statements for the ingest hot path, written once for SQLite and PostgreSQL.

The ORM costs tens of microseconds a row; ingest has ten. These helpers send multi-row
statements through the driver (`exec_driver_sql`), with the placeholder style of each dialect.
Only validated identifiers are ever put into SQL text; values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

# SQLite allows 32,766 host parameters per statement; PostgreSQL 65,535.
_MAX_PARAMS = 30_000


def _placeholder(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def _chunks(rows: Sequence[tuple[Any, ...]], width: int) -> list[Sequence[tuple[Any, ...]]]:
    size = max(1, _MAX_PARAMS // max(1, width))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def insert_returning(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    conflict: str,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT many rows with an ON CONFLICT clause; returns the RETURNING rows, if asked."""
    if not rows:
        return []
    mark = _placeholder(conn)
    one = "(" + ",".join([mark] * len(columns)) + ")"
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(rows, len(columns)):
        sql = (
            f"INSERT INTO {table} ({','.join(columns)}) VALUES "
            + ",".join([one] * len(chunk))
            + f" {conflict}"
        )
        if returning:
            sql += f" RETURNING {','.join(returning)}"
        params = tuple(value for row in chunk for value in row)
        result = conn.exec_driver_sql(sql, params)
        if returning:
            out.extend(tuple(r) for r in result.fetchall())
    return out


def lesser(conn: Connection) -> str:
    return "LEAST" if conn.dialect.name == "postgresql" else "MIN"


def greater(conn: Connection) -> str:
    return "GREATEST" if conn.dialect.name == "postgresql" else "MAX"
