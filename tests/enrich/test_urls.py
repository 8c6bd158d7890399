"""Links in message bodies: extraction, registered domains, shorteners, punycode, look-alikes."""

from __future__ import annotations

from typing import Any

import pytest

from abusedesk.enrich.lookalike import fold_label, label_variants, within_distance
from abusedesk.enrich.urls import (
    default_shorteners,
    find_links,
    host_lookalike,
    link_fields,
    parse_host,
)


def url_fields(text: str) -> dict[str, Any]:
    """Link fields of a text with the shipped shortener and brand lists."""
    shorteners = default_shorteners()
    return link_fields(find_links(text, shorteners), shorteners)


def registered_domain(host: str) -> str:
    return parse_host(host.lower().strip(".")).registered


def domains(text: str) -> list[str]:
    return [link.domain for link in find_links(text, default_shorteners())]


def test_bare_shortener_link_in_a_body() -> None:
    fields = url_fields("Claim now: bit.ly/3xYz before midnight")
    assert fields["url_domains"] == ("bit.ly",)
    assert fields["has_shortener"] is True
    assert fields["first_url_domain"] == "bit.ly"


def test_the_three_shapes_of_link() -> None:
    text = "See https://www.Example.co.uk/a?b=1, www.acme.com and paypa1-secure.com/login."
    assert domains(text) == ["example.co.uk", "acme.com", "paypa1-secure.com"]


def test_trailing_punctuation_is_not_part_of_the_link() -> None:
    text = "(details: https://acme.com/x)."
    (link,) = find_links(text, default_shorteners())
    assert text[link.start : link.end] == "https://acme.com/x"


@pytest.mark.parametrize(
    "text",
    [
        "ok lor.so u wan to go?",  # chat text without a space after the full stop
        "Sorry.Today i cant",
        "ok.la see u",
        "e.g. this, i.e. that, U.S.A.",
        "costs 1.50 or 2.000",
        "mail me at john.smith@example.com",  # an address, not a link
        "version 1.2.3.4 is out",  # an IP without a path is a number
        "awww.cute",
    ],
)
def test_text_that_is_not_a_link(text: str) -> None:
    assert domains(text) == []


def test_bare_domain_needs_a_real_public_suffix() -> None:
    assert domains("go to acme.notatld/login") == []
    assert domains("go to acme.photography/login") == ["acme.photography"]


def test_ip_hosts() -> None:
    assert url_fields("Login at http://192.168.10.1/secure")["has_ip_url"] is True
    assert url_fields("Login at 10.0.0.1/admin")["has_ip_url"] is True
    assert url_fields("Login at http://999.1.1.1/x")["has_ip_url"] is False


def test_punycode_hosts() -> None:
    fields = url_fields("Verify: xn--pypal-4ve.com/signin")
    assert fields["has_punycode"] is True
    assert fields["lookalike_brand"] == "paypal"
    # The same host written in Unicode (Cyrillic а) is converted to its xn-- form.
    fields = url_fields("Verify: pаypal.com/signin")
    assert fields["url_domains"] == ("xn--pypal-4ve.com",)
    assert fields["has_punycode"] is True
    assert fields["lookalike_brand"] == "paypal"


def test_body_without_links() -> None:
    fields = url_fields("See you at 5")
    assert fields["url_count"] == 0
    assert fields["has_url"] is False
    assert "first_url_domain" not in fields
    assert "lookalike_brand" not in fields


def test_registered_domain() -> None:
    assert registered_domain("www.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("A.B.Example.COM.") == "example.com"
    assert registered_domain("tax.service.gov.uk") == "service.gov.uk"


@pytest.mark.parametrize(
    ("host", "brand"),
    [
        ("paypa1-login.com", "paypal"),
        ("secure-paypal.account-help.top", "paypal"),
        ("paypal.com.verify-account.top", "paypal"),  # brand in the subdomain
        ("paypol.com", "paypal"),  # edit distance 1
        ("arnazon.com", "amazon"),  # rn reads as m
        ("amazon-prime-renew.xyz", "amazon"),
        ("vvellsfargo.com", "wellsfargo"),  # vv reads as w
        ("g00gle-security.com", "google"),
        ("micosoft-support.com", "microsoft"),  # edit distance 1 on a long name
        ("rnicrosoft.online", "microsoft"),
        ("netfliix.com", "netflix"),
        ("appleid-verify.com", "apple"),
        ("apple.support-case.info", "apple"),
        ("ups-tracking.info", "ups"),
        ("usps-redelivery.top", "usps"),
        ("dhl-express-parcel.com", "dhl"),
        ("royal-mail-fee.com", "royalmail"),
        ("hmrc-tax-refund.com", "hmrc"),
        ("chase-alerts.net", "chase"),
        ("coinbase-wallet.app", "coinbase"),
        ("xn--pypal-4ve.com", "paypal"),
        ("xn--80ak6aa92e.com", "apple"),  # "аррӏе" in Cyrillic
    ],
)
def test_lookalikes(host: str, brand: str) -> None:
    assert host_lookalike(host) == brand


@pytest.mark.parametrize(
    "host",
    [
        "paypal.com",
        "www.paypal.com",
        "paypal.de",
        "amazon.co.uk",
        "aws.amazonaws.com",
        "accounts.google.com",
        "groups.google.com",  # "ups" inside a word is not UPS
        "pineapple-recipes.com",  # nor "apple"
        "purchase.example.com",  # nor "chase"
        "telegraph.co.uk",
        "www.hmrc.gov.uk",
        "www.irs.gov",
        "icloud.com",
        "bit.ly",
        "example.com",
        "upsides.com",
    ],
)
def test_not_lookalikes(host: str) -> None:
    assert host_lookalike(host) is None


def test_folding() -> None:
    assert fold_label("xn--pypal-4ve") == "paypal"
    assert fold_label("pаypаl") == "paypal"  # Cyrillic а
    assert fold_label("pâypäl") == "paypal"
    assert "paypal" in label_variants("paypa1")
    assert "microsoft" in label_variants("rnicrosoft")
    assert within_distance("paypol", "paypal", 1)
    assert not within_distance("papyrus", "paypal", 2)
