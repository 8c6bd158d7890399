"""Twilio message log CSV exports: both header styles, channels, prices, dates, bad rows."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from abusedesk.events.adapters.base import Limits
from abusedesk.events.adapters.twilio_csv import TwilioCsvAdapter

HERE = Path(__file__).parent / "fixtures" / "twilio"
API = HERE / "api-export.csv"
CONSOLE = HERE / "console-export.csv"
ACCOUNT = "AC0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SERVICE = "MG9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
HEADER = b"sid,account_sid,from,to,body,status,direction,num_segments,price,price_unit,date_sent"


def row(*cells: str) -> bytes:
    return ",".join(cells).encode()


def good(sid: str = "SM1", status: str = "delivered") -> bytes:
    cells = (sid, "AC1", "+15005550006", "+37122345678", "hi", status, "outbound-api", "1")
    return row(*cells, "-0.0075", "USD", "2026-03-01T12:00:00Z")


def csv(*rows: bytes) -> bytes:
    return b"\n".join((HEADER, *rows)) + b"\n"


def test_api_export_golden(parse) -> None:
    parsed = parse(TwilioCsvAdapter(), API.read_bytes())
    assert parsed.rejected == []
    message, delivery = parsed.events[:2]
    assert message == {
        "id": "twilio:SM1f0e3a9c8b7d6e5f4a3b2c1d0e9f8a7b:message",
        "type": "message",
        "ts": "2026-03-01T12:00:01Z",
        "account_id": ACCOUNT,
        "message_id": "SM1f0e3a9c8b7d6e5f4a3b2c1d0e9f8a7b",
        "channel": "sms",
        "from": "+15005550006",
        "to": "+37122345678",
        "direction": "outbound",
        "body": "Your code is 482913",
        "campaign_id": SERVICE,
        "segments": 1,
        "num_media": 0,
        "price": 0.0075,
        "twilio_status": "delivered",
        "api_version": "2010-04-01",
        "tags": "otp",  # a column that is not Twilio's is kept as it is named
    }
    assert delivery == {
        "id": "twilio:SM1f0e3a9c8b7d6e5f4a3b2c1d0e9f8a7b:delivery:delivered",
        "type": "delivery",
        "ts": "2026-03-01T12:00:04Z",  # date_updated: when the status was reached
        "account_id": ACCOUNT,
        "message_id": "SM1f0e3a9c8b7d6e5f4a3b2c1d0e9f8a7b",
        "status": "delivered",
        "recipient": "+37122345678",
    }


def test_api_export_rows(parse) -> None:
    parsed = parse(TwilioCsvAdapter(), API.read_bytes())
    got = [
        (r.where.line, e["type"], e.get("channel"), e.get("status"))
        for r, e in zip(parsed.records, parsed.events, strict=True)
    ]
    assert got == [
        (2, "message", "sms", None),
        (2, "delivery", None, "delivered"),
        (3, "message", "sms", None),  # three lines long: the row starts on line 3
        (3, "delivery", None, "undelivered"),
        (6, "message", "mms", None),
        (6, "delivery", None, "sent"),
        (7, "message", "whatsapp", None),
        (7, "delivery", None, "delivered"),  # read counts as delivered
        (8, "message", "sms", None),  # inbound "received": no delivery event
        (9, "message", "sms", None),  # "queued" is not final
    ]
    events = parsed.events
    assert events[2]["body"] == "WIN a FREE phone!\nClaim: https://bit.example/x\nReply STOP to end"
    assert (events[3]["error_code"], events[3]["error_message"]) == ("30007", "Message filtered")
    assert (events[6]["from"], events[6]["to"]) == ("+14155238886", "+4915112345678")
    assert (events[6]["price_local"], events[6]["price_unit"], "price" in events[6]) == (
        0.005,
        "EUR",
        False,
    )
    assert events[8]["direction"] == "inbound"
    assert events[9]["ts"] == "2026-03-01T11:06:00Z"  # +01:00 in the file
    assert events[8]["ts"] == "2026-03-01T12:05:00Z"  # no zone: UTC


def test_console_export_with_bom_and_camel_case_headers(parse) -> None:
    parsed = parse(TwilioCsvAdapter(), CONSOLE.read_bytes())
    assert parsed.rejected == []
    failed, failed_delivery, _, delivered = parsed.events
    assert failed["ts"] == "2026-03-02T13:00:00Z"
    assert failed["campaign_id"] == SERVICE
    assert "price" not in failed
    assert failed_delivery == {
        "id": "twilio:SM7f0e3a9c8b7d6e5f4a3b2c1d0e9f8a81:delivery:failed",
        "type": "delivery",
        "ts": "2026-03-02T13:00:00Z",
        "account_id": ACCOUNT,
        "message_id": "SM7f0e3a9c8b7d6e5f4a3b2c1d0e9f8a81",
        "status": "failed",
        "recipient": "+12125550123",
        "error_code": "30034",
    }
    assert "error_code" not in delivered  # "0" is no error


@pytest.mark.parametrize(
    "header",
    [
        b"Sid,Account Sid,From,To,Date Sent",
        b"SID,ACCOUNT_SID,FROM,TO,DATE-SENT",
        b"MessageSid,AccountSid,From,To,SentDate",
    ],
)
def test_headers_match_ignoring_case_spaces_underscores(parse, header: bytes) -> None:
    data = header + b"\nSM1,AC1,+1500,+3712,2026-03-01 12:00:00\n"
    (event,) = parse(TwilioCsvAdapter(), data).events
    assert (event["message_id"], event["account_id"], event["ts"]) == (
        "SM1",
        "AC1",
        "2026-03-01T12:00:00Z",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("delivered", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("sent", "sent"),
        ("read", "delivered"),
        ("canceled", "failed"),
        ("Delivered", "delivered"),
    ],
)
def test_final_statuses_give_a_delivery(parse, status: str, expected: str) -> None:
    events = parse(TwilioCsvAdapter(), csv(good(status=status))).events
    assert [e.get("status") for e in events] == [None, expected]


@pytest.mark.parametrize(
    "status", ["queued", "sending", "accepted", "scheduled", "receiving", "received", ""]
)
def test_other_statuses_give_only_the_message(parse, status: str) -> None:
    assert [e["type"] for e in parse(TwilioCsvAdapter(), csv(good(status=status))).events] == [
        "message"
    ]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (
            good().replace(b"2026-03-01T12:00:00Z", b"yesterday"),
            "line 3: column 'date_sent' is not a date: 'yesterday'",
        ),
        (good().replace(b"-0.0075", b"cheap"), "line 3: column 'price' is not a number: 'cheap'"),
        (good().replace(b"-0.0075", b"nan"), "line 3: column 'price' is not a number: 'nan'"),
        (
            good().replace(b"outbound-api,1", b"outbound-api,two"),
            "line 3: column 'num_segments' is not a whole number: 'two'",
        ),
        (
            good().replace(b"outbound-api", b"sideways"),
            "line 3: column 'direction' is 'sideways'; expected inbound or outbound-*",
        ),
        (good().replace(b"SM1,AC1", b",AC1"), "line 3: column 'sid' is empty"),
        (good().replace(b"AC1,", b","), "line 3: column 'account_sid' is empty"),
        (
            good().replace(b",2026-03-01T12:00:00Z", b","),
            "line 3: no date: the date columns are empty",
        ),
        (good() + b",extra", "line 3: the row has 12 columns; the header has 11"),
        (b"SM9,AC1", "line 3: the row has 2 columns; the header has 11"),
        (good().replace(b"hi", b"h\xffi"), "line 3 is not UTF-8 (byte 36)"),
    ],
)
def test_bad_rows_are_rejected_and_the_rest_goes_in(parse, bad: bytes, reason: str) -> None:
    parsed = parse(TwilioCsvAdapter(), csv(good("SM1"), bad, good("SM2")))
    assert [(r.where.line, r.reason) for r in parsed.rejected] == [(3, reason)]
    assert [
        (r.where.line, e["message_id"]) for r, e in zip(parsed.records, parsed.events, strict=True)
    ] == [
        (2, "SM1"),
        (2, "SM1"),
        (4, "SM2"),
        (4, "SM2"),
    ]


def test_bad_utf8_inside_a_multi_line_body_rejects_the_row_at_its_start(parse) -> None:
    bad = good("SM9").replace(b"hi", b'"one\ntw\xc3o\nthree"')
    parsed = parse(TwilioCsvAdapter(), csv(good("SM1"), bad, good("SM2")))
    assert [(r.where.line, r.reason) for r in parsed.rejected] == [
        (3, "line 3: line 4 of the row is not UTF-8 (byte 3)")
    ]
    assert [r.where.line for r in parsed.records] == [2, 2, 6, 6]


def test_a_line_over_the_limit_is_rejected_without_being_kept(parse) -> None:
    long = good("SM9").replace(b"hi", b"x" * 5000)
    parsed = parse(
        TwilioCsvAdapter(), csv(good("SM1"), long, good("SM2")), Limits(max_line_bytes=500)
    )
    assert [(r.where.line, r.reason) for r in parsed.rejected] == [
        (3, "line 3 is longer than 500 bytes")
    ]
    assert len(parsed.rejected[0].excerpt) <= 200
    assert [r.where.line for r in parsed.records] == [2, 2, 4, 4]


def test_an_unclosed_quote_costs_one_row(parse) -> None:
    stray = good("SM9").replace(b"hi", b'"never closed')
    rows = [good(f"SM{n}") for n in range(10, 20)]
    parsed = parse(TwilioCsvAdapter(), csv(good("SM1"), stray, *rows), Limits(max_line_bytes=300))
    (rejected,) = parsed.rejected
    assert rejected.where.line == 3
    assert "longer than 300 bytes (an unclosed quote?)" in rejected.reason
    assert {e["message_id"] for e in parsed.events} == {"SM1", *(f"SM{n}" for n in range(10, 20))}


def test_an_unclosed_quote_at_the_end_costs_one_row(parse) -> None:
    stray = good("SM9").replace(b"hi", b'"never closed')
    parsed = parse(TwilioCsvAdapter(), csv(good("SM1"), stray, good("SM2")))
    (rejected,) = parsed.rejected
    assert (
        rejected.reason
        == "line 3: the row has 5 columns; the header has 11 (a quote joined lines 3-4)"
    )
    assert [
        (r.where.line, e["message_id"]) for r, e in zip(parsed.records, parsed.events, strict=True)
    ] == [
        (2, "SM1"),
        (2, "SM1"),
        (4, "SM2"),
        (4, "SM2"),
    ]


def test_a_stray_quote_closed_by_a_later_one_costs_the_rows_between(parse) -> None:
    # A known limit of CSV: the two quotes make one quoted field of the lines between them.
    # When the joined row has the wrong number of columns, its lines are read again on their
    # own; the first row is the only loss.
    stray = good("SM9").replace(b"hi", b'"oops')
    closer = b'"' + b",x" * 3
    parsed = parse(TwilioCsvAdapter(), csv(good("SM1"), stray, good("SM2"), closer, good("SM3")))
    assert [r.where.line for r in parsed.rejected] == [3, 5]
    assert {e["message_id"] for e in parsed.events} == {"SM1", "SM2", "SM3"}


def test_a_body_over_the_csv_field_limit_costs_one_row(parse) -> None:
    big = good("SM9").replace(b"hi", b'"' + b"word\n" * 40_000)
    parsed = parse(TwilioCsvAdapter(), csv(good("SM1"), big, good("SM2")))
    assert [r.where.line for r in parsed.rejected][:1] == [3]
    assert {"SM1", "SM2"} <= {e["message_id"] for e in parsed.events}


def test_files_that_are_not_a_message_log(parse) -> None:
    assert parse(TwilioCsvAdapter(), b"").items == []
    assert parse(TwilioCsvAdapter(), b"\n\n").items == []
    assert parse(TwilioCsvAdapter(), HEADER + b"\n").items == []
    (rejected,) = parse(TwilioCsvAdapter(), b"name,email\nann,a@b\n").rejected
    assert (
        rejected.reason
        == "line 1: the header has no 'sid' or 'account_sid' or 'from' or 'to' column"
    )
    (rejected,) = parse(TwilioCsvAdapter(), b"sid,account_sid,from,to\nSM1,AC1,a,b\n").rejected
    assert "the header has no date" in rejected.reason
    (rejected,) = parse(TwilioCsvAdapter(), b'{"a": 1}\n').rejected
    assert rejected.where.line == 1
    (rejected,) = parse(TwilioCsvAdapter(), b"s\xffid,from\n").rejected
    assert rejected.reason == "line 1 is not UTF-8 (byte 2)"


def test_a_column_named_like_an_event_field_does_not_overwrite_it(parse) -> None:
    data = HEADER + b",channel,id\n" + good() + b",fax,evil\n"
    message = parse(TwilioCsvAdapter(), data).events[0]
    assert (message["channel"], message["twilio_channel"]) == ("sms", "fax")
    assert (message["id"], message["twilio_id"]) == ("twilio:SM1:message", "evil")


def test_ids_are_deterministic_and_unique(parse) -> None:
    for path in (API, CONSOLE):
        first, second = (
            parse(TwilioCsvAdapter(), path.read_bytes()),
            parse(TwilioCsvAdapter(), path.read_bytes()),
        )
        assert first.ids == second.ids
        assert len(set(first.ids)) == len(first.ids)
        assert all(i.startswith("twilio:") for i in first.ids)


def test_corrupted_bytes_never_raise(parse) -> None:
    rng = random.Random(20260301)
    original = API.read_bytes()
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.choice(b'\x00\xff",\n\r:-+0aZ ')
        parse(TwilioCsvAdapter(), bytes(data), Limits(max_line_bytes=rng.choice([80, 400, 10_000])))


def test_sniff(samples) -> None:
    adapter = TwilioCsvAdapter()
    for name, paths in samples.items():
        for path in paths:
            assert adapter.sniff(path.read_bytes()[:65536], path.name) is (name == "twilio-csv"), (
                path
            )
