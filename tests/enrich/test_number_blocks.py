"""Destinations by 10,000-block: a block's fields are reused only where every number of the
block has them, so each number still gets what classifying it alone gives.

Held to tests/enrich/reference.py's destination_reference: blocks of every region's example
numbers (all ten digits at each of the last four places, and random numbers), blocks where
the answer changes inside the block (a type, a time zone, a risk-table row), odd and hostile
strings, and generated numbers of every calling code, each followed by a neighbour in its
block."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberDesc, PhoneNumberType

from abusedesk.enrich import Enricher, number_blocks
from abusedesk.enrich.number_blocks import block_shares, widen
from abusedesk.enrich.phone import _ORDER, PhoneInfo, e164_digits
from abusedesk.enrich.risk_table import load_risk_table

from .conftest import unvalidated
from .reference import ReferenceEnricher, destination_reference, e164_digits_reference


def agree(enricher: Enricher, raw: str) -> None:
    """The enricher's destination fields and zone for `raw` are the reference's, field order
    included."""
    got = enricher._destination_uncached(raw)
    expected = destination_reference(enricher, raw)
    assert got == expected, raw
    assert list(got[0]) == list(expected[0]), raw


def block(raw: str) -> str:
    return raw.removeprefix("+")[:-4]


# --- the proof's rewrite of phonenumbers' patterns --------------------------------------------


def test_widen_every_reading_takes_x_only_where_any_digit_is() -> None:
    assert widen(r"7[1-5]\d{2}", every=True) == r"7[1-5][\dx]{2}"
    assert widen("[0-9]{3}|[0-57-9]", every=True) == "[0-9x]{3}|[0-57-9]"
    assert widen("(?:1|2)?", every=True) == "(?:1|2)?"


def test_widen_some_reading_takes_x_wherever_a_digit_is() -> None:
    assert widen(r"7[1-5]\d{2,3}", every=False) == r"[7x][1-5x][\dx]{2,3}"
    assert widen("(?:80|9)", every=False) == "(?:[8x][0x]|[9x])"


@pytest.mark.parametrize(
    "pattern", [r"\w", "[^1]", "1*", "1+", "(?=1)", "(1)", "a", "[1", "[]", "[a-z]", "1{x}", "."]
)
def test_widen_refuses_syntax_it_does_not_know(pattern: str) -> None:
    with pytest.raises(ValueError, match="cannot widen"):
        widen(pattern, every=True)


# --- blocks -----------------------------------------------------------------------------------


def test_a_block_is_classified_once() -> None:
    enricher = Enricher()
    first = enricher._destination_uncached("+447400123456")
    assert enricher._blocks == {"44740012": first}
    assert enricher._destination_uncached("+447400129999") is first
    agree(enricher, "+447400120000")


def test_a_block_whose_numbers_differ_in_type_is_not_shared() -> None:
    # Greek UAN numbers are 5005000 and 3 digits: the rest of the block is invalid.
    enricher = Enricher()
    for raw in ("+305005000123", "+305005001234", "+305005000999", "+305005009999"):
        agree(enricher, raw)
    assert "30500500" not in enricher._blocks


def test_a_time_zone_boundary_inside_a_block() -> None:
    # +61 2 5505 3xxx is Lord Howe Island, the rest of +61 2 5505 xxxx is Sydney.
    enricher = Enricher()
    for raw in ("+61255050000", "+61255053000", "+61255059999", "+61255053999"):
        agree(enricher, raw)
    assert (
        enricher._destination_uncached("+61255053000")[1]
        != (enricher._destination_uncached("+61255050000")[1])
    )


def test_a_risk_table_row_inside_a_block(tmp_path: Path) -> None:
    table = tmp_path / "risk.csv"
    table.write_text(
        "country_or_prefix,tier,reason,source\n+4474001234,high,test,test\n", encoding="utf-8"
    )
    for order in (("+447400120000", "+447400123456"), ("+447400123456", "+447400120000")):
        enricher = Enricher(load_risk_table(table))
        for raw in order:
            agree(enricher, raw)
        tiers = {raw: enricher._destination_uncached(raw)[0]["to_cost_tier"] for raw in order}
        assert tiers == {"+447400123456": "high", "+447400120000": "standard"}


def test_a_repaired_number_does_not_stand_for_its_block() -> None:
    # "+44 07400 123456": phonenumbers drops the trunk 0, so to_prefix is another block's;
    # what phonenumbers.parse does is not proven for a block, so such a number is alone.
    enricher = Enricher()
    for raw in ("+44 07400 123456", "+4407400123456", "+4407400129999", "+447400123456"):
        agree(enricher, raw)
    assert "440740012" not in enricher._blocks


# --- the proof on made-up rules ---------------------------------------------------------------
#
# phonenumbers' metadata gives no block where an earlier type, an earlier region or the mobile
# pattern holds only some of a block's numbers (the example sweep below finds none), so these
# parts of the proof are held to made-up regions of calling code 99 with six-digit numbers.

_TYPES = ("general_desc", *_ORDER)


class _Rules:
    """What phone.rule_text reads of a region's PhoneMetadata."""

    def __init__(self, leading: str | None = None, **patterns: str) -> None:
        self.leading_digits = leading
        self.same_mobile_and_fixed_line_pattern = False
        for name in _TYPES:
            pattern = patterns.get(name)
            desc = None if pattern is None else PhoneNumberDesc(pattern, None, (6,))
            setattr(self, name, desc)


@pytest.fixture
def made_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, _Rules]]:
    regions: dict[str, _Rules] = {}
    monkeypatch.setattr(number_blocks, "_metadata", regions.get)
    for cached in (number_blocks._type_proof, number_blocks._leading):
        cached.cache_clear()
    yield regions
    for cached in (number_blocks._type_proof, number_blocks._leading):
        cached.cache_clear()


def _info(digits: str, region: str, number_type: str) -> PhoneInfo:
    return PhoneInfo(True, True, digits, region, number_type, 99)


def test_an_earlier_type_holding_some_numbers_of_the_block(made_up: dict[str, _Rules]) -> None:
    made_up["XC"] = _Rules(general_desc=r"1\d{5}", premium_rate=r"1234\d\d", mobile=r"1\d{5}")
    # 12xxxx: mobile, but 1234xx is premium rate. 13xxxx: mobile throughout.
    assert not block_shares(_info("99125555", "XC", "mobile"), ("XC",))
    assert block_shares(_info("99135555", "XC", "mobile"), ("XC",))


def test_the_mobile_pattern_inside_a_fixed_line_block(made_up: dict[str, _Rules]) -> None:
    made_up["XF"] = _Rules(general_desc=r"1\d{5}", fixed_line=r"1\d{5}", mobile=r"1299\d\d")
    # 12xxxx is fixed_line, but 1299xx is fixed_line_or_mobile.
    assert not block_shares(_info("99125555", "XF", "fixed_line"), ("XF",))
    assert block_shares(_info("99135555", "XF", "fixed_line"), ("XF",))


@pytest.mark.parametrize(
    "earlier",
    [
        _Rules(leading="1234", general_desc=r"\d{6}", mobile=r"\d{6}"),  # by leading digits
        _Rules(general_desc=r"\d{6}", premium_rate=r"1234\d\d"),  # by its types
    ],
)
def test_an_earlier_region_holding_some_numbers_of_the_block(
    made_up: dict[str, _Rules], earlier: _Rules
) -> None:
    made_up["XA"] = earlier
    made_up["XB"] = _Rules(general_desc=r"1\d{5}", mobile=r"1\d{5}")
    # 12xxxx is XB's, but 1234xx is XA's. 13xxxx is XB's throughout.
    assert not block_shares(_info("99125555", "XB", "mobile"), ("XA", "XB"))
    assert block_shares(_info("99135555", "XB", "mobile"), ("XA", "XB"))


HOSTILE = [
    "",
    "+",
    "++447400123456",
    "+0447400123456",
    "+44",
    "+4474",
    "+44740",
    "+447400",
    "+12345",
    "+1234",
    "+" + "9" * 17,
    "+" + "9" * 18,
    "+" + "1" * 40,
    "+١٢٣٤٥٦٧٨٩٠١",  # Arabic-Indic digits
    "+４４７４００１２３４５６",  # full-width digits
    "+44²7400123456",
    " +447400123456 ",
    "+44 7400 123456",
    "+44-7400-(123)-456",
    "whatsapp:+447400123456",
    "WhatsApp: +44 7400 123456",
    "tel:+14155552671",
    "sms:+14155552671",
    "whatsapp:",
    "447400123456",  # national or without +: not E.164
    "07400123456",
    "12345",  # short codes
    "727",
    "ACME",
    "ACMEBANK",
    "Acme Bank",
    "VeryLongSenderName",
    "+447400123456\n",
    "+447400123456\x00",
    "+44 07400 123456",
    "+7 8001234567",  # trunk 8 after +7
    "+8001234567",  # non-geographic (+800)
    "+80012345678",
    "+8823456789012",
    "+979012345678",
    "+870773111632",
    "+999123456789",  # no such calling code
    "+2912345678",
    "jane@example.com",
    "Jane <jane@gmail.com>",
    "@",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_odd_and_hostile_destinations(raw: str) -> None:
    enricher = Enricher()
    agree(enricher, raw)
    agree(enricher, raw)  # the second time from the caches


def _example_blocks() -> list[str]:
    """Every region's example number of every type (E.164)."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in range(PhoneNumberType.VOICEMAIL + 1):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                found.append(
                    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                )
    for calling_code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        example = phonenumbers.example_number_for_non_geo_entity(calling_code)
        if example is not None:
            found.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return found


def test_every_example_block() -> None:
    """Every region's example numbers seed their block; then every digit at each of the last
    four places, and random numbers of the block, must still get their own answers."""
    rng = random.Random(20260301)
    enricher = Enricher()
    shared = 0
    examples = _example_blocks()
    for example in examples:
        agree(enricher, example)
        if block(example) in enricher._blocks:
            shared += 1
        head, tail = example[:-4], example[-4:]
        for place in range(4):
            for digit in "0123456789":
                agree(enricher, head + tail[:place] + digit + tail[place + 1 :])
        for _ in range(20):
            agree(enricher, head + f"{rng.randrange(10000):04d}")
    # The proof is not vacuous: nearly every example lies in a block it can share.
    assert shared > 0.9 * len(examples)


@pytest.mark.parametrize(
    ("example", "shared"),
    [
        ("+447400123456", True),  # GB mobile
        ("+14155552671", True),  # US, +1 shared with 24 other regions
        ("+16135550123", True),  # CA: after US and the leading-digit regions
        ("+12642351234", True),  # AI, by leading digits
        ("+441534456789", True),  # JE inside +44
        ("+77012345678", True),  # KZ inside +7
        ("+61255050000", False),  # AU, the Lord Howe block
        ("+390612345678", True),  # IT fixed line, variable length
        ("+4930123456", True),  # DE fixed line, variable length
        ("+918123456789", True),  # IN
        ("+5511961234567", True),  # BR mobile
        ("+80012345678", True),  # non-geographic
    ],
)
def test_whole_blocks(example: str, shared: bool) -> None:
    """All 10,000 numbers of some blocks, after the example seeded it."""
    enricher = Enricher()
    agree(enricher, example)
    assert (block(example) in enricher._blocks) is shared
    head = example[:-4]
    for last in range(10000):
        agree(enricher, f"{head}{last:04d}")


_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@settings(derandomize=True, database=None, max_examples=3000, deadline=None)
@given(
    st.sampled_from(_CODES),
    st.text("0123456789", min_size=1, max_size=14),
    st.integers(0, 9999),
)
def test_generated_numbers_and_their_neighbours(code: int, national: str, other: int) -> None:
    enricher = Enricher()
    raw = f"+{code}{national}"
    agree(enricher, raw)
    if len(raw) > 5:
        agree(enricher, f"{raw[:-4]}{other:04d}")


# --- e164_digits's shortcut for canonical strings ----------------------------------------------


@settings(derandomize=True, database=None, max_examples=3000, deadline=None)
@given(st.text("+0123456789 -().:tewhasp\t\n١４²", max_size=20))
def test_e164_digits_shortcut(raw: str) -> None:
    assert e164_digits(raw) == e164_digits_reference(raw)


@pytest.mark.parametrize("raw", HOSTILE)
def test_e164_digits_shortcut_on_odd_strings(raw: str) -> None:
    assert e164_digits(raw) == e164_digits_reference(raw)


@pytest.mark.parametrize(
    "raw",
    [*HOSTILE, "+447400123457", "+447400120000", "+44740012345", "+44740012345６", "+0447400123"],
)
def test_a_message_to_a_proven_block(raw: str) -> None:
    """A destination (message, verification) or a delivery's recipient in a block proven
    before skips the caches (Enricher._known): it must still get what classifying the number
    alone gives, and odd strings that look like the block must not take its fields."""
    enricher = Enricher()
    enricher.enrich(unvalidated("message", channel="sms", to="+447400123456", body="hi"))
    assert block("+447400123456") in enricher._blocks  # the shortcut is there to be taken
    events = (
        unvalidated("message", channel="sms", direction="outbound", to=raw, body="hi"),
        unvalidated("delivery", status="delivered", recipient=raw),
        unvalidated("verification", stage="start", to=raw, channel="sms"),
    )
    for event in events:  # all three take it
        expected = ReferenceEnricher().enrich(event)
        assert enricher.enrich(event) == expected
        assert enricher.enrich(event) == expected  # the second time from the caches
