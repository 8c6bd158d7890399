"""Email addresses and headers: domains, free-mail, Authentication-Results, unsubscribe."""

from __future__ import annotations

from typing import Any

import pytest

from abusedesk.enrich import email
from abusedesk.enrich.email import (
    address_domain,
    auth_results,
    default_freemail,
    header_fields,
    recipient_fields,
    sender_fields,
)

SES_AUTH = (
    "amazonses.com; spf=pass (spf: domain of bounce.example.com designates 54.240.8.1 as "
    "permitted sender) smtp.mailfrom=bounce.example.com; dkim=pass header.i=@example.com; "
    "dmarc=pass header.from=example.com"
)
ONE_CLICK = {
    "List-Unsubscribe": "<https://example.com/unsub/abc>, <mailto:unsub@example.com>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("ops@NewCo.example", "newco.example"),
        ("Ops Team <ops@newco.example>", "newco.example"),
        ('"Smith, Jo" <jo@mail.example.co.uk.>', "mail.example.co.uk"),
        ("not an address", None),
        ("@example.com", None),
        ("a@", None),
        ("a@exa mple.com", None),
    ],
)
def test_address_domain(value: str, domain: str | None) -> None:
    assert address_domain(value) == domain


@pytest.mark.parametrize(
    ("domain", "free"),
    [
        ("gmail.com", True),
        ("yahoo.co.uk", True),
        ("yahoo.co.jp", True),
        ("outlook.fr", True),
        ("mail.ru", True),
        ("qq.com", True),
        ("proton.me", True),
        ("newco.example", False),
        ("yahoo-mail-support.com", False),
        ("gmailcom.net", False),
    ],
)
def test_freemail(domain: str, free: bool) -> None:
    assert (domain in default_freemail()) is free


def test_sender_and_recipient_fields() -> None:
    assert sender_fields("Promo <deals@news.shop.co.uk>") == {
        "from_kind": "email",
        "from_domain": "news.shop.co.uk",
        "from_registered_domain": "shop.co.uk",
        "from_freemail": False,
    }
    assert recipient_fields("jane@GMAIL.com") == {"to_domain": "gmail.com", "to_freemail": True}
    assert recipient_fields("redacted") == {}


def test_ses_authentication_results() -> None:
    assert auth_results({"Authentication-Results": SES_AUTH}) == {
        "spf": "pass",
        "dkim": "pass",
        "dmarc": "pass",
    }


def test_first_result_per_method_wins_and_case_does_not_matter() -> None:
    headers = {
        "authentication-results": [
            (
                "mx.example.net; SPF=SoftFail smtp.mailfrom=x.example; DKIM=fail "
                "header.d=x.example; dkim=pass header.d=esp.example; DMARC=Fail header.from=x.example"
            ),
            "relay.example.net; spf=pass; dmarc=pass",
        ]
    }
    assert auth_results(headers) == {"spf": "softfail", "dkim": "fail", "dmarc": "fail"}


def test_properties_and_comments_are_not_results() -> None:
    value = "mx.example; dkim-atps=neutral; spf=none (would be dkim=pass elsewhere); x.dmarc=pass"
    assert auth_results({"Authentication-Results": value}) == {"spf": "none"}


def test_arc_results_are_not_ours() -> None:
    assert auth_results({"ARC-Authentication-Results": "i=1; mx; spf=pass"}) == {}


def test_headers_as_name_value_list() -> None:
    headers = [{"name": "Authentication-Results", "value": SES_AUTH}, {"name": 3, "value": None}]
    assert auth_results(headers)["dkim"] == "pass"


def test_rfc8058_one_click() -> None:
    fields = header_fields({"Authentication-Results": SES_AUTH, **ONE_CLICK})
    assert fields["has_list_unsubscribe"] is True
    assert fields["has_one_click_unsubscribe"] is True


@pytest.mark.parametrize(
    ("headers", "listed", "one_click"),
    [
        ({}, False, False),
        ({"List-Unsubscribe": "<mailto:unsub@example.com>"}, True, False),
        ({**ONE_CLICK, "List-Unsubscribe": "<http://example.com/u>"}, True, False),  # not https
        ({"List-Unsubscribe": ONE_CLICK["List-Unsubscribe"]}, True, False),  # no -Post header
        ({**ONE_CLICK, "List-Unsubscribe-Post": "List-Unsubscribe=Yes"}, True, False),
        (
            {
                "list-unsubscribe": ONE_CLICK["List-Unsubscribe"],
                "LIST-UNSUBSCRIBE-POST": "List-Unsubscribe=One-Click",
            },
            True,
            True,
        ),
    ],
)
def test_unsubscribe_headers(headers: dict[str, Any], listed: bool, one_click: bool) -> None:
    fields = header_fields(headers)
    assert fields["has_list_unsubscribe"] is listed
    assert fields["has_one_click_unsubscribe"] is one_click


def test_odd_header_values_do_not_raise() -> None:
    odd: dict[Any, Any] = {"Authentication-Results": None, "List-Unsubscribe": 7, 1: "x"}
    fields = header_fields(odd)
    assert fields == {"has_list_unsubscribe": False, "has_one_click_unsubscribe": False}
    huge = "mx; spf=pass " + "x" * 1_000_000
    assert auth_results({"Authentication-Results": huge}) == {"spf": "pass"}


def test_header_fields_are_fresh_and_long_values_are_not_cached() -> None:
    """Small header sets share one cached result (each caller gets its own copy); long ones
    (attacker-written) are read the same way without being kept."""
    email.cache_clear()
    headers = {"Authentication-Results": SES_AUTH, **ONE_CLICK}
    first = header_fields(headers)
    first["spf"] = "changed"
    assert header_fields(headers)["spf"] == "pass"
    assert email._fields_cached.cache_info().hits == 1
    padding = ["mx; spf=fail"] + ["x" * 8192] * 3
    long_headers = {"Authentication-Results": [SES_AUTH, *padding], **ONE_CLICK}
    assert header_fields(long_headers) == header_fields(headers)
    assert email._fields_cached.cache_info().currsize == 1
