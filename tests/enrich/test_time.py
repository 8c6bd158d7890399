"""Hour at the recipient and TCPA quiet hours (47 CFR 64.1200(c)(1): 08:00-21:00 local)."""

from __future__ import annotations

import csv
from zoneinfo import ZoneInfo

import pytest

from abusedesk.enrich import Enricher
from abusedesk.enrich._data import read_data
from abusedesk.enrich.phone import classify_number
from abusedesk.enrich.time import zone_name

from .conftest import sms


def local(enricher: Enricher, to: str, ts: str) -> tuple[object, object]:
    fields = enricher.enrich(sms(to, ts=ts))
    return fields.get("local_hour"), fields.get("is_quiet_hours")


def test_us_number_at_three_in_the_morning_is_quiet_hours(enricher: Enricher) -> None:
    # San Francisco in January is UTC-8: 11:00Z is 03:00 there.
    assert local(enricher, "+14155552671", "2026-01-15T11:00:00Z") == (3, True)


def test_us_number_in_the_afternoon_is_not(enricher: Enricher) -> None:
    assert local(enricher, "+14155552671", "2026-01-15T22:30:00Z") == (14, False)


def test_daylight_saving_time_is_applied(enricher: Enricher) -> None:
    # July: UTC-7. 04:00Z is 21:00 the day before: the first quiet hour.
    assert local(enricher, "+14155552671", "2026-07-15T04:00:00Z") == (21, True)
    assert local(enricher, "+14155552671", "2026-07-15T03:59:00Z") == (20, False)


def test_half_hour_offsets(enricher: Enricher) -> None:
    # India is UTC+5:30: 02:45Z is 08:15 local, no longer quiet.
    assert local(enricher, "+919876543210", "2026-03-01T02:45:00Z") == (8, False)
    assert local(enricher, "+919876543210", "2026-03-01T02:15:00Z") == (7, True)


def test_hour_utc_is_always_there(enricher: Enricher) -> None:
    assert enricher.enrich(sms("+14155552671", ts="2026-03-01T23:59:59Z"))["hour_utc"] == 23


def test_numbers_that_cannot_be_placed_have_no_local_hour(enricher: Enricher) -> None:
    assert local(enricher, "+4470000", "2026-03-01T12:00:00Z") == (None, None)
    assert local(enricher, "4155552671", "2026-03-01T12:00:00Z") == (None, None)
    assert local(enricher, "jane@example.com", "2026-03-01T12:00:00Z") == (None, None)


@pytest.mark.parametrize(
    ("number", "zone"),
    [
        ("+14155552671", "America/Los_Angeles"),
        ("+12125550123", "America/New_York"),
        ("+79161234567", "Europe/Moscow"),  # a mobile: every Russian zone, Moscow chosen
        ("+61412345678", "Australia/Sydney"),
        ("+18005551234", "America/New_York"),  # toll-free: not tied to a place
        ("+37122345678", "Europe/Bucharest"),  # phonenumbers' zone for Latvia: same offset as Riga
    ],
)
def test_zone_of_a_number(number: str, zone: str) -> None:
    assert zone_name(classify_number(number)) == zone


def test_every_primary_zone_exists() -> None:
    text = "\n".join(
        line
        for line in read_data("primary_time_zones.csv").splitlines()
        if not line.startswith("#")
    )
    for row in csv.DictReader(text.splitlines()):
        ZoneInfo(row["time_zone"])


def test_quiet_hour_bounds(enricher: Enricher) -> None:
    """San Francisco in January is UTC-8: local hour h is (h + 8) UTC."""
    quiet = [
        h
        for h in range(24)
        if local(enricher, "+14155552671", f"2026-01-15T{(h + 8) % 24:02d}:00:00Z") == (h, True)
    ]
    assert quiet == [0, 1, 2, 3, 4, 5, 6, 7, 21, 22, 23]
