"""Real provider payloads through the whole ingest (samples: tests/events/fixtures/real):
events naming no account are kept, the workspace account map and the registry find their
account, and what stays unknown is unattributed, never rejected."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from abusedesk.events.schema import UNATTRIBUTED
from abusedesk.settings import Settings
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
