"""Events back out of the lake, in (ts, id) order, for `abusedesk detect` and backtests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from abusedesk.events import jsontext
from abusedesk.events.schema import FIELDS, Event
from abusedesk.lake.reader import LakeReader

_OBJ = {f.name for fields in FIELDS.values() for f in fields if f.kind == "obj"}


def lake_events(
    reader: LakeReader,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    where: str | None = None,
    batch_rows: int = 20_000,
) -> Iterator[Event]:
    """Every event in the lake within [since, until) (and matching the SQL condition `where`,
    from trusted code only), oldest first, ties broken by id."""
    conditions: list[str] = [] if where is None else [f"({where})"]
    params: list[datetime] = []
    if since is not None:
        conditions.append("ts >= ?")
        params.append(since)
    if until is not None:
        conditions.append("ts < ?")
        params.append(until)
    sql = "SELECT * FROM events"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    sql += " ORDER BY ts, id"
    result = reader.con.execute(sql, params)
    columns = [d[0] for d in result.description or []]
    while True:
        rows = result.fetchmany(batch_rows)
        if not rows:
            return
        for row in rows:
            yield row_event(dict(zip(columns, row, strict=True)))


def row_event(values: dict[str, Any]) -> Event:
    etype = values["type"]
    data: dict[str, Any] = {}
    for field in FIELDS[etype]:
        value = values.get(field.name)
        if value is None:
            continue
        if field.name in _OBJ and isinstance(value, str):
            value = jsontext.loads(value)
        data[field.name] = value
    attrs = values.get("attrs")
    return Event(
        values["id"],
        etype,
        values["ts"],
        values.get("account_id"),
        data,
        jsontext.loads(attrs) if attrs else None,
    )
