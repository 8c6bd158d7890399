"""Phone numbers are valid for their country, and honest senders text mobiles in their market."""

from __future__ import annotations

import itertools

import orjson
import phonenumbers
from phonenumbers import PhoneNumberType

from .conftest import Run
from .signals import Measured

MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _every_nth(values: set[str], n: int) -> list[str]:
    return list(itertools.islice(sorted(values), 0, None, max(1, len(values) // n)))


def test_numbers_are_valid(small_run: Run) -> None:
    numbers: set[str] = set()
    with (small_run.out_dir / "events.jsonl").open("rb") as fh:
        for line in fh:
            event = orjson.loads(line)
            for field in ("to", "from", "recipient", "target", "phone_number"):
                value = event.get(field)
                if isinstance(value, str) and value.startswith("+"):
                    numbers.add(value)
    sample = _every_nth(numbers, 3000)
    assert len(sample) > 1000
    invalid = [n for n in sample if not phonenumbers.is_valid_number(phonenumbers.parse(n))]
    assert invalid == []


def test_legit_sms_goes_to_mobiles(small_run: Run) -> None:
    labels = orjson.loads((small_run.out_dir / "labels.json").read_bytes())
    destinations: set[str] = set()
    with (small_run.out_dir / "events.jsonl").open("rb") as fh:
        for line in fh:
            event = orjson.loads(line)
            if (
                event["type"] == "message"
                and event["channel"] == "sms"
                and event.get("direction", "outbound") == "outbound"
                and labels[event["account_id"]] == "legit"
            ):
                destinations.add(event["to"])
    sample = _every_nth(destinations, 1500)
    types = {phonenumbers.number_type(phonenumbers.parse(n)) for n in sample}
    assert types <= MOBILE


def test_legit_sms_stays_in_the_home_market(measured: Measured) -> None:
    kinds = ("otp", "marketing_sms", "notifications_sms", "outlier_flash_sale")
    for stats in (s for k in kinds for s in measured.by_kind(k)):
        home = stats.destinations[stats.country] / sum(stats.destinations.values())
        assert home >= 0.8, (stats.kind, stats.country, dict(stats.destinations))
    countries = {s.country for k in kinds for s in measured.by_kind(k)}
    assert len(countries) >= 8  # several markets, not one
