"""SendGrid Event Webhook batches: every event kind, custom arguments, message ids, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from abusedesk.events.adapters.sendgrid import SendGridAdapter

BATCH = Path(__file__).parent / "fixtures" / "sendgrid" / "batch.json"


def batch() -> list[dict[str, Any]]:
    return json.loads(BATCH.read_text())


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def by_id(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in events}


def test_the_documented_batch(parse) -> None:
    adapter = SendGridAdapter()
    parsed = parse(adapter, BATCH.read_bytes())
    assert parsed.rejected == []
    assert adapter.skipped == 4  # open, click, group_resubscribe, account_status_change
    kinds = [(e["type"], e.get("status")) for e in parsed.events]
    assert kinds == [
        ("delivery", "queued"),
        ("delivery", "deferred"),
        ("delivery", "delivered"),
        ("delivery", "bounced"),
        ("delivery", "failed"),
        ("delivery", "failed"),
        ("complaint", None),
        ("opt_out", None),
        ("opt_out", None),
    ]
    assert [r.where.item for r in parsed.records] == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_delivered_golden(parse) -> None:
    events = by_id(parse(SendGridAdapter(), BATCH.read_bytes()).events)
    assert events["sendgrid:ZGVsaXZlcmVkLTQyLTE0YzVkNzVjZTkz"] == {
        "id": "sendgrid:ZGVsaXZlcmVkLTQyLTE0YzVkNzVjZTkz",
        "type": "delivery",
        "ts": "2026-01-01T09:01:00Z",
        "account_id": "acct-100",
        "message_id": "14c5d75ce93.dfd.64b469",
        "status": "delivered",
        "recipient": "ana@mail.example",
        "category": ["welcome", "onboarding"],
        "smtp_id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "response": "250 OK",
        "sending_ip": "203.0.113.10",
        "tls": 1,
    }


def test_bounce_blocked_and_dropped_golden(parse) -> None:
    events = by_id(parse(SendGridAdapter(), BATCH.read_bytes()).events)
    assert events["sendgrid:Ym91bmNlLTEtTFJ6WGw2NnNUY21mMUJSU2tHOGVydw"] == {
        "id": "sendgrid:Ym91bmNlLTEtTFJ6WGw2NnNUY21mMUJSU2tHOGVydw",
        "type": "delivery",
        "ts": "2026-01-01T09:01:40Z",
        "account_id": "acct-200",  # from the abusedesk_account custom argument
        "message_id": "LRzXl66sTcmf1BRSkG8erw",
        "status": "bounced",
        "bounce_type": "permanent",
        "error_code": "5.1.1",
        "recipient": "nobody@mail.example",
        "category": ["newsletter"],
        "smtp_id": "<LRzXl66sTcmf1BRSkG8erw@geopod-ismtpd-3>",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "sending_ip": "203.0.113.10",
        "tls": 1,
        "bounce_classification": "Invalid Address",
    }
    blocked = events["sendgrid:YmxvY2tlZC0xLUxSelhsNjZzVGNtZjFCUlNrRzhlcnc"]
    assert (blocked["status"], blocked["error_code"], "bounce_type" in blocked) == (
        "failed",
        "5.7.1",
        False,
    )
    dropped = events["sendgrid:ZHJvcHBlZC0xLWV1bzJpS3hkU2F5UEY0WUU0LS1JN0E"]
    assert dropped["status"] == "failed"
    assert dropped["reason"] == "Spam Reporting Address"
    assert dropped["message_id"] == "euo2iKxdSayPF4YE4--I7A"
    assert dropped["custom_args"] == {"campaign": "spring-2026"}


def test_spamreport_and_unsubscribes_golden(parse) -> None:
    events = by_id(parse(SendGridAdapter(), BATCH.read_bytes()).events)
    assert events["sendgrid:c3BhbXJlcG9ydC00Mi0xNGM1ZDc1Y2U5Mw"] == {
        "id": "sendgrid:c3BhbXJlcG9ydC00Mi0xNGM1ZDc1Y2U5Mw",
        "type": "complaint",
        "ts": "2026-01-01T10:00:00Z",
        "account_id": "acct-100",
        "source": "fbl",
        "feedback_type": "abuse",
        "recipient": "ana@mail.example",
        "message_id": "14c5d75ce93.dfd.64b469",
    }
    assert events["sendgrid:Z3JvdXAtdW5zdWJzY3JpYmUtOS0xNGM1ZDc1"] == {
        "id": "sendgrid:Z3JvdXAtdW5zdWJzY3JpYmUtOS0xNGM1ZDc1",
        "type": "opt_out",
        "ts": "2026-01-01T10:03:20Z",
        "account_id": "acct-100",
        "recipient": "cara@mail.example",
        "keyword": "unsubscribe",
        "channel": "email",
        "message_id": "14c5d75ce93.dfd.64b471",
        "sending_ip": "192.0.2.44",
        "asm_group_id": 10,
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
            "14c5d75ce93.dfd.64b469",
        ),
        (
            {"sg_message_id": "euo2iKxdSayPF4YE4--I7A.recvd-5f54b5d587-pczjm-1-67BADEEA-6.0"},
            "euo2iKxdSayPF4YE4--I7A",
        ),
        (
            {"sg_message_id": "X2uGAs5TRBy7Fme3OWlcAw.filterdrecv-p3mdgm1-5f8d7c6b-1-0"},
            "X2uGAs5TRBy7Fme3OWlcAw",
        ),
        ({"sg_message_id": "plain-id"}, "plain-id"),
        ({"smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>"}, "14c5d75ce93.dfd.64b469"),
    ],
)
def test_message_id_is_the_x_message_id(parse, fields: dict[str, str], expected: str) -> None:
    event = {
        "event": "delivered",
        "email": "a@b",
        "timestamp": 1,
        "sg_event_id": "e1",
        "account_id": "a1",
    }
    (out,) = parse(SendGridAdapter(), dumps(event | fields)).events
    assert out["message_id"] == expected


def test_ndjson_and_one_array_per_line(parse) -> None:
    events = batch()
    ndjson = b"\n".join(dumps(e) for e in events)
    arrays = dumps(events[:5]) + b"\n" + dumps(events[5:])
    whole = parse(SendGridAdapter(), BATCH.read_bytes()).ids
    assert parse(SendGridAdapter(), ndjson).ids == whole
    parsed = parse(SendGridAdapter(), arrays)
    assert parsed.ids == whole
    assert (parsed.records[5].where.line, parsed.records[5].where.item) == (2, 1)


GOOD = {
    "event": "delivered",
    "email": "a@b.example",
    "timestamp": 1767258060,
    "sg_event_id": "e1",
    "sg_message_id": "m1",
    "account_id": "a1",
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"account_id": 42}, "'account_id' must be a string, got integer"),
        ({"timestamp": "1767258060"}, "'timestamp' is not unix seconds: '1767258060'"),
        ({"timestamp": {"$numberLong": "1"}}, "'timestamp' is not unix seconds: object"),
        ({"timestamp": None}, "'timestamp' is missing"),
        ({"event": "bounced"}, "unknown SendGrid event 'bounced'"),
        ({"event": ["delivered"]}, "'event' must be a string, got array"),
        ({"sg_message_id": None}, "the delivered event has no 'sg_message_id' nor 'smtp-id'"),
        ({"category": [1, 2]}, "'category' must be a string or a list of strings"),
        ({"email": ["a@b"]}, "'email' must be a string, got array"),
        ({"event": "unsubscribe", "email": None}, "the unsubscribe event has no 'email'"),
        ({"event": "bounce", "status": {"code": 5}}, "'status' must be a string, got object"),
    ],
)
def test_wrong_fields_are_rejected_with_a_reason(
    parse, change: dict[str, Any], reason: str
) -> None:
    event = {k: v for k, v in (GOOD | change).items() if v is not None}
    parsed = parse(SendGridAdapter(), dumps([GOOD, event]))
    assert len(parsed.records) == 1
    assert [(r.reason, r.where.item) for r in parsed.rejected] == [(reason, 2)]


def test_skipped_events_need_no_account(parse) -> None:
    adapter = SendGridAdapter()
    assert (
        parse(adapter, dumps([{"event": "open"}, {"event": "account_status_change"}])).items == []
    )
    assert adapter.skipped == 2


def test_bounce_without_a_type_is_undetermined(parse) -> None:
    (event,) = parse(SendGridAdapter(), dumps(GOOD | {"event": "bounce"})).events
    assert (event["status"], event["bounce_type"]) == ("bounced", "undetermined")


def test_deep_custom_arguments_are_not_kept(parse) -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    (event,) = parse(SendGridAdapter(), dumps(GOOD | {"deep": deep, "plan": "pro"})).events
    assert event["custom_args"] == {"plan": "pro"}


def test_ids_are_deterministic_and_unique(parse) -> None:
    first, second = (parse(SendGridAdapter(), BATCH.read_bytes()) for _ in range(2))
    assert first.ids == second.ids
    assert len(set(first.ids)) == len(first.ids)


def test_hostile_input(hostile) -> None:
    hostile.check(SendGridAdapter, dumps(batch()[3]))


def test_any_value_of_any_type_anywhere_never_raises(parse, mutations) -> None:
    for _, mutated in mutations(batch()[:7]):
        parse(SendGridAdapter(), dumps(mutated))


def test_sniff(samples) -> None:
    adapter = SendGridAdapter()
    for name, paths in samples.items():
        for path in paths:
            assert adapter.sniff(path.read_bytes()[:65536], path.name) is (name == "sendgrid"), path


def test_an_event_naming_no_account_is_kept_as_unattributed(parse) -> None:
    event = {k: v for k, v in GOOD.items() if k != "account_id"}
    (record,) = parse(SendGridAdapter(), dumps([event])).records
    assert "account_id" not in record.raw
    assert record.fallback == record.raw | {"account_id": "unattributed"}


def test_legacy_events_without_sg_event_id_get_a_content_id(parse) -> None:
    legacy = [
        {
            "email": "a@example.com",
            "timestamp": 1337197600,
            "smtp-id": "<1@x>",
            "event": "processed",
        },
        {
            "email": "a@example.com",
            "timestamp": 1337969592,
            "smtp-id": "<2@x>",
            "event": "processed",
        },
    ]
    adapter = SendGridAdapter()
    assert adapter.sniff(dumps(legacy), "events.json")
    first = [r.raw["id"] for r in parse(adapter, dumps(legacy)).records]
    again = [r.raw["id"] for r in parse(adapter, dumps(legacy)).records]
    assert len(set(first)) == 2
    assert first == again  # the same batch taken in twice counts once
    assert all(i.startswith("sendgrid:legacy:") for i in first)


def test_an_id_reused_with_other_content_in_one_batch_is_not_a_duplicate(parse) -> None:
    batch = [GOOD, GOOD | {"event": "processed"}, GOOD | {"email": "b@example.com"}, GOOD]
    ids = [r.raw["id"] for r in parse(SendGridAdapter(), dumps(batch)).records]
    assert ids[0] == ids[3] == "sendgrid:e1"  # a retry repeats the event as it was
    assert len(set(ids)) == 3
