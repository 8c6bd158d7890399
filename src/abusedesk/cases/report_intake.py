"""Reports intake: abuse reports arriving with ingest are recorded for the work step.

Each `report` event becomes a row of `reports` (once per report id); a report that names a
number, address or domain but no account is given the account that uses it, when exactly one
does (from the registry of accounts and entities). Both run inside the ingest batch's
transaction, after the registry is written, so a report can name an entity first seen in the
same batch.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, text

from abusedesk.events.schema import Event
from abusedesk.storage.bulk import clean_text, insert_returning, ts_param


def resolve_report_targets(conn: Connection, events: list[Event]) -> None:
    """A report that names a number, address or domain but no account gets the account that
    uses it, when exactly one does; with several, the candidates are kept in attrs. Only
    reports change (ingest writes the other events to the lake before this runs)."""
    wanted = {
        _norm_target(e.data["target"])
        for e in events
        if e.type == "report" and e.account_id is None and e.data.get("target")
    }
    if not wanted:
        return
    owners: dict[str, set[str]] = {}
    values = sorted(wanted)
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        rows = conn.execute(
            text(
                "SELECT e.value, ae.account_id FROM entities e "
                "JOIN account_entities ae ON ae.entity_id = e.id WHERE e.value IN :values"
            ).bindparams(bindparam("values", expanding=True)),
            {"values": chunk},
        ).all()
        for value, account in rows:
            owners.setdefault(value, set()).add(account)
    for event in events:
        if event.type != "report" or event.account_id is not None or not event.data.get("target"):
            continue
        found = owners.get(_norm_target(event.data["target"]), set())
        attrs = dict(event.attrs or {})
        if len(found) == 1:
            event.account_id = next(iter(found))
            attrs["account_resolved_from"] = "target"
        elif found:
            attrs["candidate_accounts"] = sorted(found)[:20]
        event.attrs = attrs or None


def _norm_target(target: str) -> str:
    value = (clean_text(target) or "").strip()
    if "@" in value or ("." in value and not value.startswith("+")):
        value = value.lower()
        value = value.split("//", 1)[-1].split("/", 1)[0] if "//" in value else value
    return value


def record_reports(conn: Connection, events: list[Event], now: Any) -> None:
    ts = ts_param(conn)
    rows = [
        (
            clean_text(e.data["report_id"]),
            e.id,
            e.data["reporter"],
            e.data["category"],
            clean_text(e.data.get("target")),
            e.account_id,
            clean_text(e.data.get("description")),
            orjson.dumps([clean_text(x) for x in e.data.get("evidence") or []]).decode(),
            ts(e.ts),
        )
        for e in events
        if e.type == "report"
    ]
    insert_returning(
        conn,
        "reports",
        (
            "report_id",
            "event_id",
            "reporter",
            "category",
            "target",
            "account_id",
            "description",
            "evidence",
            "received_at",
        ),
        rows,
        conflict="ON CONFLICT (report_id) DO NOTHING",
    )
