"""Bulk statements for the ingest hot path, written once for SQLite and PostgreSQL.

The ORM costs tens of microseconds a row; ingest has ten. These helpers send multi-row
statements through the driver (`exec_driver_sql`), with the placeholder style of each dialect.
Only validated identifiers are ever put into SQL text; values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import Connection

# Statements of about a thousand parameters: SQLite parses each statement afresh, and parsing
# cost grows faster than linearly with its length (measured: 500-row chunks are 2x faster than
# 15,000-row ones), while the per-statement overhead is already negligible at this size.
_MAX_PARAMS = 1_000


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
    out: list[tuple[Any, ...]] = []
    suffix = f" RETURNING {','.join(returning)}" if returning else ""
    for sql, params in _statements(conn, table, columns, rows, conflict + suffix):
        result = conn.exec_driver_sql(sql, params)
        if returning:
            out.extend(tuple(r) for r in result.fetchall())
    return out


def insert_count(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    conflict: str,
) -> int:
    """INSERT many rows with an ON CONFLICT clause; returns how many rows went in.

    Without RETURNING: on SQLite that is about half the cost a row (measured: 0.94 against
    1.67 µs per event id), for when the count alone tells the caller enough."""
    inserted = 0
    for sql, params in _statements(conn, table, columns, rows, conflict):
        inserted += conn.exec_driver_sql(sql, params).rowcount
    return inserted


def insert_keys_count(
    conn: Connection, table: str, key: str, keys: Sequence[str], constant: tuple[str, Any]
) -> int:
    """`insert_count` of the rows (key, value) for each key, with `constant` = (column, value),
    and ON CONFLICT (key) DO NOTHING: returns how many keys went in.

    The same rows and count as insert_count (tested). On SQLite the keys travel as one JSON
    array that json_each reads in C, one statement a batch: binding two parameters a row from
    Python was most of the cost of the idempotency index (measured on a million event ids:
    0.77 -> 0.65 s for the inserts, and the parameter tuples are not built). Keys JSON cannot
    carry (lone surrogates, which SQLite cannot take either) go the plain path, to its error."""
    column, value = constant
    conflict = f"ON CONFLICT ({key}) DO NOTHING"
    if conn.dialect.name == "sqlite" and keys:
        try:
            array = orjson.dumps(keys)
        except orjson.JSONEncodeError:
            pass
        else:
            # WHERE true: SQLite's parser needs it between a SELECT and an upsert clause.
            sql = (
                f"INSERT INTO {table} ({key}, {column}) SELECT value, ? FROM json_each(?) "
                f"WHERE true {conflict}"
            )
            return int(conn.exec_driver_sql(sql, (value, array)).rowcount)
    rows = [(k, value) for k in keys]
    return insert_count(conn, table, (key, column), rows, conflict=conflict)


def _statements(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    tail: str,
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    if not rows:
        return
    mark = _placeholder(conn)
    one = "(" + ",".join([mark] * len(columns)) + ")"
    head = f"INSERT INTO {table} ({','.join(columns)}) VALUES "
    for chunk in _chunks(rows, len(columns)):
        sql = head + ",".join([one] * len(chunk)) + f" {tail}"
        yield sql, tuple(chain.from_iterable(chunk))


def ts_param(conn: Connection) -> Callable[[datetime], Any]:
    """How a timestamp travels as a raw parameter: aware for PostgreSQL; for SQLite the naive
    UTC text that storage.models.UtcDateTime (SQLAlchemy's SQLite DateTime) reads back.

    The SQLite formatter caches per call of ts_param (one batch): a batch's registry rows
    repeat the same few thousand first/last-seen times, and strftime is slow."""
    if conn.dialect.name == "postgresql":
        return _identity
    cache: dict[datetime, str] = {}

    def sqlite_ts(value: datetime) -> str:
        text = cache.get(value)
        if text is None:
            text = cache[value] = _sqlite_ts(value)
        return text

    return sqlite_ts


def _identity(value: datetime) -> Any:
    return value


def _sqlite_ts(value: datetime) -> str:
    # isoformat with a fixed timespec gives strftime's "%Y-%m-%d %H:%M:%S.%f" at a fifth of
    # the cost (a registry batch formats two times per row it writes); for a UTC time it ends
    # in "+00:00", cut off here, which costs less than a naive copy made with replace().
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]


def clean_text(value: str | None) -> str | None:
    """Text for the relational store: PostgreSQL cannot hold U+0000, and an attacker-written
    value must cost nothing but its own NULs (the lake keeps the value exactly as given)."""
    if value is not None and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def lesser(conn: Connection) -> str:
    return "LEAST" if conn.dialect.name == "postgresql" else "MIN"


def greater(conn: Connection) -> str:
    return "GREATEST" if conn.dialect.name == "postgresql" else "MAX"
