"""Amazon SES notifications: the official samples, event publishing, SNS envelopes, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from abusedesk.events.adapters.ses import SesAdapter

SES = Path(__file__).parent.parent / "fixtures" / "ses"
WHOLE = sorted(p.name for p in SES.glob("aws-*.json") if "fragment" not in p.name)


def load(name: str) -> Any:
    return json.loads((SES / name).read_text())


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()  # not orjson: mutated inputs hold integers past 64 bits


@pytest.mark.parametrize("name", WHOLE)
def test_every_official_sample_gives_valid_events(parse, name: str) -> None:
    parsed = parse(SesAdapter(), (SES / name).read_bytes())
    assert parsed.rejected == []
    assert parsed.records
    assert all(e["message_id"] == load(name)["mail"]["messageId"] for e in parsed.events)


def test_the_official_fragments_put_together_give_valid_events(parse) -> None:
    mail = load("aws-fragment-mail.json")
    bounce = load("aws-fragment-bounce.json")
    complaint = load("aws-fragment-complaint.json")
    complaint["complainedRecipients"] = [load("aws-fragment-complained-recipient.json")]
    single = dict(bounce, bouncedRecipients=[load("aws-fragment-bounced-recipient.json")])
    notes = [
        {"notificationType": "Bounce", "mail": mail, "bounce": bounce},
        {"notificationType": "Bounce", "mail": mail, "bounce": single},
        {"notificationType": "Complaint", "mail": mail, "complaint": complaint},
        {
            "notificationType": "Delivery",
            "mail": mail,
            "delivery": load("aws-fragment-delivery.json"),
        },
        {"eventType": "Send", "mail": mail, "send": {}},
    ]
    parsed = parse(SesAdapter(), dumps(notes))
    assert parsed.rejected == []
    assert [
        (e["type"], e.get("status"), e.get("recipient", e.get("to"))) for e in parsed.events
    ] == [
        ("delivery", "bounced", "recipient1@example.com"),
        ("delivery", "bounced", "recipient2@example.com"),
        ("delivery", "bounced", "recipient@example.com"),
        ("complaint", None, "recipient1@example.com"),
        ("delivery", "delivered", "success@simulator.amazonses.com"),
        ("message", None, "recipient@example.com"),
    ]
    # the mail object writes its time as "2018-10-08T14:05:45 +0000"
    assert parsed.events[-1]["ts"] == "2018-10-08T14:05:45Z"
    assert parsed.events[1]["error_code"] == "4.0.0"


# Fields of `mail` kept on every event (issue 15); tests/events/test_real_samples.py checks them
# against the AWS samples. The goldens here are about the per-type mapping.
KEPT = ("rfc_message_id", "tags", "source_arn", "mail_from", "sending_account_id", "source_ip")
KEPT += ("reporting_mta", "remote_mta_ip", "action", "arrival_date")


def without_kept(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in KEPT}


def test_bounce_golden(parse) -> None:
    (event,) = parse(SesAdapter(), (SES / "aws-bounce-with-dsn.json").read_bytes()).events
    assert without_kept(event) == {
        "id": "ses:00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000:bounce:jane@example.com",
        "type": "delivery",
        "ts": "2016-01-27T14:59:38.237Z",
        "account_id": "123456789012",
        "message_id": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
        "status": "bounced",
        "recipient": "jane@example.com",
        "bounce_type": "permanent",
        "error_code": "5.1.1",
        "bounce_subtype": "General",
        "diagnostic_code": "smtp; 550 5.1.1 <jane@example.com>... User",
    }


def test_complaint_golden(parse) -> None:
    (event,) = parse(SesAdapter(), (SES / "aws-complaint-with-feedback.json").read_bytes()).events
    assert without_kept(event) == {
        "id": "ses:000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000:complaint:richard@example.com",
        "type": "complaint",
        "ts": "2016-01-27T14:59:38.237Z",
        "account_id": "123456789012",
        "message_id": "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000",
        "source": "fbl",
        "recipient": "richard@example.com",
        "feedback_type": "abuse",
        "user_agent": "AnyCompany Feedback Loop (V0.01)",
    }
    (bare,) = parse(SesAdapter(), (SES / "aws-complaint-without-feedback.json").read_bytes()).events
    assert "feedback_type" not in bare


def test_delivery_golden(parse) -> None:
    (event,) = parse(SesAdapter(), (SES / "aws-delivery.json").read_bytes()).events
    assert without_kept(event) == {
        "id": "ses:0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000:delivery:jane@example.com",
        "type": "delivery",
        "ts": "2016-01-27T14:59:38.237Z",
        "account_id": "123456789012",
        "message_id": "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000",
        "status": "delivered",
        "recipient": "jane@example.com",
        "smtp_response": "250 ok:  Message 64111812 accepted",
    }


MESSAGE_ID = "0102018d9a7b1c2e-5d1c0f3e-7a3b-4a61-9b0e-2f8c6d7e8a90-000000"


def test_send_gives_one_message_per_destination(parse) -> None:
    events = parse(SesAdapter(), (SES / "synthetic-send.json").read_bytes()).events
    assert [e["to"] for e in events] == ["ana@mail.example", "ben@mail.example"]
    assert without_kept(events[0]) == {
        "id": f"ses:{MESSAGE_ID}:send:ana@mail.example",
        "type": "message",
        "ts": "2026-02-10T09:15:02.101Z",
        "account_id": "acct-4711",
        "message_id": MESSAGE_ID,
        "channel": "email",
        "direction": "outbound",
        "from": "News <news@shop.example>",
        "to": "ana@mail.example",
        "subject": "Spring sale",
        "headers": {
            "From": "News <news@shop.example>",
            "To": "ana@mail.example, ben@mail.example",
            "Subject": "Spring sale",
            "List-Unsubscribe": "<https://shop.example/u/1>",
            "Received": "from a",
        },
        "sender_ip": "198.51.100.23",
        "api_key_id": "platform-sender",
        "campaign_id": "marketing",
    }


def test_reject_and_delivery_delay_golden(parse) -> None:
    rejects = parse(SesAdapter(), (SES / "synthetic-reject.json").read_bytes()).events
    assert without_kept(rejects[1]) == {
        "id": f"ses:{MESSAGE_ID}:reject:ben@mail.example",
        "type": "delivery",
        "ts": "2026-02-10T09:15:02.101Z",
        "account_id": "acct-4711",
        "message_id": MESSAGE_ID,
        "status": "failed",
        "recipient": "ben@mail.example",
        "reject_reason": "Bad content",
    }
    (delay,) = parse(SesAdapter(), (SES / "synthetic-delivery-delay.json").read_bytes()).events
    assert without_kept(delay) == {
        "id": f"ses:{MESSAGE_ID}:delay:ben@mail.example:2026-02-10T09:45:10Z",
        "type": "delivery",
        "ts": "2026-02-10T09:45:10Z",
        "account_id": "acct-4711",
        "message_id": MESSAGE_ID,
        "status": "deferred",
        "recipient": "ben@mail.example",
        "error_code": "4.2.2",
        "delay_type": "MailboxFull",
        "diagnostic_code": "smtp; 452 4.2.2 Mailbox full",
    }


def test_sns_envelope_and_suppression_list_bounce(parse) -> None:
    (event,) = parse(SesAdapter(), (SES / "synthetic-sns-envelope.json").read_bytes()).events
    assert event["account_id"] == "acct-0815"  # the abusedesk-account tag
    assert event["bounce_subtype"] == "OnAccountSuppressionList"
    assert event["counts_toward_rate"] is False
    assert event["status"] == "bounced"
    assert "Signature" not in json.dumps(event)


def test_engagement_records_are_skipped_and_counted(parse) -> None:
    adapter = SesAdapter()
    parsed = parse(adapter, (SES / "synthetic-event-publishing.ndjson").read_bytes())
    assert adapter.skipped == 4  # Open, Click, Rendering Failure, Subscription
    assert [
        (e["type"], r.where.line) for e, r in zip(parsed.events, parsed.records, strict=True)
    ] == [
        ("delivery", 5),
        ("complaint", 6),
    ]
    assert parse(adapter, b"").items == []
    assert adapter.skipped == 0, "the count is per parse"


def test_sns_housekeeping_is_skipped(parse) -> None:
    adapter = SesAdapter()
    confirmation = {"Type": "SubscriptionConfirmation", "Message": "You have chosen to subscribe"}
    succeeded = {
        "Type": "Notification",
        "Message": '{"notificationType":"AmazonSnsSubscriptionSucceeded","message":"ok"}',
    }
    parsed = parse(adapter, dumps([confirmation, succeeded]))
    assert parsed.items == []
    assert adapter.skipped == 2


def _note(**mail: Any) -> dict[str, Any]:
    base = load("aws-bounce-without-dsn.json")
    base["mail"].update(mail)
    return base


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"account_id": ["a1"], "abusedesk-account": ["a2"]}, "a1"),
        ({"abusedesk-account": ["a2"]}, "a2"),
        ({"ses:configuration-set": ["x"]}, "123456789012"),
        (None, "123456789012"),
    ],
)
def test_account_id_order(parse, tags: object, expected: str) -> None:
    note = _note(tags=tags) if tags is not None else _note()
    assert {e["account_id"] for e in parse(SesAdapter(), dumps(note)).events} == {expected}


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ({"notificationType": "Bounce", "bounce": {}}, "'mail' is missing"),
        (
            {"notificationType": "Bounce", "mail": [], "bounce": {}},
            "'mail' must be an object, got array",
        ),
        ({"mail": {"messageId": "m"}}, "'notificationType' and 'eventType' are missing"),
        ({"notificationType": "Bounced", "mail": {}}, "unknown SES notification type 'Bounced'"),
        (_note(tags={"account_id": "a1"}), "'mail.tags.account_id' must be a list, got string"),
        (_note(tags={"account_id": []}), "'mail.tags.account_id' must hold a non-empty string"),
        (_note(sendingAccountId=None), "no account id"),
        (_note(messageId=7), "'mail.messageId' must be a string, got integer"),
        ({"Type": "Notification", "Message": "{not json"}, "the SNS 'Message' is not valid JSON"),
        ({"Type": "Notification", "Message": "[]"}, "'Message' must be an object, got array"),
        ({"Type": "Notification", "Message": {"a": 1}}, "'Message' must be a string, got object"),
        ({"Type": "Surprise"}, "unknown SNS message Type 'Surprise'"),
    ],
)
def test_malformed_notifications_are_rejected_with_a_reason(
    parse, note: object, reason: str
) -> None:
    parsed = parse(SesAdapter(), dumps(note))
    assert parsed.records == []
    (rejected,) = parsed.rejected
    assert reason in rejected.reason


def _bounce_with(**bounce: Any) -> dict[str, Any]:
    note = load("aws-bounce-without-dsn.json")
    note["bounce"].update(bounce)
    return note


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (_bounce_with(timestamp=1453906778), "'bounce.timestamp' must be a string, got integer"),
        (
            _bounce_with(timestamp="yesterday"),
            "'bounce.timestamp' is not an ISO 8601 timestamp: 'yesterday'",
        ),
        (
            _bounce_with(bouncedRecipients="jane@example.com"),
            "'bounce.bouncedRecipients' must be a list, got string",
        ),
        (_bounce_with(bouncedRecipients=[]), "the Bounce notification names no recipient"),
        (
            _bounce_with(bouncedRecipients=[{"emailAddress": {"x": 1}}]),
            "'bounce.bouncedRecipients[0].emailAddress' must be a string, got object",
        ),
        (
            _bounce_with(bouncedRecipients=[{"status": "5.1.1"}]),
            "'bounce.bouncedRecipients[0].emailAddress' is missing",
        ),
        (
            _bounce_with(bouncedRecipients=[{"emailAddress": "a@b", "status": 511}]),
            "'bounce.bouncedRecipients[].status' must be a string, got integer",
        ),
    ],
)
def test_wrong_types_reject_the_whole_notification(parse, note: object, reason: str) -> None:
    parsed = parse(SesAdapter(), dumps(note))
    assert parsed.records == []
    assert [r.reason for r in parsed.rejected] == [reason]


def test_rejections_name_the_line_or_the_item(parse) -> None:
    good = load("aws-delivery.json")
    bad = {"notificationType": "Delivery", "mail": None}
    ndjson = b"\n".join(dumps(n) for n in (good, bad, good))
    assert [r.where.line for r in parse(SesAdapter(), ndjson).rejected] == [2]
    array = json.dumps([good, good, bad], indent=2).encode()
    (rejected,) = parse(SesAdapter(), array).rejected
    assert (rejected.where.line, rejected.where.item) == (None, 3)


def test_a_recipient_listed_twice_is_one_event(parse) -> None:
    note = _bounce_with(bouncedRecipients=[{"emailAddress": "a@b.example"}] * 3)
    assert len(parse(SesAdapter(), dumps(note)).records) == 1


def test_unknown_bounce_type_and_feedback_type_are_left_out(parse) -> None:
    (bounce,) = parse(
        SesAdapter(),
        dumps(_bounce_with(bounceType="Weird", bouncedRecipients=[{"emailAddress": "a@b"}])),
    ).events
    assert "bounce_type" not in bounce
    complaint = load("aws-complaint-with-feedback.json")
    complaint["complaint"]["complaintFeedbackType"] = "spam"
    (event,) = parse(SesAdapter(), dumps(complaint)).events
    assert "feedback_type" not in event
    assert event["feedback_type_raw"] == "spam"


def test_ids_are_deterministic_and_unique(parse, samples) -> None:
    data = b"\n".join(p.read_bytes().replace(b"\n", b" ") for p in samples["ses"])
    first, second = parse(SesAdapter(), data), parse(SesAdapter(), data)
    assert first.ids == second.ids
    assert len(set(first.ids)) == len(first.ids)
    assert all(i.startswith("ses:") for i in first.ids)


def test_hostile_input(hostile) -> None:
    hostile.check(
        SesAdapter, (SES / "aws-bounce-without-dsn.json").read_bytes().replace(b"\n", b"")
    )


@pytest.mark.parametrize(
    "name",
    [
        "aws-bounce-with-dsn.json",
        "synthetic-send.json",
        "synthetic-sns-envelope.json",
        "synthetic-delivery-delay.json",
    ],
)
def test_any_value_of_any_type_anywhere_never_raises(parse, mutations, name: str) -> None:
    for _, mutated in mutations(load(name)):
        parse(SesAdapter(), dumps(mutated))  # validates every record it gives


def test_any_value_inside_an_sns_message_never_raises(parse, mutations) -> None:
    envelope = load("synthetic-sns-envelope.json")
    for _, mutated in mutations(json.loads(envelope["Message"])):
        parse(SesAdapter(), dumps(dict(envelope, Message=json.dumps(mutated))))


def test_sniff(samples) -> None:
    adapter = SesAdapter()
    for name, paths in samples.items():
        for path in paths:
            assert adapter.sniff(path.read_bytes()[:65536], path.name) is (name == "ses"), path
