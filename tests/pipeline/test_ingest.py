"""Ingest end to end on the real store and lake: idempotency, quarantine, registry, formats."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from abusedesk.events.registry import RegistryBatch
from abusedesk.settings import Settings
from abusedesk.storage.models import Account, AccountEntity, Entity, IngestRun, QuarantineItem
from abusedesk.workspace import Workspace

# The adapters' sample files, fed here through the whole ingest.
ADAPTER_FIXTURES = Path(__file__).parents[1] / "events" / "adapters" / "fixtures"


def line(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


def message(i: int, account: str = "AC1", **extra: object) -> bytes:
    fields: dict[str, object] = {
        "id": f"m{i}",
        "type": "message",
        "ts": f"2026-03-01T{i % 24:02d}:00:00Z",
        "account_id": account,
        "message_id": f"SM{i}",
        "channel": "sms",
        "from": "+15005550006",
        "to": "+37122345678",
        "body": "Your code is 1234",
        "sender_ip": "198.51.100.7",
    }
    fields.update(extra)
    return line(**fields)


def count_lake(ws: Workspace, sql: str = "SELECT count(*) FROM events") -> int:
    with ws.lake_reader() as reader:
        row = reader.con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_good_lines_go_in_and_each_bad_line_is_quarantined_with_its_number(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        message(1)
        + b"{not json\n"
        + message(2)
        + b"\n"  # a blank line is neither an event nor an error
        + line(id="x", type="message", ts="2026-03-01T00:00:00Z", account_id="AC1")
        + b"[1,2]\n"
        + message(3)
    )
    summary = workspace.ingestor().ingest_paths([path])
    assert (summary.accepted, summary.quarantined, summary.duplicates) == (3, 3, 0)
    with workspace.store.sessions() as session:
        rows = session.execute(select(QuarantineItem).order_by(QuarantineItem.line)).scalars().all()
    assert [(r.line, r.source) for r in rows] == [(2, str(path)), (5, str(path)), (6, str(path))]
    assert rows[0].reason.startswith("not valid JSON")
    assert rows[1].reason == "missing required field 'message_id' for type message"
    assert rows[2].reason == "a line must hold one JSON object"
    assert count_lake(workspace) == 3


def test_an_integer_beyond_64_bits_is_quarantined_alone(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(message(1) + message(2, segments=2**63) + message(3, segments=2**63 - 1))
    summary = workspace.ingestor().ingest_paths([path])
    assert (summary.accepted, summary.quarantined) == (2, 1)
    assert summary.quarantine_sample[0].where.line == 2
    assert count_lake(workspace, "SELECT max(segments) FROM messages") == 2**63 - 1


def test_the_same_file_twice_counts_once(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(message(i) for i in range(500)) + message(7))  # one repeat inside
    first = workspace.ingestor().ingest_paths([path])
    second = workspace.ingestor().ingest_paths([path])
    assert (first.accepted, first.duplicates) == (500, 1)
    assert (second.accepted, second.duplicates) == (0, 501)
    assert count_lake(workspace) == 500


def test_overlapping_files_take_only_the_new_events(workspace: Workspace, tmp_path: Path) -> None:
    """A batch with both new and known ids takes the RETURNING path (see _claim_ids); batches
    all new or all known take the plain insert. Each kind of batch happens here."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b"".join(message(i) for i in range(300)))
    second.write_bytes(b"".join(message(i) for i in range(200, 600)))  # 100 known, 300 new
    ingestor = workspace.ingestor()
    ingestor.batch_size = 50  # batches: 2 all known, 2 mixed at 250..300, then all new
    ingestor.ingest_paths([first])
    again = workspace.ingestor()
    again.batch_size = 30
    summary = again.ingest_paths([second])
    assert (summary.accepted, summary.duplicates) == (300, 100)
    assert count_lake(workspace, "SELECT count(DISTINCT id) FROM messages") == 600
    assert count_lake(workspace) == 600
    with workspace.store.sessions() as session:
        runs = session.execute(select(IngestRun).order_by(IngestRun.id)).scalars().all()
        account = session.get(Account, "AC1")
    assert [(r.accepted, r.duplicates, r.read) for r in runs] == [(300, 0, 300), (300, 100, 400)]
    assert account is not None
    assert account.event_count == 600  # each event counted once in the registry


def test_a_failed_batch_leaves_no_ids_behind(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids, registry and lake go in together or not at all: after a batch fails, the same
    events ingest again as new."""
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"".join(message(i) for i in range(40)))

    def broken(self: object, conn: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(RegistryBatch, "write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        workspace.ingestor().ingest_paths([path])
    monkeypatch.undo()
    summary = workspace.ingestor().ingest_paths([path])
    assert (summary.accepted, summary.duplicates) == (40, 0)
    assert count_lake(workspace) == 40


def test_batches_folders_and_gzip(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(b"".join(message(i) for i in range(150)))
    with gzip.open(folder / "sub" / "b.jsonl.gz", "wb") as fh:
        fh.write(b"".join(message(i) for i in range(150, 300)))
    ingestor = workspace.ingestor()
    ingestor.batch_size = 100  # several flushes per file
    summary = ingestor.ingest_paths([folder])
    assert (summary.files, summary.accepted) == (2, 300)
    assert count_lake(workspace, "SELECT count(DISTINCT id) FROM messages") == 300


def test_registry_links_accounts_to_what_they_use(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(
        line(
            id="s1",
            type="account",
            ts="2026-03-01T09:00:00Z",
            account_id="AC1",
            action="signup",
            ip="203.0.113.7",
            device_id="dev-9",
            email="Ops@NewCo.example",
            payment_fingerprint="card-1",
            company="NewCo",
            country="US",
        )
        + line(
            id="s2",
            type="account",
            ts="2026-03-02T09:00:00Z",
            account_id="AC2",
            action="signup",
            ip="203.0.113.8",
            device_id="dev-9",
            payment_fingerprint="card-1",
        )
        + message(1, body="Pay now https://Secure-Pay.example.com/x", ts="2026-03-01T10:00:00Z")
        + message(2, ts="2026-03-03T10:00:00Z")
    )
    workspace.ingestor().ingest_paths([path])
    with workspace.store.sessions() as session:
        ac1 = session.get(Account, "AC1")
        assert ac1 is not None
        assert (ac1.company, ac1.country, ac1.event_count) == ("NewCo", "US", 3)
        assert ac1.first_seen.isoformat() == "2026-03-01T09:00:00+00:00"
        assert ac1.last_seen.isoformat() == "2026-03-03T10:00:00+00:00"
        device_users = (
            session.execute(
                select(AccountEntity.account_id)
                .join(Entity, Entity.id == AccountEntity.entity_id)
                .where(Entity.kind == "device", Entity.value == "dev-9")
                .order_by(AccountEntity.account_id)
            )
            .scalars()
            .all()
        )
        assert device_users == ["AC1", "AC2"]
        kinds = set(
            session.execute(
                select(Entity.kind, Entity.value)
                .join(AccountEntity, AccountEntity.entity_id == Entity.id)
                .where(AccountEntity.account_id == "AC1")
            ).all()
        )
    assert {
        ("phone", "+15005550006"),
        ("ip", "198.51.100.7"),
        ("domain", "secure-pay.example.com"),
        ("email", "ops@newco.example"),
        ("payment", "card-1"),
    } <= kinds


def test_a_report_naming_a_number_finds_its_account(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(
        message(1)
        + line(
            id="r1",
            type="report",
            ts="2026-03-01T10:00:00Z",
            reporter="carrier",
            category="phishing",
            target="+15005550006",
            description="7726 reports",
        )
        + line(
            id="r2",
            type="report",
            ts="2026-03-01T10:00:00Z",
            reporter="user",
            category="spam",
            target="+19999999999",
        )
    )
    workspace.ingestor().ingest_paths([path])
    with workspace.lake_reader() as reader:
        rows = reader.con.execute("SELECT id, account_id FROM reports ORDER BY id").fetchall()
    assert rows == [("r1", "AC1"), ("r2", None)]


def test_each_run_is_recorded(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(message(1) + b"oops\n")
    summary = workspace.ingestor(actor="alice").ingest_paths([path])
    with workspace.store.sessions() as session:
        run = session.get(IngestRun, summary.run_id)
    assert run is not None
    assert (run.status, run.actor, run.read, run.accepted, run.quarantined) == (
        "done",
        "alice",
        2,
        1,
        1,
    )


def test_a_folder_of_mixed_formats_is_detected_file_by_file(
    settings: Settings, tmp_path: Path
) -> None:
    # The RFC's sample report is from 2005: older than the default event-time window.
    workspace = Workspace(settings.model_copy(update={"ingest_max_past_days": 36_500}))
    fixtures = ADAPTER_FIXTURES
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("arf/rfc5965_sample.eml", "sendgrid/batch.json", "twilio/api-export.csv"):
        source = fixtures / name
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "notes.txt").write_text("not events\n")
    (folder / "events.jsonl").write_bytes(message(1))
    try:
        summary = workspace.ingestor().ingest_paths([folder])
    finally:
        workspace.close()
    assert summary.quarantined == 1  # only notes.txt
    assert summary.quarantine_sample[0].where.source.endswith("notes.txt")
    assert summary.quarantine_sample[0].reason.startswith("cannot tell the format")
    assert set(summary.by_type) >= {"complaint", "delivery", "message", "opt_out"}


def test_nul_characters_cost_only_their_own_event(workspace: Workspace, tmp_path: Path) -> None:
    """PostgreSQL text cannot hold U+0000; a hostile value must not fail its whole batch."""
    path = tmp_path / "nul.jsonl"
    path.write_bytes(
        message(1)
        + line(
            id="bad\u0000id",
            type="opt_out",
            ts="2026-03-01T10:00:00Z",
            account_id="AC1",
            recipient="+15550001111",
        )
        + message(2, **{"from": "+1500\u00005550006"}, body="hi\u0000there")
        + line(
            id="r1",
            type="report",
            ts="2026-03-01T10:00:00Z",
            reporter="user",
            category="spam",
            target="+1999\u0000",
            description="nul\u0000here",
            evidence=["a\u0000b"],
        )
        + line(
            id="s1",
            type="account",
            ts="2026-03-01T09:00:00Z",
            account_id="AC1",
            action="signup",
            company="Evil\u0000Co",
            device_id="d\u00001",
        )
        + message(3)
    )
    summary = workspace.ingestor().ingest_paths([path])
    assert summary.quarantined == 1
    assert summary.quarantine_sample[0].reason == "field 'id' contains a NUL character"
    assert summary.accepted == 5
    assert count_lake(workspace) == 5


def test_an_arf_complaint_finds_the_account_of_its_message(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The complaint names no account; the original's Message-ID has the SES message id as its
    local part, and the lake holds that message with its account."""
    eml = (ADAPTER_FIXTURES / "arf" / "no_account.eml").read_bytes()
    ses_id = "0100018e1f2a3b4c-77aa"
    sent = line(
        id="m-ses",
        type="message",
        ts="2026-03-01T08:00:00Z",
        account_id="ACmail",
        message_id=ses_id,
        channel="email",
        **{"from": "news@shop.example"},
        to="jane@example.com",
    )
    (tmp_path / "sent.jsonl").write_bytes(sent)
    (tmp_path / "report.eml").write_bytes(eml)
    workspace.ingestor().ingest_paths([tmp_path / "sent.jsonl"])
    summary = workspace.ingestor().ingest_paths([tmp_path / "report.eml"])
    assert summary.by_type == {"complaint": 1}
    with workspace.lake_reader() as reader:
        rows = reader.con.execute("SELECT account_id, message_id FROM complaints").fetchall()
    assert rows == [("ACmail", "0100018e1f2a3b4c-77aa@email.example.org")]


def test_an_arf_complaint_with_no_known_message_becomes_a_report(
    workspace: Workspace, tmp_path: Path
) -> None:
    eml = (ADAPTER_FIXTURES / "arf" / "no_account.eml").read_bytes()
    (tmp_path / "report.eml").write_bytes(eml)
    summary = workspace.ingestor().ingest_paths([tmp_path / "report.eml"])
    assert summary.by_type == {"report": 1}
