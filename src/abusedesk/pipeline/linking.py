"""Late linking: a complaint filed as a report (its message unknown when it arrived) becomes the
account's complaint when the message it complains about arrives.

No public feedback report carries a platform's account header, and the message log often comes
after the complaint, so this is the normal path. When ingest files such a complaint as its
fallback report, it keeps the complaint itself in `pending_complaints`, keyed by the Message-ID
it complains about (and that id's local part, where platforms put their own message id). Then:

- ingest: each batch's new messages are looked up there, in the batch's transaction;
- `abusedesk detect`: every waiting complaint is looked up in the lake's messages first.

A linked complaint is a new event: the complaint as it arrived, with its account, its own time
(so it counts in the account's complaint features from when it was made) and the id
"<report id>:linked" (so linking twice takes it in once); `linked_report` names the report. It
goes through the rest of the batch like any event (registry, lake, cases), and the report row
is given the account.

Detection sees it when the stream gets to its time, not at once: a complaint is made hours
after its message, and handing it over with the message would move the watermarks of the
account's complaint features hours ahead (lateness is judged per feature and key), so the
account's complaints that follow would arrive "too late" and be dropped from those windows.
Ingest holds linked complaints (`Held`) until a batch reaches their time, and hands the rest
over at the end of the run; so too an event whose account ingest found from its
message, the account map or the registry (a complaint read ahead of the message log, in the
same run). For the same reason a report that waits for its
message is not given to streaming detection: it names no account to detect on, and the
complaint it becomes is detected once linked (`abusedesk detect` reads the lake in time order
and sees both).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from abusedesk.events.schema import Event, EventInvalid, validate_event
from abusedesk.lake.reader import LakeReader
from abusedesk.storage.db import Store
from abusedesk.storage.models import PendingComplaint, Report

LINKED_SUFFIX = ":linked"
_CHUNK = 500


def clean_message_id(value: object) -> str:
    return str(value).strip().strip("<>").strip() if value else ""


def local_part(message_id: str) -> str:
    return message_id.split("@", 1)[0] if "@" in message_id else message_id


def record_pending(conn: Connection, waiting: Iterable[tuple[dict[str, Any], Event]]) -> None:
    """Keep the complaints of these newly filed reports until their message arrives."""
    rows = []
    for complaint, report in waiting:
        message_id = clean_message_id(complaint.get("message_id"))
        if not message_id:
            continue
        rows.append(
            {
                "report_id": report.id,
                "message_id": message_id[:998],
                "message_local": local_part(message_id)[:998],
                "ts": report.ts,
                "complaint": complaint,
            }
        )
    if rows:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(PendingComplaint).on_conflict_do_nothing(index_elements=["report_id"])
        conn.execute(statement, rows)


def link_messages(conn: Connection, events: Sequence[Event]) -> list[Event]:
    """The complaints waiting for these events' messages, as the accounts' complaints."""
    waiting = conn.execute(
        select(PendingComplaint.report_id).where(PendingComplaint.account_id.is_(None)).limit(1)
    ).first()
    if waiting is None:  # the common case: nothing waits, and a batch costs one query
        return []
    owners: dict[str, str] = {}
    for message in events:
        if message.type != "message":
            continue
        message_id = clean_message_id(message.data.get("message_id"))
        if message_id and message.account_id:
            owners.setdefault(message_id, message.account_id)
    if not owners:
        return []
    ids = sorted(owners)
    rows: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows += conn.execute(
            select(
                PendingComplaint.report_id,
                PendingComplaint.message_id,
                PendingComplaint.message_local,
                PendingComplaint.complaint,
            ).where(
                PendingComplaint.account_id.is_(None),
                PendingComplaint.message_id.in_(chunk) | PendingComplaint.message_local.in_(chunk),
            )
        ).all()
    events = []
    for row in rows:
        account = owners.get(row.message_id) or owners.get(row.message_local)
        event = linked_event(row.report_id, row.complaint, account)
        if event is not None:
            events.append(event)
    return events


def linked_event(report_id: str, complaint: dict[str, Any], account: str | None) -> Event | None:
    if not account:
        return None
    raw = dict(complaint, id=report_id + LINKED_SUFFIX, account_id=account)
    raw["linked_report"] = report_id
    try:
        return validate_event(raw)
    except EventInvalid:  # kept as it was validated on arrival; only the account is new
        return None


def mark_linked(conn: Connection, events: Sequence[Event], now: datetime) -> int:
    """Mark the pending complaints these new events link, and give their reports the account."""
    count = 0
    for event in events:
        if not event.id.endswith(LINKED_SUFFIX):  # checked first: it runs for every event
            continue
        report_id = (event.attrs or {}).get("linked_report")
        if not isinstance(report_id, str):
            continue
        conn.execute(
            update(PendingComplaint)
            .where(PendingComplaint.report_id == report_id)
            .values(account_id=event.account_id, linked_at=now)
        )
        conn.execute(
            update(Report)
            .where(Report.event_id == report_id, Report.account_id.is_(None))
            .values(account_id=event.account_id)
        )
        count += 1
    return count


class Held:
    """Linked complaints waiting for the stream to reach their time before detection sees them."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Event]] = []
        self._n = 0

    def hold(self, events: Iterable[Event]) -> None:
        for event in events:
            self._n += 1
            heapq.heappush(self._heap, (event.ts, self._n, event))

    def release(self, until: datetime) -> list[Event]:
        """The held complaints made at or before `until`, oldest first."""
        out = []
        while self._heap and self._heap[0][0] <= until:
            out.append(heapq.heappop(self._heap)[2])
        return out

    def drain(self) -> list[Event]:
        out = [item[2] for item in sorted(self._heap, key=lambda item: (item[0], item[1]))]
        self._heap = []
        return out

    def __len__(self) -> int:
        return len(self._heap)


def link_from_lake(store: Store, reader: LakeReader) -> list[dict[str, Any]]:
    """Every waiting complaint whose message the lake now holds, as canonical objects to
    ingest (`abusedesk detect` runs this before detecting)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                PendingComplaint.report_id,
                PendingComplaint.message_id,
                PendingComplaint.message_local,
                PendingComplaint.complaint,
            ).where(PendingComplaint.account_id.is_(None))
        ).all()
    if not rows:
        return []
    bare = {r.message_id for r in rows} | {r.message_local for r in rows}
    # Message logs write a Message-ID with or without its angle brackets.
    found = reader.accounts_for_message_ids(bare | {f"<{m}>" for m in bare})
    owners = {clean_message_id(m): account for m, account in found.items()}
    out = []
    for row in rows:
        account = owners.get(row.message_id) or owners.get(row.message_local)
        event = linked_event(row.report_id, row.complaint, account)
        if event is not None:
            out.append(event.to_json_dict())
    return out
