"""The real-sample corpus (tests/events/fixtures/real, cited in its README): every file goes
through the adapter auto-detection picks, and every mapped field is checked against the source
as read independently here (stdlib `email` for mail, `json` for notifications).

No ARF sample carries our account header, so every ARF record is unattributed: the complaint
waits for the pipeline to find its account, and its fallback report must keep the evidence."""

from __future__ import annotations

import email
import io
import json
from email import policy
from email.message import Message
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest

from abusedesk.cli.ingest import EXIT_QUARANTINED, quarantine_exit_code
from abusedesk.errors import InputError
from abusedesk.events.adapters import registry
from abusedesk.events.adapters.base import Limits, Record, Rejected
from abusedesk.events.schema import validate_event
from abusedesk.events.summary import IngestSummary

REAL = Path(__file__).parent / "fixtures" / "real"
FILES = sorted(p for p in REAL.rglob("*") if p.is_file() and p.name != "README.md")


def run(path: Path) -> tuple[str, list[Record], list[Rejected], int]:
    data = path.read_bytes()
    adapter = registry.detect(data[:65_536], path.name)
    items = list(adapter.parse(io.BytesIO(data), str(path), Limits()))
    records = [i for i in items if isinstance(i, Record)]
    rejected = [i for i in items if isinstance(i, Rejected)]
    return adapter.name, records, rejected, int(getattr(adapter, "skipped", 0))


def test_the_corpus_is_cited_file_by_file() -> None:
    readme = (REAL / "README.md").read_text()
    assert len(FILES) >= 40
    for path in FILES:
        assert f"`{path.relative_to(REAL)}`" in readme, path


# --- ARF and JMRP ------------------------------------------------------------------------------


def _parts(msg: Message) -> tuple[Message | None, Message | None]:
    """(feedback-report fields, original headers) read with the stdlib parser."""
    report = original = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/feedback-report" and report is None:
            payload = part.get_payload()
            text = payload[0].as_string() if isinstance(payload, list) else str(payload)
            report = email.message_from_string(text.lstrip("\n"))
        elif ctype in ("message/rfc822", "text/rfc822-headers") and original is None:
            payload = part.get_payload()
            if isinstance(payload, list):
                original = payload[0]
            else:
                original = email.message_from_string(str(payload))
    return report, original


def _addr(value: str | None) -> str | None:
    return parseaddr(value)[1] if value else None


ARF = [p for p in FILES if p.parent.name == "arf"]


@pytest.mark.parametrize("path", ARF, ids=lambda p: p.name)
def test_arf_sample_keeps_every_mapped_field(path: Path) -> None:
    fmt, records, rejected, _ = run(path)
    assert fmt == "arf"
    assert rejected == []
    (record,) = records
    raw, fallback = record.raw, record.fallback
    assert "account_id" not in raw
    assert fallback is not None
    validate_event(fallback)
    validate_event({**raw, "account_id": "probe"})
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.compat32)
    fields, original = _parts(msg)
    if fields is None:  # Microsoft JMRP: the facts are in the attached original
        assert original is not None
        expected: dict[str, Any] = {
            "feedback_type": "abuse",
            "recipient": original["X-HmXmrOriginalRecipient"].strip(),
            "user_agent": "Microsoft JMRP",
            "reporting_mta": _addr(msg["From"]).rsplit("@", 1)[1],  # type: ignore[union-attr]
        }
    else:
        rcpt = _addr(fields["Original-Rcpt-To"])
        expected = {
            "feedback_type": fields["Feedback-Type"].strip().lower(),
            "user_agent": fields["User-Agent"],
            "source_ip": fields["Source-IP"],
            "recipient": rcpt if rcpt and "@" in rcpt else None,
            "reported_domain": fields.get_all("Reported-Domain"),
            "authentication_results": fields.get_all("Authentication-Results"),
        }
        mail_from = _addr(fields["Original-Mail-From"])
        if mail_from:
            expected["original_mail_from"] = mail_from
    if original is not None and original["Message-ID"]:
        expected["message_id"] = original["Message-ID"].strip().strip("<>")
    if original is not None and (original["Subject"] or "").strip():
        expected["original_subject"] = " ".join(original["Subject"].split())
    for key, value in expected.items():
        if value is None:
            assert key not in raw, key
            continue
        assert raw[key] == value, key
        assert fallback[key] == value, key  # the evidence survives without an account


def test_obsolete_zone_and_no_arrival_date_still_dated() -> None:
    (record,) = run(REAL / "arf" / "sisimai-arf-11.eml")[1]
    assert record.raw["ts"] == "2006-04-09T14:34:45Z"  # "23:34:45 JST", the report's Date


def test_jmrp_takes_the_connecting_ip_from_microsofts_received_header() -> None:
    (record,) = run(REAL / "arf" / "sisimai-arf-13-hotmail-jmrp.eml")[1]
    assert record.raw["source_ip"] == "123.123.123.123"
    assert record.raw["ts"] == "2015-04-21T16:22:13Z"


# --- SES and SNS ---------------------------------------------------------------------------


SES = [p for p in FILES if p.parent.name == "ses"]


def _note(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    if doc.get("Type") == "Notification":
        doc = json.loads(doc["Message"])
    return doc  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", SES, ids=lambda p: p.name)
def test_ses_sample_keeps_every_mapped_field(path: Path) -> None:
    fmt, records, rejected, skipped = run(path)
    assert fmt == "ses"
    assert rejected == []
    note = _note(path)
    kind = note.get("notificationType") or note.get("eventType")
    if kind in ("Open", "Click", "Rendering Failure", "Received"):
        assert records == []
        assert skipped == 1
        return
    assert records
    mail = note["mail"]
    for record in records:
        # No account tag: the account map may name the customer; else the sending AWS account.
        assert "account_id" not in record.raw
        assert record.fallback == record.raw | {"account_id": mail["sendingAccountId"]}
        event = record.fallback
        validate_event(event)
        assert event["message_id"] == mail["messageId"]
        common = mail.get("commonHeaders", {})
        if "messageId" in common:
            assert event["rfc_message_id"] == common["messageId"].strip("<>")
        if mail.get("tags"):
            assert event["tags"] == mail["tags"]  # every tag, not only the configuration set
        if mail.get("sourceArn"):
            assert event["source_arn"] == mail["sourceArn"]
        part = note.get(kind[0].lower() + kind[1:]) or {}
        if kind == "Complaint":
            assert event["recipient"] in {r["emailAddress"] for r in part["complainedRecipients"]}
            if "complaintFeedbackType" in part:
                assert event["feedback_type"] == part["complaintFeedbackType"]
            if "arrivalDate" in part:
                assert event["arrival_date"] == part["arrivalDate"]
            if "userAgent" in part:
                assert event["user_agent"] == part["userAgent"]
        if kind == "Bounce":
            assert event["recipient"] in {r["emailAddress"] for r in part["bouncedRecipients"]}
            if "reportingMTA" in part:
                assert event["reporting_mta"] == part["reportingMTA"]
            if "remoteMtaIp" in part:
                assert event["remote_mta_ip"] == part["remoteMtaIp"]
        if kind == "Delivery":
            assert event["recipient"] in part["recipients"]
            assert event["smtp_response"] == part["smtpResponse"]


@pytest.mark.parametrize(
    "name", ["subscription-confirmation.json", "unsubscribe-confirmation.json"]
)
def test_sns_housekeeping_is_recognised_and_skipped(name: str) -> None:
    fmt, records, rejected, skipped = run(REAL / "sns" / name)
    assert (fmt, records, rejected, skipped) == ("ses", [], [], 1)


def test_an_sns_notification_that_is_not_ses_is_not_taken_for_one() -> None:
    with pytest.raises(InputError):
        run(REAL / "sns" / "notification-not-ses.json")


# --- exit codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "duplicates", "quarantined", "strict", "code"),
    [
        (0, 0, 0, False, 0),
        (0, 0, 3, False, EXIT_QUARANTINED),  # nothing went in, something was refused
        (5, 0, 3, False, 0),
        (0, 5, 3, False, 0),  # the same file again: its events are in
        (5, 0, 1, True, EXIT_QUARANTINED),
        (5, 0, 0, True, 0),
    ],
)
def test_exit_code(
    accepted: int, duplicates: int, quarantined: int, strict: bool, code: int
) -> None:
    summary = IngestSummary(run_id=1)
    summary.accepted, summary.duplicates, summary.quarantined = accepted, duplicates, quarantined
    assert quarantine_exit_code(summary, strict=strict) == code


# --- SendGrid and Mailgun ------------------------------------------------------------------


SENDGRID = [p for p in FILES if p.parent.name == "sendgrid"]


@pytest.mark.parametrize("path", SENDGRID, ids=lambda p: p.name)
def test_sendgrid_sample_is_kept_unattributed_with_its_fields(path: Path) -> None:
    fmt, records, rejected, skipped = run(path)
    assert fmt == "sendgrid"
    assert rejected == []
    (sg,) = json.loads(path.read_text())
    if sg["event"] == "open":
        assert records == []
        assert skipped == 1
        return
    (record,) = records
    raw, fallback = record.raw, record.fallback
    assert "account_id" not in raw  # not rejected: kept, and the pipeline looks further
    assert fallback == raw | {"account_id": "unattributed"}
    validate_event(fallback)
    assert raw["id"] == "sendgrid:" + sg["sg_event_id"]
    assert raw["ts"].startswith("2016-04-")
    assert raw["recipient"] == sg["email"]
    assert raw["message_id"] == sg["sg_message_id"].split(".filter", 1)[0]
    assert raw.get("sending_ip") == sg.get("ip")
    assert raw.get("category") == sg.get("category")
    custom = {k: v for k, v in sg.items() if k in ("custom1", "custom2", "anymail_id")}
    assert raw.get("custom_args", {}) == custom


MAILGUN = [p for p in FILES if p.parent.name == "mailgun"]


@pytest.mark.parametrize("path", MAILGUN, ids=lambda p: p.name)
def test_mailgun_sample_is_kept_unattributed_with_its_fields(path: Path) -> None:
    fmt, records, rejected, _ = run(path)
    assert fmt == "mailgun"
    assert rejected == []
    (record,) = records
    data = json.loads(path.read_text())["event-data"]
    raw = record.raw
    assert "account_id" not in raw
    assert record.fallback is not None
    validate_event(record.fallback)
    assert raw["recipient"] == data["recipient"]
    assert raw["message_id"] == data["message"]["headers"]["message-id"]
    expected = {"delivered": "delivered", "permanent": "bounced", "temporary": "deferred"}
    assert raw["status"] == expected[data.get("severity", data["event"])]
    again = run(path)[1][0].raw["id"]
    assert again == raw["id"]  # without event-data.id the content stands in, stably
