"""ARF feedback reports (RFC 5965) to complaint events, and the bounds that keep hostile mail safe.

Well-formed reports live in fixtures/arf/; hostile inputs are generated here so that the repository
holds no megabyte-sized files.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abusedesk.events.adapters.arf import ArfAdapter
from abusedesk.events.adapters.base import Adapter, Item, Limits, Location, Record, Rejected
from abusedesk.events.schema import validate_event

FIXTURES = Path(__file__).parent / "fixtures" / "arf"
SAMPLE = (FIXTURES / "rfc5965_sample.eml").read_bytes()
ADAPTER = ArfAdapter()


def parse(data: bytes, limits: Limits | None = None, source: str = "t.eml") -> list[Item]:
    return list(ADAPTER.parse(io.BytesIO(data), source, limits or Limits()))


def check_valid(record: Record) -> None:
    """Every record is canonical: with its account as is, else its fallback as is and its raw
    complaint once an account is filled in (what the pipeline does when it resolves one)."""
    if "account_id" in record.raw:
        assert record.fallback is None
        validate_event(record.raw)
    else:
        assert record.fallback is not None
        validate_event(record.fallback)
        validate_event({**record.raw, "account_id": "probe"})
        assert record.raw["type"] in ("complaint", "opt_out")
    # The pipeline writes JSON; lone surrogates or NUL bytes would break it or Postgres later.
    for event in (record.raw, record.fallback):
        text = json.dumps(event, ensure_ascii=False)
        text.encode("utf-8")
        assert "\x00" not in text


def one_record(data: bytes, limits: Limits | None = None) -> Record:
    items = parse(data, limits)
    assert len(items) == 1
    record = items[0]
    assert isinstance(record, Record), record
    check_valid(record)
    return record


def one_rejected(data: bytes, limits: Limits | None = None) -> Rejected:
    items = parse(data, limits)
    assert len(items) == 1
    rejected = items[0]
    assert isinstance(rejected, Rejected), rejected
    # The last-resort guard must never be what handled a known hostile shape.
    assert "unparseable" not in rejected.reason
    return rejected


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def with_fields(*lines: str, drop: tuple[str, ...] = ()) -> bytes:
    """The RFC sample with feedback-report fields removed (`drop`) and `lines` added."""
    head, rest = SAMPLE.split(b"Feedback-Type: abuse\n", 1)
    kept = [
        line
        for line in rest.split(b"\n")
        if not any(line.lower().startswith(name.lower().encode()) for name in drop)
    ]
    extra = "".join(line + "\n" for line in lines).encode()
    if not any(name.lower() == "feedback-type" for name in drop):
        extra = b"Feedback-Type: abuse\n" + extra
    return head + extra + b"\n".join(kept)


def with_original_headers(*lines: str) -> bytes:
    extra = "".join(line + "\n" for line in lines).encode()
    return SAMPLE.replace(b"Subject: Earn money\n", b"Subject: Earn money\n" + extra)


def separator_lines(data: bytes) -> list[int]:
    return [n + 1 for n, line in enumerate(data.split(b"\n")) if line.startswith(b"From ")]


def mbox(*messages: bytes) -> bytes:
    return b"".join(
        b"From MAILER-DAEMON Thu Mar  5 12:00:00 2026\n" + message.rstrip(b"\n") + b"\n\n"
        for message in messages
    )


# --- well-formed reports ---------------------------------------------------------------------


def test_rfc5965_sample_becomes_one_complaint_with_a_fallback_report() -> None:
    record = one_record(SAMPLE)
    raw = record.raw
    assert record.where == Location("t.eml", line=1)
    assert raw["id"].startswith("arf:")
    assert len(raw["id"]) == 36
    assert raw["type"] == "complaint"
    assert raw["ts"] == "2005-03-08T18:00:00Z"  # Arrival-Date, 14:00 EDT
    assert raw["source"] == "fbl"
    assert raw["feedback_type"] == "abuse"
    assert raw["recipient"] == "user@example.com"
    assert raw["message_id"] == "8787KJKJ3K4J3K4J3K4J3.mail@example.net"
    assert raw["user_agent"] == "SomeGenerator/1.0"
    assert raw["reporting_mta"] == "mail.example.com"
    assert raw["source_ip"] == "192.0.2.1"
    assert raw["original_mail_from"] == "somespammer@example.net"
    assert raw["reported_domain"] == ["example.net"]
    assert raw["reported_uri"] == ["http://example.net/earn_money.html"]
    assert raw["original_subject"] == "Earn money"
    assert raw["authentication_results"] == [
        "mail.example.com; spf=fail smtp.mail=somespammer@example.com"
    ]
    assert "account_id" not in raw
    # The fallback report keeps every field of the complaint as evidence (issue 15).
    evidence = {k: v for k, v in raw.items() if k not in ("id", "type", "ts")}
    assert record.fallback == evidence | {
        "id": raw["id"],
        "type": "report",
        "ts": raw["ts"],
        "report_id": raw["id"],
        "reporter": "third_party",
        "category": "spam",
        "target": "somespammer@example.net",
        "description": "ARF abuse report from SomeGenerator/1.0 via mail.example.com",
        "evidence": ["Earn money", "http://example.net/earn_money.html"],
    }


def test_yahoo_style_report_with_its_deviations_parses() -> None:
    raw = one_record(fixture("yahoo.eml")).raw
    assert raw["ts"] == "2026-03-02T10:58:02Z"  # from Received-Date
    assert raw["feedback_type"] == "abuse"  # lower-case field names, Version 0.1
    assert raw["user_agent"] == "Yahoo!-Mail-Feedback/2.0"
    assert raw["recipient"] == "xxxxxxxxxx@yahoo.com"
    assert raw["recipient_redacted"] is True
    assert raw["authentication_results"] == ["authentication result string is not available"]
    assert raw["message_id"] == "0100018e0a1b2c3d-4e5f@email.example.org"  # text/rfc822-headers
    assert raw["original_subject"] == "Last chance: 50% off"  # RFC 2047 decoded
    # X-Abusedesk-Account comes before Feedback-ID, which names another customer here.
    assert raw["account_id"] == "AC7f3e21"
    assert raw["feedback_id"] == "spring:ACsomeoneelse:pool2:abusedesk"


def test_four_field_feedback_id_names_the_customer() -> None:
    raw = one_record(fixture("feedback_id.eml")).raw
    assert raw["account_id"] == "AC42beef"
    assert raw["ts"] == "2026-03-03T12:59:10Z"
    assert raw["incidents"] == 3
    assert raw["message_id"] == "SM8c2e9f1a@send.example.org"


def test_without_an_account_the_record_carries_message_id_and_a_fallback_report() -> None:
    record = one_record(fixture("no_account.eml"))
    assert "account_id" not in record.raw  # a 3-field Feedback-ID names no customer
    assert record.raw["message_id"] == "0100018e1f2a3b4c-77aa@email.example.org"
    assert record.raw["feedback_type"] == "fraud"
    assert record.fallback is not None
    assert record.fallback["category"] == "fraud"
    assert record.fallback["target"] == "billing@paypa1.example.com"
    assert record.fallback["evidence"] == [
        "Your account is on hold",
        "http://paypa1.example.com/login",
        "http://paypa1.example.com/verify",
    ]


def test_auth_failure_report_keeps_rfc6591_fields() -> None:
    raw = one_record(fixture("auth_failure.eml")).raw
    assert raw["feedback_type"] == "auth-failure"
    assert raw["auth_failure"] == "signature"
    assert raw["dkim_domain"] == "example.org"
    assert raw["dkim_selector"] == "s2026"
    assert raw["delivery_result"] == "reject"
    assert raw["account_id"] == "AC0ffee1"  # X-Account-Id
    assert "dkim_canonicalized_header" not in raw


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_yields_canonical_events(name: str) -> None:
    one_record(fixture(name))


def test_same_report_twice_has_the_same_id_and_report_message_id_decides_it() -> None:
    report = with_original_headers().replace(
        b"Subject: FW: Earn money\n", b"Subject: FW: Earn money\nMessage-ID: <r1@example.com>\n"
    )
    first = one_record(report).raw["id"]
    assert one_record(report).raw["id"] == first
    # Re-exported with other transport headers: still the same report.
    assert one_record(b"Received: by relay.example\n" + report).raw["id"] == first
    assert one_record(SAMPLE).raw["id"] != first


# --- leniency --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "raw_kept"),
    [
        ("abuse", "abuse", None),
        ("ABUSE", "abuse", None),
        ("not-spam", "not-spam", None),
        ("auth-failure", "auth-failure", None),
        ("virus", "virus", None),
        ("Complaint", "other", "Complaint"),
    ],
)
def test_feedback_type_mapping(value: str, expected: str, raw_kept: str | None) -> None:
    raw = one_record(with_fields(f"Feedback-Type: {value}", drop=("feedback-type",))).raw
    assert raw["feedback_type"] == expected
    assert raw.get("feedback_type_raw") == raw_kept


def test_opt_out_feedback_is_an_unsubscribe_not_spam() -> None:
    record = one_record(with_fields("Feedback-Type: opt-out", drop=("feedback-type",)))
    assert record.raw["type"] == "opt_out"
    assert record.raw["keyword"] == "opt-out"
    assert record.raw["recipient"] == "user@example.com"
    assert record.fallback is not None
    assert record.fallback["category"] == "other"
    assert record.fallback["feedback_type"] == "opt-out"


@pytest.mark.parametrize(
    ("feedback_type", "category"),
    [("abuse", "spam"), ("fraud", "fraud"), ("virus", "other"), ("not-spam", "other")],
)
def test_fallback_category(feedback_type: str, category: str) -> None:
    data = with_fields(f"Feedback-Type: {feedback_type}", drop=("feedback-type",))
    fallback = one_record(data).fallback
    assert fallback is not None
    assert fallback["category"] == category


def test_missing_version_and_case_insensitive_names_and_types() -> None:
    data = (
        with_fields(drop=("version",))
        .replace(b"Content-Type: message/feedback-report", b"content-type: MESSAGE/Feedback-Report")
        .replace(b"Arrival-Date:", b"ARRIVAL-DATE:")
    )
    raw = one_record(data).raw
    assert raw["ts"] == "2005-03-08T18:00:00Z"
    assert raw["recipient"] == "user@example.com"


def test_report_not_at_top_level_is_found_when_forwarded() -> None:
    forwarded = (
        b"From: analyst@example.org\nSubject: Fwd: FW: Earn money\n"
        b"Content-Type: multipart/mixed; boundary=outer\n\n"
        b"--outer\nContent-Type: text/plain\n\nSee attached.\n"
        b"--outer\nContent-Type: message/rfc822\n\n" + SAMPLE + b"\n--outer--\n"
    )
    raw = one_record(forwarded).raw
    assert raw["message_id"] == "8787KJKJ3K4J3K4J3K4J3.mail@example.net"
    assert raw["ts"] == "2005-03-08T18:00:00Z"


def test_fully_redacted_recipient_is_left_out_but_flagged() -> None:
    raw = one_record(with_fields("Original-Rcpt-To: redacted", drop=("original-rcpt-to",))).raw
    assert "recipient" not in raw
    assert raw["recipient_redacted"] is True


def test_real_looking_recipient_is_not_flagged() -> None:
    raw = one_record(SAMPLE).raw
    assert "recipient_redacted" not in raw


def test_blank_line_inside_the_feedback_fields_is_skipped() -> None:
    raw = one_record(SAMPLE.replace(b"Source-IP: 192.0.2.1\n", b"\nSource-IP: 192.0.2.1\n")).raw
    assert raw["source_ip"] == "192.0.2.1"
    assert raw["reported_domain"] == ["example.net"]


def test_account_headers_are_tried_in_order() -> None:
    both = with_original_headers("X-Account-Id: ACsecond", "Feedback-ID: c:ACthird:p:esp")
    assert one_record(both).raw["account_id"] == "ACsecond"
    first = with_original_headers(
        "Feedback-ID: c:ACthird:p:esp", "X-Account-Id: ACsecond", "X-Abusedesk-Account: ACfirst"
    )
    assert one_record(first).raw["account_id"] == "ACfirst"


def test_a_forged_second_account_header_is_not_trusted() -> None:
    data = with_original_headers(
        "X-Abusedesk-Account: ACvictim", "X-Abusedesk-Account: ACsender", "Feedback-ID: c:ACf:p:e"
    )
    raw = one_record(data).raw
    assert raw["account_id"] == "ACf"
    assert raw["account_header_conflict"] == "x-abusedesk-account"


def test_account_header_with_garbage_is_ignored() -> None:
    record = one_record(with_original_headers("X-Abusedesk-Account: not an id"))
    assert "account_id" not in record.raw
    assert record.fallback is not None


def test_anti_spam_org_reporter() -> None:
    data = with_fields("User-Agent: SpamCop/4.2", drop=("user-agent",))
    fallback = one_record(data).fallback
    assert fallback is not None
    assert fallback["reporter"] == "anti_spam_org"


def test_evidence_is_bounded() -> None:
    uris = [f"Reported-Uri: http://example.net/{i}/{'a' * 900}" for i in range(40)]
    fallback = one_record(with_fields(*uris, drop=("reported-uri",))).fallback
    assert fallback is not None
    assert len(fallback["evidence"]) == 20
    assert all(len(item) <= 500 for item in fallback["evidence"])


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arrival",
    ["Arrival-Date: yesterday", "Arrival-Date: Thu, 8 Mar 2005 14:00:00 -0000", None],
)
def test_unusable_arrival_date_falls_back_to_the_report_date(arrival: str | None) -> None:
    data = with_fields(*([arrival] if arrival else []), drop=("arrival-date",))
    assert one_record(data).raw["ts"] == "2005-03-08T21:40:36Z"  # Date: 17:40:36 EDT


def test_no_usable_date_at_all_is_rejected() -> None:
    data = with_fields("Arrival-Date: soon", drop=("arrival-date",)).replace(
        b"Date: Thu, 8 Mar 2005 17:40:36 EDT\n", b"Date: whenever\n"
    )
    assert one_rejected(data).reason.startswith("no usable date")


def test_received_date_is_arrival_date() -> None:
    data = with_fields("Received-Date: Fri, 06 Mar 2026 10:00:00 +0200", drop=("arrival-date",))
    assert one_record(data).raw["ts"] == "2026-03-06T08:00:00Z"


def test_not_an_arf_report_is_rejected() -> None:
    plain = b"From: a@example.com\nSubject: hello\nContent-Type: text/plain\n\nhi\n"
    rejected = one_rejected(plain)
    assert rejected.reason == "not an ARF report: no message/feedback-report part"
    assert rejected.where == Location("t.eml", line=1)
    assert "hello" in rejected.excerpt


# --- mbox ------------------------------------------------------------------------------------


def test_mbox_with_a_garbage_message_in_the_middle() -> None:
    data = mbox(
        fixture("yahoo.eml"), b"Subject: junk\n\nnot a report\n", fixture("feedback_id.eml")
    )
    items = parse(data, source="fbl.mbox")
    assert [type(item) for item in items] == [Record, Rejected, Record]
    separators = separator_lines(data)
    assert [item.where for item in items] == [
        Location("fbl.mbox", line=separators[0], item=1),
        Location("fbl.mbox", line=separators[1], item=2),
        Location("fbl.mbox", line=separators[2], item=3),
    ]
    rejected = items[1]
    assert isinstance(rejected, Rejected)
    assert rejected.reason.startswith("not an ARF report")
    assert isinstance(items[0], Record)
    assert items[0].raw["account_id"] == "AC7f3e21"
    assert isinstance(items[2], Record)
    assert items[2].raw["account_id"] == "AC42beef"


def test_quoted_from_lines_do_not_split_and_are_unquoted() -> None:
    body = b"Spam Spam Spam\nFrom here on, it is all spam.\n>From the quoted line too.\n"
    report = SAMPLE.replace(b"Spam Spam Spam\n", body)
    quoted = report.replace(b"\nFrom here", b"\n>From here").replace(
        b"\n>From the", b"\n>>From the"
    )
    items = parse(mbox(quoted, quoted))
    assert len(items) == 2
    first = items[0]
    assert isinstance(first, Record)
    assert isinstance(items[1], Record)
    # No Message-ID on the report, so the id hashes the bytes: equal only if unquoted exactly.
    single = one_record(report.rstrip(b"\n") + b"\n\n")
    assert first.raw["id"] == single.raw["id"]


def test_mbox_with_crlf_line_endings() -> None:
    data = mbox(SAMPLE, fixture("yahoo.eml")).replace(b"\n", b"\r\n")
    items = parse(data)
    assert [type(item) for item in items] == [Record, Record]
    for item in items:
        assert isinstance(item, Record)
        check_valid(item)


def test_oversize_message_is_rejected_and_the_next_one_still_parses() -> None:
    limits = Limits(max_message_bytes=4_000)
    big = SAMPLE.replace(b"Spam Spam Spam", b"Spam " * 2_000)
    data = mbox(SAMPLE, big, fixture("yahoo.eml"))
    items = parse(data, limits)
    assert [type(item) for item in items] == [Record, Rejected, Record]
    rejected = items[1]
    assert isinstance(rejected, Rejected)
    assert rejected.where.item == 2
    assert rejected.where.line == separator_lines(data)[1]
    assert "larger than 4000 bytes" in rejected.reason
    assert rejected.excerpt.startswith("From: <abusedesk@example.com>")


class Generated(io.RawIOBase):
    """A stream made up as it is read, so a test can feed more than anyone should hold."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            self._pending = next(self._pieces, b"")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def test_oversize_mbox_message_is_never_held_in_memory() -> None:
    line = b"spam " * 200 + b"\n"
    pieces = itertools.chain(
        [b"From a Thu\n", SAMPLE.replace(b"Spam Spam Spam\n", b"")],
        itertools.repeat(line, 30_000),  # 30 MB of original message body
        [b"\nFrom b Fri\n", SAMPLE],
    )
    stream = io.BufferedReader(Generated(pieces))
    tracemalloc.start()
    try:
        items = list(ADAPTER.parse(stream, "big.mbox", Limits(max_message_bytes=1_000_000)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [type(item) for item in items] == [Rejected, Record]
    assert peak < 5_000_000


def test_oversize_single_message_is_rejected() -> None:
    rejected = one_rejected(SAMPLE, Limits(max_message_bytes=500))
    assert "max_message_bytes" in rejected.reason
    assert rejected.where == Location("t.eml", line=1)


def test_mbox_with_a_separator_line_longer_than_a_read() -> None:
    data = b"From " + b"x" * 200_000 + b"\n" + SAMPLE
    items = parse(data)
    assert len(items) == 1
    assert isinstance(items[0], Record)


def test_empty_mbox_message_is_rejected() -> None:
    items = parse(b"From a Thu\nFrom b Fri\n" + SAMPLE)
    assert isinstance(items[0], Rejected)
    assert items[0].reason == "empty message"
    assert isinstance(items[1], Record)


# --- hostile input ---------------------------------------------------------------------------


def test_mime_bomb_of_sibling_parts_is_rejected_at_the_part_limit() -> None:
    parts = b"".join(b"--B\nContent-Type: text/plain\n\nx\n" for _ in range(10_000))
    data = b"Content-Type: multipart/mixed; boundary=B\n\n" + parts + b"--B--\n"
    rejected = one_rejected(data)
    assert rejected.reason == "more than 100 MIME parts (max_mime_parts)"


def test_parts_of_the_attached_original_do_not_count() -> None:
    spam_parts = b"".join(b"--S\nContent-Type: text/plain\n\nspam\n" for _ in range(500))
    original = (
        b"Content-Type: message/rfc822\n\nMessage-ID: <m@example.net>\n"
        b"Content-Type: multipart/mixed; boundary=S\n\n" + spam_parts + b"--S--\n"
    )
    data = SAMPLE.replace(
        SAMPLE[SAMPLE.index(b"Content-Type: message/rfc822") : SAMPLE.rindex(b"\n--part1")],
        original,
    )
    assert one_record(data).raw["message_id"] == "m@example.net"


def test_deeply_nested_multiparts_are_rejected() -> None:
    levels = range(10_000)
    opening = (b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (n, n) for n in levels)
    closing = (b"\n--b%d--\n" % n for n in reversed(levels))
    data = b"".join(opening) + b"x" + b"".join(closing)
    assert "nesting deeper than 8" in one_rejected(data).reason


def test_message_inside_message_a_thousand_times_is_rejected_without_recursion() -> None:
    data = SAMPLE
    for _ in range(1_000):
        data = b"Content-Type: message/rfc822\n\n" + data
    assert "nesting deeper than 8" in one_rejected(data).reason


def test_invalid_base64_in_the_parts_we_read() -> None:
    data = SAMPLE.replace(
        b"Content-Type: message/feedback-report\n",
        b"Content-Type: message/feedback-report\nContent-Transfer-Encoding: base64\n",
    ).replace(
        b"Content-Type: message/rfc822\n",
        b"Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: base64\n",
    )
    raw = one_record(data).raw
    assert raw["feedback_type"] == "other"  # the fields decoded to nothing usable
    assert raw["ts"] == "2005-03-08T21:40:36Z"


def test_valid_base64_feedback_fields_are_decoded() -> None:
    fields = SAMPLE.split(b"message/feedback-report\n\n")[1].split(b"\n--part1")[0]
    data = SAMPLE.replace(fields, base64.encodebytes(fields)).replace(
        b"Content-Type: message/feedback-report\n",
        b"Content-Type: message/feedback-report\nContent-Transfer-Encoding: BASE64\n",
    )
    assert one_record(data).raw["recipient"] == "user@example.com"


def test_unknown_charsets_degrade_to_replacement_text() -> None:
    data = SAMPLE.replace(b'charset="US-ASCII"', b'charset="x-bogus"').replace(
        b"Subject: Earn money",
        b"Subject: =?x-bogus?q?Earn_money?= =?utf-8?b?!!!not*base64?= =?unicode_escape?q?\\ud800?="
        b" =?idna?q?xn--=FF?= =?zlib_codec?b?eJzLSM3JyQcABiwCFQ==?=",
    )
    raw = one_record(data).raw
    assert raw["original_subject"].startswith("Earn money")


def test_eight_bit_garbage_in_headers() -> None:
    data = SAMPLE.replace(b"Subject: Earn money", b"Subject: Earn \xff\xfe\x80 money\x00\x1b")
    data = data.replace(
        b"User-Agent: SomeGenerator/1.0", b"User-Agent: Some\xc3\x28Gen\xed\xa0\x80"
    )
    data = data.replace(b"MIME-Version", b"X-Junk: \xff\xfe\x00\x80\nMIME-Version")
    data = data.replace(b"Content-Disposition: inline", b"Content-Disposition: \xffinline\x81")
    raw = one_record(data).raw
    assert raw["original_subject"].startswith("Earn \ufffd")
    assert raw["user_agent"].startswith("Some\ufffd(Gen")


@pytest.mark.parametrize("where", [b"Subject: FW", b"Subject: Earn money", b"Source-IP"])
def test_a_one_megabyte_header_line_is_dropped_and_the_rest_parses(where: bytes) -> None:
    data = SAMPLE.replace(where, b"X-Junk: " + b"a" * 1_048_576 + b"\n" + where, 1)
    raw = one_record(data).raw
    assert raw["message_id"] == "8787KJKJ3K4J3K4J3K4J3.mail@example.net"
    assert raw["source_ip"] == "192.0.2.1"
    assert not any("aaaa" in str(value) for value in raw.values())


def test_message_cut_in_the_middle_of_a_boundary() -> None:
    cut = SAMPLE.index(b"--part1_13d.2e68ed54_boundary\nContent-Type: message/rfc822") + 12
    raw = one_record(SAMPLE[:cut]).raw
    assert raw["feedback_type"] == "abuse"
    assert "message_id" not in raw


def test_every_truncation_of_the_sample_is_handled() -> None:
    for cut in range(len(SAMPLE)):
        for item in parse(SAMPLE[:cut]):
            if isinstance(item, Rejected):
                assert "unparseable" not in item.reason, cut
            else:
                check_valid(item)


def test_empty_input_is_rejected() -> None:
    assert one_rejected(b"").reason == "empty message"
    assert one_rejected(b"\r\n\n  \n").reason == "empty message"


def test_binary_junk_is_rejected() -> None:
    junk = random.Random(5965).randbytes(200_000)
    assert one_rejected(junk).reason.startswith("not an ARF report")


def _mutations() -> st.SearchStrategy[bytes]:
    """Bytes that often look like ARF: the sample with random slices replaced or repeated."""

    def mutate(cuts: list[tuple[int, int, bytes]]) -> bytes:
        data = SAMPLE
        for offset, length, insert in cuts:
            start = offset % (len(data) + 1)
            data = data[:start] + insert + data[start + length :]
        return data

    edit = st.tuples(
        st.integers(0, len(SAMPLE)),
        st.integers(0, 40),
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from(
                [b"\n\n", b"--part1_13d.2e68ed54_boundary\n", b"Content-Type: message/rfc822\n\n"]
            ),
        ),
    )
    return st.lists(edit, min_size=1, max_size=6).map(mutate)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=2_000), _mutations()))
def test_arbitrary_input_never_raises(data: bytes) -> None:
    for item in parse(data) + parse(b"From x\n" + data):
        if isinstance(item, Rejected):
            assert "unparseable" not in item.reason
        else:
            check_valid(item)


# --- sniffing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (b"", "fbl.EML", True),
        (b"", "2026-03.mbox", True),
        (b"", "report.arf", True),
        (SAMPLE, "upload.bin", True),
        (b"Content-Type: Multipart/Report; report-type=Feedback-Report", "x", True),
        (b'{"id":"e1","type":"complaint"}', "events.jsonl", False),
        (b"Content-Type: multipart/report; report-type=delivery-status", "x.txt", False),
    ],
)
def test_sniff(head: bytes, filename: str, expected: bool) -> None:
    assert ADAPTER.sniff(head, filename) is expected


def test_adapter_fits_the_protocol() -> None:
    adapter: Adapter = ADAPTER  # checked by mypy
    assert adapter.name == "arf"
    assert adapter.description
