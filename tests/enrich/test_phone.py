"""Destination numbers: validity, country, type, prefix; sender kinds."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from abusedesk.enrich.phone import (
    TYPE_NAMES,
    classify_number,
    e164_digits,
    parse_number,
    sender_kind,
)


def test_latvian_mobile() -> None:
    info = classify_number("+37122345678")
    assert (info.valid, info.country, info.number_type) == (True, "LV", "mobile")
    assert info.prefix == "+3712234"


def test_whatsapp_address_is_the_number() -> None:
    info = classify_number("whatsapp:+447400123456")
    assert (info.valid, info.country, info.number_type) == (True, "GB", "mobile")
    assert info.prefix == "+44740012"


def test_us_number_is_fixed_line_or_mobile() -> None:
    # NANP numbers cannot be told apart by range: phonenumbers says fixed_line_or_mobile.
    info = classify_number("+14155552671")
    assert (info.country, info.number_type) == ("US", "fixed_line_or_mobile")


def test_shared_calling_code_resolves_the_region() -> None:
    assert classify_number("+441534123456").country == "JE"  # +44 is GB, GG, IM and JE
    assert classify_number("+16135550123").country == "CA"
    assert classify_number("+77012345678").country == "KZ"  # +7 is RU and KZ


def test_uk_premium_rate() -> None:
    assert classify_number("+449090901234").number_type == "premium_rate"


def test_a_number_without_plus_is_not_e164() -> None:
    info = classify_number("37122345678")
    assert not info.e164
    assert not info.valid
    assert info.prefix is None


def test_invalid_plus_digits_still_have_a_prefix() -> None:
    info = classify_number("+4470000")
    assert info.e164
    assert not info.valid
    assert info.number_type == "unknown"
    assert info.prefix == "+447"


def test_a_trunk_zero_after_the_calling_code_is_repaired() -> None:
    # "+44 07911 ..." is a common way to get E.164 wrong; phonenumbers strips the 0.
    info = classify_number("+44 07400 123456")
    assert info.valid
    assert info.digits == "447400123456"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "+abc",
        "+0000",
        "+" + "9" * 40,
        "whatsapp:",
        "tel:+",
        "+1 (415) 555-26",
        "\x00+1",
        "+١٢٣٤٥",
    ],
)
def test_garbage_never_raises(raw: str) -> None:
    info = classify_number(raw)
    assert not info.valid


def test_formatting_characters_are_ignored() -> None:
    assert e164_digits("+1 (415) 555-2671") == "14155552671"
    assert e164_digits("tel:+1-415-555-2671") == "14155552671"
    assert e164_digits("4155552671") is None


def test_parse_number_is_cached_by_the_raw_string() -> None:
    assert parse_number("+37122345678") is parse_number("+37122345678")


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("+15005550006", "e164"),
        ("whatsapp:+15005550006", "e164"),
        ("+999", "e164"),  # written as E.164 even if no such number exists
        ("12345", "short_code"),
        ("727", "short_code"),
        ("12", None),
        ("4155552671", None),  # a national number: not a short code, not E.164
        ("ACME", "alphanumeric"),
        ("Acme Bank", "alphanumeric"),
        ("VeryLongSenderName", None),  # longer than the 11 characters GSM allows
        ("ops@acme.example", "email"),
        ("Ops <ops@acme.example>", "email"),
        ("", None),
    ],
)
def test_sender_kind(raw: str, kind: str | None) -> None:
    assert sender_kind(raw) == kind


def _reference(raw: str) -> tuple[bool, str | None, str]:
    """What phonenumbers itself says, the slow way."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return False, None, "unknown"
    region = phonenumbers.region_code_for_number(number)
    country = None if region in (None, "001") else region
    if not phonenumbers.is_valid_number(number):
        return False, country, "unknown"
    return True, country, TYPE_NAMES[phonenumbers.number_type(number)]


def _samples() -> list[str]:
    rng = random.Random(20260301)
    numbers: list[str] = []
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for region in regions:
        for number_type in TYPE_NAMES:
            if number_type == PhoneNumberType.UNKNOWN:
                continue
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            numbers.append(e164)
            # Same range, other subscribers; and a digit more or less (invalid lengths).
            numbers.append(e164[:-4] + f"{rng.randrange(10000):04d}")
            numbers.append(e164 + str(rng.randrange(10)))
            numbers.append(e164[:-1])
            # A trunk prefix written after the calling code, which phonenumbers.parse strips.
            national = phonenumbers.national_significant_number(example)
            numbers.append(f"+{example.country_code}0{national}")
            numbers.append(f"+{example.country_code}8{national}")
    for _ in range(3000):
        numbers.append(f"+{rng.choice(codes)}{rng.randrange(10 ** rng.randrange(4, 12))}")
    return numbers


def test_agrees_with_phonenumbers_everywhere() -> None:
    """The fast path applies phonenumbers' rules itself; it must give the same answers."""
    disagreements = []
    for raw in _samples():
        info = classify_number(raw)
        got = (info.valid, info.country, info.number_type)
        expected = _reference(raw)
        # For invalid numbers only validity is compared: phonenumbers.parse may strip a trunk
        # prefix from garbage ("+7 8001..." loses its 8) and then place it nowhere, where the
        # fast path keeps the region the written digits point to.
        if got[0] != expected[0] or (got[0] and got != expected):
            disagreements.append((raw, got, expected))
    assert disagreements == []
