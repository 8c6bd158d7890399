"""Real provider payloads through the whole ingest (samples: tests/events/fixtures/real):
events naming no account are kept, the workspace account map and the registry find their
account, and what stays unknown is unattributed, never rejected."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import orjson
from sqlalchemy import select

from abusedesk.cli.detect import link_late_complaints
from abusedesk.events.schema import UNATTRIBUTED, Event, validate_event
from abusedesk.lake.writer import LakeWriter
from abusedesk.settings import Settings
from abusedesk.storage.models import PendingComplaint, Report
from abusedesk.workspace import Workspace

REAL = Path(__file__).parents[1] / "events" / "fixtures" / "real"


def lake_rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    with ws.lake_reader() as reader:
        return [tuple(r) for r in reader.con.execute(sql).fetchall()]


def copy(tmp_path: Path, *names: str) -> list[Path]:
    out = []
    for name in names:
        target = tmp_path / "in" / name.replace("/", "-")
        target.parent.mkdir(exist_ok=True)
        shutil.copy(REAL / name, target)
        out.append(target)
    return out


def test_sendgrid_payloads_without_our_fields_are_kept_unattributed(
    workspace: Workspace, tmp_path: Path
) -> None:
    files = copy(tmp_path, "sendgrid/anymail-delivered.json", "sendgrid/anymail-bounce.json")
    summary = workspace.ingestor().ingest_paths(files)
    assert (summary.accepted, summary.quarantined) == (2, 0)
    rows = lake_rows(workspace, "SELECT account_id, status FROM deliveries ORDER BY status")
    assert rows == [(UNATTRIBUTED, "bounced"), (UNATTRIBUTED, "delivered")]


def test_the_account_map_names_the_customer(settings: Settings, tmp_path: Path) -> None:
    settings.ensure_home()
    (settings.resolved_home / "account_map.yaml").write_text(
        "sendgrid:\n  category: {tag2: ACsg}\n"
        "ses:\n  configuration_set: {ConfigSet: ACses}\n"
        "mailgun:\n  variable: [tenant]\n"
    )
    with Workspace(settings) as ws:
        files = copy(
            tmp_path,
            "sendgrid/anymail-processed.json",  # category ["tag1", "tag2"]
            "ses/event-complaint.json",  # ses:configuration-set ConfigSet
            "ses/sns-aws-delivery.json",  # no configuration set: the sending AWS account
        )
        summary = ws.ingestor().ingest_paths(files)
        assert (summary.accepted, summary.quarantined) == (3, 0)
        assert lake_rows(ws, "SELECT account_id FROM deliveries ORDER BY account_id") == [
            ("123456789012",),
            ("ACsg",),
        ]
        assert lake_rows(ws, "SELECT account_id FROM complaints") == [("ACses",)]


def test_the_registry_names_the_only_account_that_sends_from_a_domain(
    workspace: Workspace, tmp_path: Path
) -> None:
    """An FBL report about mail from sironeko@example.net: the registry has one account
    sending from example.net, so the complaint is that account's, not a bare report."""
    sent = {
        "id": "m1",
        "type": "message",
        "ts": "2015-04-29T20:00:00Z",
        "account_id": "ACneko",
        "message_id": "unrelated-1",
        "channel": "email",
        "from": "news@example.net",
        "to": "someone@example.org",
    }
    (tmp_path / "sent.jsonl").write_bytes(orjson.dumps(sent) + b"\n")
    workspace.ingestor().ingest_paths([tmp_path / "sent.jsonl"])
    summary = workspace.ingestor().ingest_paths(copy(tmp_path, "arf/sisimai-arf-21.eml"))
    assert summary.by_type == {"complaint": 1}
    sql = "SELECT account_id, attrs FROM events WHERE type = 'complaint'"
    ((account, attrs),) = lake_rows(workspace, sql)
    assert account == "ACneko"
    kept = orjson.loads(str(attrs))  # the report's evidence rides along as attrs
    assert kept["source_ip"] == "198.51.100.224"
    assert kept["original_mail_from"] == "sironeko@example.net"


def test_a_domain_two_accounts_send_from_names_neither(
    workspace: Workspace, tmp_path: Path
) -> None:
    lines = b""
    for i, account in enumerate(("AC1", "AC2")):
        sent = {
            "id": f"m{i}",
            "type": "message",
            "ts": "2015-04-29T20:00:00Z",
            "account_id": account,
            "message_id": f"x{i}",
            "channel": "email",
            "from": f"a{i}@example.net",
            "to": "someone@example.org",
        }
        lines += orjson.dumps(sent) + b"\n"
    (tmp_path / "sent.jsonl").write_bytes(lines)
    workspace.ingestor().ingest_paths([tmp_path / "sent.jsonl"])
    summary = workspace.ingestor().ingest_paths(copy(tmp_path, "arf/sisimai-arf-21.eml"))
    assert summary.by_type == {"report": 1}
    (row,) = lake_rows(workspace, "SELECT id FROM events WHERE type = 'report'")
    assert str(row[0]).startswith("arf:")


# --- late linking --------------------------------------------------------------------------

# sisimai-arf-03.eml complains about this message, received 2014-12-12 13:09 UTC.
ARF03_MESSAGE_ID = "f6fbba8a761ce682e1b00a323a21b372@example.net"


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_events(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


def message_log(tmp_path: Path, message_id: str = ARF03_MESSAGE_ID) -> Path:
    sent = {
        "id": "m-arf03",
        "type": "message",
        "ts": "2014-12-12T13:08:00Z",
        "account_id": "ACterra",
        "message_id": f"<{message_id}>",
        "channel": "email",
        "from": "fake.sender@example.net",
        "to": "someone@terra.example",
    }
    path = tmp_path / "messages.jsonl"
    path.write_bytes(orjson.dumps(sent) + b"\n")
    return path


def pending(ws: Workspace) -> list[tuple[object, ...]]:
    with ws.store.engine.connect() as conn:
        rows = conn.execute(select(PendingComplaint.message_id, PendingComplaint.account_id)).all()
    return [tuple(r) for r in rows]


def test_a_complaint_ingested_before_its_message_is_linked_when_the_message_arrives(
    workspace: Workspace, tmp_path: Path
) -> None:
    first = workspace.ingestor().ingest_paths(copy(tmp_path, "arf/sisimai-arf-03.eml"))
    assert first.by_type == {"report": 1}  # nobody known yet: a report, with its evidence
    assert pending(workspace) == [(ARF03_MESSAGE_ID, None)]

    recorder = Recorder()
    later = workspace.ingestor(consumers=[recorder]).ingest_paths([message_log(tmp_path)])
    assert later.by_type == {"message": 1, "complaint": 1}
    (complaint,) = [e for e in recorder.events if e.type == "complaint"]
    # The account's complaint, at its own time (it counts in the complaint features from
    # when it was made), with the evidence of the report it was filed as.
    assert complaint.account_id == "ACterra"
    assert complaint.ts.isoformat() == "2014-12-12T13:09:00+00:00"
    assert complaint.data["message_id"] == ARF03_MESSAGE_ID
    assert complaint.attrs is not None
    assert complaint.attrs["source_ip"] == "192.0.2.8"
    assert complaint.attrs["linked_report"] + ":linked" == complaint.id
    assert pending(workspace) == [(ARF03_MESSAGE_ID, "ACterra")]
    with workspace.store.engine.connect() as conn:
        (report,) = conn.execute(select(Report.account_id)).all()
    assert report == ("ACterra",)  # the report is the account's now

    again = workspace.ingestor().ingest_paths([message_log(tmp_path)])
    assert (again.accepted, again.duplicates) == (0, 1)  # linked once only


def test_a_complaint_not_linked_stays_a_report(workspace: Workspace, tmp_path: Path) -> None:
    workspace.ingestor().ingest_paths(copy(tmp_path, "arf/sisimai-arf-03.eml"))
    other = workspace.ingestor().ingest_paths([message_log(tmp_path, "other@example.net")])
    assert other.by_type == {"message": 1}
    assert pending(workspace) == [(ARF03_MESSAGE_ID, None)]


def test_detect_links_waiting_complaints_to_messages_already_in_the_lake(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The message reached the lake without ingest seeing it (written before the complaint
    was kept, or by another path): `abusedesk detect` links it first."""
    workspace.ingestor().ingest_paths(copy(tmp_path, "arf/sisimai-arf-03.eml"))
    sent = validate_event(orjson.loads(message_log(tmp_path).read_bytes()))
    writer = LakeWriter(workspace.lake_dir)
    writer.add([sent])
    writer.flush()
    assert link_late_complaints(workspace) == 1
    assert link_late_complaints(workspace) == 0  # nothing waits any more
    sql = "SELECT account_id, ts FROM complaints"
    ((account, ts),) = lake_rows(workspace, sql)
    assert account == "ACterra"
    assert str(ts).startswith("2014-12-12 13:09:00")


def test_sendgrid_subuser_and_mailgun_domain_name_the_customer(
    settings: Settings, tmp_path: Path
) -> None:
    """Real payloads with nothing of ours: the subuser whose webhook sent the SendGrid batch
    (given at ingest) and the Mailgun sending domain find the account through the map."""
    settings.ensure_home()
    (settings.resolved_home / "account_map.yaml").write_text(
        "sendgrid:\n  subuser: {acme-sub: ACsub}\nmailgun:\n  domain: {example.org: ACmg}\n"
    )
    with Workspace(settings) as ws:
        sendgrid = copy(tmp_path, "sendgrid/anymail-delivered.json")
        summary = ws.ingestor().ingest_paths(sendgrid, subuser="acme-sub")
        assert (summary.accepted, summary.quarantined) == (1, 0)
        mailgun = copy(tmp_path, "mailgun/anymail-delivered.json")  # storage URL: example.org
        assert ws.ingestor().ingest_paths(mailgun).accepted == 1
        sql = "SELECT id, account_id FROM deliveries ORDER BY id"
        rows = lake_rows(ws, sql)
        assert [(str(i).split(":")[0], a) for i, a in rows] == [
            ("mailgun", "ACmg"),
            ("sendgrid", "ACsub"),
        ]
        (attrs,) = lake_rows(ws, "SELECT attrs FROM deliveries WHERE id LIKE 'sendgrid:%'")
        assert orjson.loads(str(attrs[0]))["subuser"] == "acme-sub"
