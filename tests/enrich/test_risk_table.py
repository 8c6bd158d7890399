"""The high-risk destination table behind to_cost_tier."""

from __future__ import annotations

from pathlib import Path

import phonenumbers
import pytest

from abusedesk.enrich.phone import classify_number
from abusedesk.enrich.risk_table import RiskTable, load_risk_table, parse_risk_table
from abusedesk.errors import FormatError

HEADER = "country_or_prefix,tier,reason,source\n"


@pytest.fixture(scope="module")
def shipped() -> RiskTable:
    return load_risk_table(None)


def tier(table: RiskTable, number: str) -> str:
    info = classify_number(number)
    return table.tier(info.digits, info.country, info.number_type)


def test_nigerian_mobile_is_high(shipped: RiskTable) -> None:
    assert tier(shipped, "+2348031234567") == "high"


def test_ordinary_destinations_are_standard(shipped: RiskTable) -> None:
    assert tier(shipped, "+14155552671") == "standard"
    assert tier(shipped, "+37122345678") == "standard"
    assert tier(shipped, "+447400123456") == "standard"


def test_uk_premium_rate_and_shared_cost_are_high(shipped: RiskTable) -> None:
    assert tier(shipped, "+449012345678") == "high"  # 09: premium rate
    assert tier(shipped, "+33884012345") == "high"  # shared cost


def test_numbers_that_cannot_take_an_sms_are_elevated(shipped: RiskTable) -> None:
    assert tier(shipped, "+447640123456") == "elevated"  # pager
    assert tier(shipped, "+445512345678") == "elevated"  # UAN


def test_jersey_range_is_high_even_when_the_number_is_not_valid(shipped: RiskTable) -> None:
    assert tier(shipped, "+441534123456") == "high"
    assert tier(shipped, "+4415341") == "high"  # too short to be valid; the prefix still matches


def test_braze_default_deny_list_is_shipped(shipped: RiskTable) -> None:
    countries = {e.key for e in shipped.entries if len(e.key) == 2}
    assert len(countries) == 55  # Braze lists 55 entries; its "ZB" (Zimbabwe) is ZW
    assert "ZB" not in countries
    assert {"ZW", "NG", "JE", "UA", "VN", "PK"} <= countries
    assert countries <= phonenumbers.SUPPORTED_REGIONS
    assert all(e.source and e.reason for e in shipped.entries)


def test_longest_prefix_wins_over_country_and_type_only_raises() -> None:
    table = parse_risk_table(
        HEADER
        + "NG,high,pumping,test\n"
        + "+234803,standard,known good operator range,test\n"
        + "+2348031,elevated,narrower range,test\n"
        + "type:premium_rate,high,revenue share,test\n",
        "test.csv",
    )
    assert table.tier("2348031234567", "NG", "mobile") == "elevated"  # longest prefix
    assert table.tier("2348041234567", "NG", "mobile") == "high"  # country
    assert table.tier("2348039234567", "NG", "mobile") == "standard"  # prefix lowers country
    assert table.tier("2348039234567", "NG", "premium_rate") == "high"  # type raises
    entry = table.decide("2348031234567", "NG", "mobile")
    assert entry is not None
    assert entry.reason == "narrower range"


def test_a_user_table_is_loaded_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "risk.csv"
    path.write_text("# our own list\n" + HEADER + "+3712,high,seen pumping in March,abuse desk\n")
    table = load_risk_table(path)
    assert table.tier("37122345678", "LV", "mobile") == "high"
    assert table.origin == str(path)


def test_bad_rows_are_all_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "risk.csv"
    path.write_text(
        HEADER
        + "NG,high,ok,test\n"
        + "Nigeria,high,not a code,test\n"
        + "+23480,extreme,no such tier,test\n"
        + "type:satellite,high,no such type,test\n"
        + "NG,standard,twice,test\n"
        + "GB,high\n"
    )
    with pytest.raises(FormatError) as caught:
        load_risk_table(path)
    details = caught.value.details
    assert [d.split(": ", 1)[0] for d in details] == [f"{path}:{n}" for n in (3, 4, 5, 6, 7)]
    assert "already listed on line 2" in details[3]


def test_missing_header_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="header"):
        parse_risk_table("NG,high,x,y\n", "t.csv")
    with pytest.raises(FormatError, match="cannot read"):
        load_risk_table(tmp_path / "absent.csv")
