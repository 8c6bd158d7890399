"""The shared reader and conversions of the JSON adapters: shapes, bounds, timestamps, ids."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from abusedesk.events.adapters.base import Limits, Location, Rejected
from abusedesk.events.adapters.jsondoc import (
    from_unix,
    iter_objects,
    make_id,
    parse_datetime,
    rfc3339,
    shallow,
)


def read(data: bytes, **limits: int) -> list[object]:
    return list(iter_objects(io.BytesIO(data), "in", Limits(**limits)))


def test_one_pretty_printed_object_is_one_document() -> None:
    assert read(b'{\n  "a": 1,\n  "b": [1, 2]\n}\n') == [({"a": 1, "b": [1, 2]}, Location("in"))]


def test_an_array_document_is_opened_into_numbered_items() -> None:
    assert read(b'[\n {"a": 1},\n {"b": 2}\n]') == [
        ({"a": 1}, Location("in", item=1)),
        ({"b": 2}, Location("in", item=2)),
    ]


def test_ndjson_values_carry_their_line_and_arrays_per_line_are_opened() -> None:
    data = b'{"a": 1}\n\n[{"b": 2}, {"c": 3}]\r\n{"d": 4}'
    assert read(data) == [
        ({"a": 1}, Location("in", line=1)),
        ({"b": 2}, Location("in", line=3, item=1)),
        ({"c": 3}, Location("in", line=3, item=2)),
        ({"d": 4}, Location("in", line=4)),
    ]


def test_a_byte_order_mark_is_ignored() -> None:
    assert read(b'\xef\xbb\xbf{"a": 1}') == [({"a": 1}, Location("in", line=1))]


def test_a_single_line_document_may_exceed_the_line_limit_but_not_the_document_limit() -> None:
    body = b'[{"a": "' + b"x" * 500 + b'"}]'
    assert len(read(body, max_line_bytes=100)) == 1
    (rejected,) = read(body, max_line_bytes=100, max_message_bytes=200)
    assert isinstance(rejected, Rejected)
    assert "larger than 200 bytes" in rejected.reason


def test_a_broken_document_is_rejected_at_the_line_of_the_error() -> None:
    (rejected,) = read(b'{\n  "a": 1,\n  "b": ]\n}')
    assert isinstance(rejected, Rejected)
    assert rejected.where == Location("in", line=3)
    assert rejected.reason.startswith("the document is not valid JSON: ")


def test_ndjson_longer_than_the_document_limit_is_streamed() -> None:
    lines = b"".join(b'{"n": %d}\n' % n for n in range(1000))
    values = read(lines, max_message_bytes=100, max_line_bytes=50)
    assert len(values) == 1000
    assert values[-1] == ({"n": 999}, Location("in", line=1000))


def test_ndjson_with_a_broken_first_line_longer_than_the_document_limit_is_streamed() -> None:
    lines = b'{"n": \n' + b"".join(b'{"n": %d}\n' % n for n in range(100))
    values = read(lines, max_message_bytes=100)
    assert isinstance(values[0], Rejected)
    assert values[0].where.line == 1
    assert len(values) == 101


def test_a_long_line_is_skipped_without_losing_the_next_one() -> None:
    data = b'{"a": 1}\n{"b": "' + b"y" * 300_000 + b'"}\n{"c": 3}\n'
    values = read(data, max_line_bytes=1000)
    assert values[0] == ({"a": 1}, Location("in", line=1))
    assert isinstance(values[1], Rejected)
    assert values[1].reason == "line 2 is longer than 1000 bytes (limits.max_line_bytes)"
    assert len(values[1].excerpt) <= 200
    assert values[2] == ({"c": 3}, Location("in", line=3))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-01-27T14:59:38.237Z", "2016-01-27T14:59:38.237Z"),
        ("2018-10-08T14:05:45 +0000", "2018-10-08T14:05:45Z"),
        ("2009-12-03T04:24:21.000-05:00", "2009-12-03T09:24:21Z"),
        ("2024-01-31 15:42:01 UTC", "2024-01-31T15:42:01Z"),
        ("2024-01-31 15:42:01", "2024-01-31T15:42:01Z"),
        ("2024-01-31T15:42:01.123456789Z", "2024-01-31T15:42:01.123456Z"),
        ("Mon, 16 Aug 2010 03:45:01 +0000", "2010-08-16T03:45:01Z"),
        ("Mon, 16 Aug 2010 03:45:01 -0000", "2010-08-16T03:45:01Z"),
        ("Mon, 16 Aug 2010 05:45:01 +0200", "2010-08-16T03:45:01Z"),
    ],
)
def test_dates_in_the_shapes_providers_write_them(text: str, expected: str) -> None:
    moment = parse_datetime(text)
    assert moment is not None
    assert rfc3339(moment) == expected


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "2024-02-30T00:00:00Z",
        "2024-01-01T25:00:00Z",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+05:99",
        "1 2 3",
        "9" * 100,
        "2024-01-01",
    ],
)
def test_unreadable_dates_give_none(text: str) -> None:
    assert parse_datetime(text) is None


def test_rfc3339_is_utc_with_z_and_no_needless_digits() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert rfc3339(datetime(2026, 3, 1, 14, 0, tzinfo=plus_two)) == "2026-03-01T12:00:00Z"
    assert rfc3339(datetime(2026, 3, 1, 12, 0, 0, 5000, tzinfo=UTC)) == "2026-03-01T12:00:00.005Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1513299569, "2017-12-15T00:59:29Z"),
        (1521233195.375624, "2018-03-16T20:46:35.375624Z"),
        (0, "1970-01-01T00:00:00Z"),
        ("1513299569", None),
        (True, None),
        (None, None),
        (-1, None),
        (1e20, None),
        ({"$date": 1}, None),
    ],
)
def test_unix_seconds(value: object, expected: str | None) -> None:
    assert from_unix(value) == expected


def test_ids_too_long_for_the_schema_are_hashed_deterministically() -> None:
    assert make_id("ses", "f1", "bounce", "a@b") == "ses:f1:bounce:a@b"
    long = make_id("ses", "f1", "bounce", "a" * 300 + "@b")
    assert long.startswith("ses:sha256:")
    assert len(long) <= 256
    assert long == make_id("ses", "f1", "bounce", "a" * 300 + "@b")
    assert long != make_id("ses", "f1", "bounce", "b" * 300 + "@b")


def test_shallow_walks_deep_values_without_recursion() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert not shallow(deep, 10)
    assert shallow({"a": [1, {"b": 2}]}, 3)
    assert not shallow({"a": [1, {"b": [2]}]}, 3)
