"""Every record is judged alone: a hostile line costs only itself, on SQLite and PostgreSQL.

The relational limits (account ids, report ids and targets, profile fields) are declared once in
the event contract (`Field.max_len`) and checked at validation, so both backends take and refuse
exactly the same events; event times outside the window around the ingest clock are quarantined.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from abusedesk.clock import FixedClock
from abusedesk.events import reading
from abusedesk.settings import Settings
from abusedesk.storage.models import Account, Entity, QuarantineItem, Report
from abusedesk.workspace import Workspace

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def line(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


def message(i: int, **extra: object) -> bytes:
    fields: dict[str, object] = {
        "id": f"m{i}",
        "type": "message",
        "ts": "2026-03-01T10:00:00Z",
        "account_id": "AC1",
        "message_id": f"SM{i}",
        "channel": "sms",
        "from": "+15005550006",
        "to": "+37122345678",
        "body": "Your code is 1234",
    }
    fields.update(extra)
    return line(**fields)


def account(i: int, **extra: object) -> bytes:
    fields: dict[str, object] = {
        "id": f"a{i}",
        "type": "account",
        "ts": "2026-03-01T09:00:00Z",
        "account_id": f"ACC{i}",
        "action": "signup",
        "email": "ops@newco.example",
        "country": "US",
    }
    fields.update(extra)
    return line(**fields)


def report(i: int, **extra: object) -> bytes:
    fields: dict[str, object] = {
        "id": f"r{i}",
        "type": "report",
        "ts": "2026-03-01T11:00:00Z",
        "reporter": "user",
        "category": "spam",
    }
    fields.update(extra)
    return line(**fields)


DEEP = "[" * 600 + "]" * 600
HOSTILE: list[tuple[bytes, str]] = [
    (message(100, ts="0001-01-01T00:00:00+01:00"), "out of range in UTC"),
    (message(101, ts="9999-12-31T23:59:59-01:00"), "out of range in UTC"),
    (message(102).replace(b'"body"', b'"x":' + DEEP.encode() + b',"body"'), "nested deeper"),
    (message(103, headers={"a": orjson.loads("[" * 100 + "]" * 100)}), "nested deeper"),
    (message(104, account_id="A" * 129), "'account_id' is longer than 128"),
    (message(105, id="i" * 257), "'id' is longer than 256"),
    (account(106, email="e" * 321), "'email' is longer than 320"),
    (account(107, company="c" * 257), "'company' is longer than 256"),
    (account(108, country="USA"), "'country' is longer than 2"),
    (account(109, declared_use_case="u" * 65), "'declared_use_case' is longer than 64"),
    (report(110, report_id="r" * 257), "'report_id' is longer than 256"),
    (report(111, target="t" * 513), "'target' is longer than 512"),
    (message(112, ts="2026-03-04T12:00:01Z"), "ahead of the ingest clock"),
    (message(113, ts="2000-01-01T00:00:00Z"), "days before the ingest clock"),
]


@pytest.fixture
def ws(settings: Settings) -> Iterator[Workspace]:
    workspace = Workspace(settings, clock=FixedClock(NOW))
    yield workspace
    workspace.close()


def test_each_hostile_record_is_quarantined_alone_and_every_good_one_kept(
    ws: Workspace, tmp_path: Path
) -> None:
    good = [message(1), account(2), report(3, target="+15005550006"), message(4)]
    body = b"".join(good[:2]) + b"".join(h for h, _ in HOSTILE) + b"".join(good[2:])
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(body)
    summary = ws.ingestor().ingest_paths([path])
    assert (summary.accepted, summary.quarantined) == (len(good), len(HOSTILE))
    with ws.store.sessions() as session:
        rows = session.execute(select(QuarantineItem).order_by(QuarantineItem.line)).scalars().all()
        assert session.scalar(select(func.count()).select_from(Report)) == 1
        accounts = set(session.scalars(select(Account.account_id)))
    assert accounts == {"AC1", "ACC2"}
    assert [r.line for r in rows] == list(range(3, 3 + len(HOSTILE)))
    for row, (_, reason) in zip(rows, HOSTILE, strict=True):
        assert reason in row.reason, (row.line, row.reason)
    # The same records as already-decoded objects (the API's JSON array) are judged alike.
    objects = [orjson.loads(h) for h, _ in HOSTILE[2:]]  # the first two do not decode to UTC
    again = ws.ingestor().ingest_objects(objects, source="api")
    assert (again.accepted, again.quarantined) == (0, len(objects))


def test_a_registry_url_host_past_the_entity_width_is_not_linked(
    ws: Workspace, tmp_path: Path
) -> None:
    host = "a" * 600 + ".example"
    path = tmp_path / "long-host.jsonl"
    path.write_bytes(message(1, body=f"see https://{host}/x and https://ok.example/y"))
    summary = ws.ingestor().ingest_paths([path])
    assert summary.accepted == 1
    with ws.store.sessions() as session:
        values = set(session.scalars(select(Entity.value).where(Entity.kind == "domain")))
    assert values == {"ok.example"}


def test_an_unexpected_failure_on_one_record_quarantines_only_that_record(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = reading.validate_event

    def flaky(obj: object) -> object:
        if isinstance(obj, dict) and obj.get("id") == "m2":
            raise RuntimeError("a defect in validation")
        return real(obj)

    monkeypatch.setattr(reading, "validate_event", flaky)
    monkeypatch.setattr(reading, "decode_line", lambda _line: None)
    path = tmp_path / "three.jsonl"
    path.write_bytes(message(1) + message(2) + message(3))
    summary = ws.ingestor().ingest_paths([path])
    assert (summary.accepted, summary.quarantined) == (2, 1)
    assert summary.quarantine_sample[0].reason == "could not be processed (RuntimeError)"


def test_the_window_follows_the_settings(settings: Settings, tmp_path: Path) -> None:
    narrow = settings.model_copy(update={"ingest_max_future_s": 3600, "ingest_max_past_days": 1})
    ws = Workspace(narrow, clock=FixedClock(NOW))
    path = tmp_path / "window.jsonl"
    ahead = (NOW + timedelta(minutes=59)).isoformat()
    too_far = (NOW + timedelta(minutes=61)).isoformat()
    path.write_bytes(
        message(1, ts=ahead)
        + message(2, ts=too_far)
        + message(3, ts="2026-03-01T12:00:01Z")
        + message(4, ts="2026-03-01T11:59:59Z")
    )
    try:
        summary = ws.ingestor().ingest_paths([path])
    finally:
        ws.close()
    assert (summary.accepted, summary.quarantined) == (2, 2)
    assert [q.where.line for q in summary.quarantine_sample] == [2, 4]


def test_rejected_records_are_stored_in_bounded_batches_and_capped_per_run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from abusedesk.events import runs

    monkeypatch.setattr(reading, "QUARANTINE_BATCH", 100)
    written: list[int] = []
    real = runs.write_quarantine

    def spy(conn: object, run_id: int, items: list[object], now: object) -> None:
        written.append(len(items))
        real(conn, run_id, items, now)  # type: ignore[arg-type]

    monkeypatch.setattr(runs, "write_quarantine", spy)
    capped = Workspace(settings.model_copy(update={"max_quarantine_rows": 750}))
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"{bad\n" * 1000 + b"\n   \n\t\n" * 500 + message(1))
    try:
        summary = capped.ingestor().ingest_paths([path])
        with capped.store.sessions() as session:
            stored = session.scalar(select(func.count()).select_from(QuarantineItem))
    finally:
        capped.close()
    assert (summary.read, summary.accepted, summary.quarantined) == (1001, 1, 1000)
    assert stored == 750
    assert max(written) <= 100
    assert sum(written) == 750
