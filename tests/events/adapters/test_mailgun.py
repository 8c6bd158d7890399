"""Mailgun webhook payloads and Events API pages: every event kind, ids, accounts, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from abusedesk.events.adapters.mailgun import MailgunAdapter

HERE = Path(__file__).parent / "fixtures" / "mailgun"
WEBHOOKS = HERE / "webhooks.ndjson"
PAGE = HERE / "events-page.json"
TOKEN = "9f1c2e8b7a6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c"
MESSAGE_ID = "20260301120000.1a2b3c4d5e6f@mg.shop.example"


def payloads() -> list[dict[str, Any]]:
    return [json.loads(line) for line in WEBHOOKS.read_text().splitlines()]


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def test_webhook_payloads_map_to_their_kinds(parse) -> None:
    adapter = MailgunAdapter()
    parsed = parse(adapter, WEBHOOKS.read_bytes())
    assert parsed.rejected == []
    assert adapter.skipped == 2  # opened, clicked
    got = [(e["type"], e.get("status"), e.get("bounce_type")) for e in parsed.events]
    assert got == [
        ("delivery", "queued", None),  # accepted
        ("delivery", "delivered", None),
        ("delivery", "bounced", "permanent"),  # failed, permanent, bounce
        ("delivery", "failed", None),  # failed, permanent, suppress-bounce: never sent
        ("delivery", "deferred", None),  # failed, temporary: Mailgun retries
        ("delivery", "failed", None),  # rejected
        ("complaint", None, None),
        ("opt_out", None, None),
    ]
    assert [r.where.line for r in parsed.records] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_permanent_failure_golden(parse) -> None:
    (event,) = parse(MailgunAdapter(), (HERE / "failed-permanent.json").read_bytes()).events
    assert event == {
        "id": f"mailgun:03{TOKEN}",
        "type": "delivery",
        "ts": "2026-03-01T12:00:10.250Z",
        "account_id": "acct-300",
        "message_id": MESSAGE_ID,
        "status": "bounced",
        "bounce_type": "permanent",
        "error_code": "550",
        "recipient": "nobody@mail.example",
        "severity": "permanent",
        "reason": "bounce",
        "enhanced_code": "5.1.1",
        "delivery_message": "5.1.1 The email account that you tried to reach does not exist.",
        "tags": ["newsletter"],
        "sending_ip": "198.51.100.7",
        "user_variables": {"campaign": "spring"},
        "mailgun_event_id": "evt-failed-1",
        "mailgun_account": "5f0a1b2c3d4e5f6a7b8c9d0e",
        "domain": "mg.shop.example",
    }


def test_complaint_and_unsubscribe_golden(parse) -> None:
    events = parse(MailgunAdapter(), WEBHOOKS.read_bytes()).events
    assert events[6] == {
        "id": f"mailgun:07{TOKEN}",
        "type": "complaint",
        "ts": "2026-03-01T13:00:00.500Z",
        "account_id": "acct-300",
        "source": "fbl",
        "feedback_type": "abuse",
        "recipient": "ana@mail.example",
        "message_id": MESSAGE_ID,
        "tags": ["newsletter"],
        "sending_ip": "198.51.100.7",
        "user_variables": {"campaign": "spring"},
        "mailgun_event_id": "evt-complained-1",
        "mailgun_account": "5f0a1b2c3d4e5f6a7b8c9d0e",
        "domain": "mg.shop.example",
    }
    assert events[7] == {
        "id": f"mailgun:08{TOKEN}",
        "type": "opt_out",
        "ts": "2026-03-01T13:01:40.500Z",
        # user-variables is an empty list here (Mailgun's way of saying none): the account
        # map finds the customer from Mailgun's account or the domain (kept below)
        "account_id": "unattributed",
        "recipient": "ana@mail.example",
        "keyword": "unsubscribe",
        "channel": "email",
        "sender": "bounce@mg.shop.example",
        "message_id": MESSAGE_ID,
        "tags": ["newsletter"],
        "sending_ip": "198.51.100.7",
        "mailgun_event_id": "evt-unsubscribed-1",
        "mailgun_account": "5f0a1b2c3d4e5f6a7b8c9d0e",
        "domain": "mg.shop.example",
    }


def test_delivered_golden(parse) -> None:
    events = parse(MailgunAdapter(), WEBHOOKS.read_bytes()).events
    assert events[1] == {
        "id": f"mailgun:02{TOKEN}",
        "type": "delivery",
        "ts": "2026-03-01T12:00:03.520Z",
        "account_id": "acct-300",
        "message_id": MESSAGE_ID,
        "status": "delivered",
        "recipient": "ana@mail.example",
        "delivery_message": "OK",
        "tags": ["newsletter"],
        "sending_ip": "198.51.100.7",
        "user_variables": {"campaign": "spring"},
        "mailgun_event_id": "evt-delivered-1",
        "mailgun_account": "5f0a1b2c3d4e5f6a7b8c9d0e",
        "domain": "mg.shop.example",
    }


def test_events_api_page(parse) -> None:
    adapter = MailgunAdapter()
    parsed = parse(adapter, PAGE.read_bytes())
    assert adapter.skipped == 1
    delivered, old = parsed.events
    # no signature on a page: event-data id and timestamp make the id
    assert delivered["id"] == "mailgun:evt-delivered-7:1772380000.125"
    # no variable: the account map finds the customer from the sending domain
    assert (delivered["account_id"], delivered["domain"]) == ("unattributed", "mg.shop.example")
    assert (old["status"], old["bounce_type"]) == ("bounced", "transient")  # reason "old"
    assert [(r.where.line, r.where.item) for r in parsed.records] == [(None, 1), (None, 2)]


def test_signatures_never_reach_events_or_the_quarantine(parse) -> None:
    items = payloads()
    items[1]["event-data"]["timestamp"] = "soon"  # rejected, with an excerpt
    parsed = parse(MailgunAdapter(), b"\n".join(dumps(p) for p in items))
    everything = json.dumps(parsed.events) + " ".join(r.excerpt for r in parsed.rejected)
    assert parsed.rejected
    assert '"signature"' not in everything
    assert "0000000000" not in everything
    assert all(TOKEN not in r.excerpt for r in parsed.rejected)


def test_array_of_payloads_and_raw_event_data(parse) -> None:
    items = payloads()
    parsed = parse(MailgunAdapter(), dumps([*items[:3], items[3]["event-data"]]))
    assert [r.where.item for r in parsed.records] == [1, 2, 3, 4]
    assert parsed.records[3].raw["id"] == "mailgun:evt-failed-2:1772366411.0"


def _with(change: dict[str, Any]) -> dict[str, Any]:
    payload = payloads()[2]
    payload["event-data"].update(change)
    payload["event-data"] = {k: v for k, v in payload["event-data"].items() if v is not None}
    return payload


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            _with({"timestamp": "1772366410.25"}),
            "'event-data.timestamp' is not unix seconds: '1772366410.25'",
        ),
        (_with({"timestamp": None}), "'event-data.timestamp' is missing"),
        (_with({"event": "permanent_fail"}), "unknown Mailgun event 'permanent_fail'"),
        (
            _with({"user-variables": "acct"}),
            "'event-data.user-variables' must be an object, got string",
        ),
        (
            _with({"user-variables": {"account_id": 300}}),
            "'event-data.user-variables.account_id' must be a string, got integer",
        ),
        (
            _with({"account": "x", "user-variables": None}),
            "'event-data.account' must be an object, got string",
        ),
        (
            _with({"delivery-status": {"code": {"smtp": 550}}}),
            "'delivery-status.code' must be a number, got object",
        ),
        (
            _with({"message": {"headers": ["message-id"]}}),
            "'event-data.message.headers' must be an object, got array",
        ),
        (_with({"message": None}), "the failed event has no 'message.headers.message-id'"),
        (_with({"recipient": 7}), "'event-data.recipient' must be a string, got integer"),
        ({"event-data": [1]}, "expected a Mailgun event (a JSON object), got array"),
        ({"items": {"a": 1}}, "'items' of an Events API page must be a list, got object"),
    ],
)
def test_wrong_fields_are_rejected_with_a_reason(parse, payload: object, reason: str) -> None:
    parsed = parse(MailgunAdapter(), dumps(payloads()[1]) + b"\n" + dumps(payload))
    assert len(parsed.records) == 1
    assert [(r.reason, r.where.line) for r in parsed.rejected] == [(reason, 2)]


def test_ids_are_deterministic_and_unique(parse) -> None:
    data = WEBHOOKS.read_bytes() + PAGE.read_bytes().replace(b"\n", b"") + b"\n"
    first, second = parse(MailgunAdapter(), data), parse(MailgunAdapter(), data)
    assert first.ids == second.ids
    assert len(set(first.ids)) == len(first.ids) == 10


def test_hostile_input(hostile) -> None:
    hostile.check(MailgunAdapter, dumps(payloads()[2]))


def test_any_value_of_any_type_anywhere_never_raises(parse, mutations) -> None:
    for payload in (payloads()[2], json.loads(PAGE.read_text())):
        for _, mutated in mutations(payload):
            parse(MailgunAdapter(), dumps(mutated))


def test_sniff(samples) -> None:
    adapter = MailgunAdapter()
    for name, paths in samples.items():
        for path in paths:
            assert adapter.sniff(path.read_bytes()[:65536], path.name) is (name == "mailgun"), path


def test_an_event_naming_no_account_is_kept_as_unattributed(parse) -> None:
    payload = _with({"user-variables": None, "account": None, "domain": None})
    (record,) = parse(MailgunAdapter(), dumps(payload)).records
    assert "account_id" not in record.raw
    assert record.fallback == record.raw | {"account_id": "unattributed"}
