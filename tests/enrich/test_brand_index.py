"""BrandIndex.find gives lookalike_brand_reference's answer for every host.

The simulator's hosts hit at most one brand each and none by edit distance alone, so the
order rule and the fuzzy tokens are held to the reference here, on listed hostile hosts and on
generated ones built from brand tokens, misspellings and look-alike characters."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abusedesk.enrich.brand_index import BrandIndex, default_brand_index
from abusedesk.enrich.lookalike import (
    Brand,
    default_brands,
    lookalike_brand_reference,
    parse_brands,
    within_distance,
)
from abusedesk.enrich.urls import default_shorteners, find_links, parse_host
from abusedesk.events.schema import Event


def agree(host: str, brands: tuple[Brand, ...] | None = None) -> str | None:
    """The index's answer for a host, asserted equal to the reference's."""
    parts = parse_host(host)
    index = default_brand_index() if brands is None else _index(brands)
    found = index.find(parts.subdomain, parts.domain, parts.suffix)
    reference = lookalike_brand_reference(
        parts.subdomain, parts.domain, parts.suffix, brands or default_brands()
    )
    assert found == reference, host
    return found


@cache
def _index(brands: tuple[Brand, ...]) -> BrandIndex:
    return BrandIndex(brands)


def test_every_host_of_the_simulated_traffic(sim_traffic: list[Event]) -> None:
    shorteners = default_shorteners()
    hosts = set()
    for event in sim_traffic:
        for name in ("body", "subject", "website", "target"):
            value = event.data.get(name)
            if isinstance(value, str):
                text = value if "://" in value or name != "website" else f"http://{value}"
                hosts.update(link.host for link in find_links(text, shorteners))
    assert len(hosts) > 300
    found = [agree(host) for host in sorted(hosts)]
    assert sum(brand is not None for brand in found) > 50


HOSTILE = [
    # punycode: valid, invalid, empty, a homograph of a brand, of a brand's own domain
    "xn--pypal-4ve.com",
    "xn--80ak6aa92e.com",
    "xn--.com",
    "xn--zz-.top",
    "xn--pple-43d.com",  # аpple, Cyrillic а
    "xn--pypal-4ve.paypal.com",
    "paypal.xn--pypal-4ve.com",
    # Unicode as written, which parse_host keeps
    "pаypаl.com",
    "аррӏе.com",
    "ρaypal.top",
    "ǥoogle.top",
    # digits read as letters, rn and vv, hyphens
    "paypa1.com",
    "g00gle-login.top",
    "rnicrosoft.online",
    "vvellsfargo.com",
    "arnazon.co.uk",
    "micro-soft.top",
    "m-i-c-r-o-s-o-f-t.top",
    "pay--pal.top",
    "-paypal-.top",
    "----.top",
    # edit distance at and past the limit
    "paypol.com",
    "paypoll.com",
    "micosoft-support.com",
    "micrsft.com",
    "bankofamerika.com",
    "bankofamerrrica.com",
    "instagrarn.com",
    "americanexpres.net",
    # subdomains: brand tokens, www, empty labels, many labels, very long labels
    "paypal.com.verify-account.top",
    "www.www.amazon.example",
    "a..b.paypal-login.top",
    ".paypal.top",
    "secure.login.account.update.apple.id.example.top",
    "a" * 63 + ".com",
    "paypal" * 10 + ".top",
    "x" * 40 + "paypal" + "x" * 17 + ".top",
    "m" * 60 + ".top",
    # brands' own domains, and everyday words holding short tokens
    "paypal.com",
    "www.paypal.co.uk",
    "amazon.de",
    "aws.amazonaws.com",
    "accounts.google.com",
    "tax.service.gov.uk",
    "hmrc.gov.uk",
    "groups.google.com",
    "upsides.com",
    "pineapple.com",
    "purchase.example",
    # no registered domain: IPs, bare suffixes, unknown TLDs
    "192.0.2.1",
    "co.uk",
    "com",
    "paypal.notatld",
    "",
    "localhost",
]


@pytest.mark.parametrize("host", HOSTILE)
def test_hostile_hosts(host: str) -> None:
    agree(host)


def test_known_answers() -> None:
    assert agree("paypol.com") == "paypal"  # edit distance 1
    assert agree("micosoft-support.com") == "microsoft"  # 1 on a hyphenated part
    assert agree("bankofamerika.com") == "bankofamerica"  # within 2 of a long token
    assert agree("paypal.com") is None  # its own
    assert agree("paypal.com.verify-account.top") == "paypal"


# A list where the order rule decides: "shop.com" is the first brand's own domain, so the
# second brand is reported; "shopper.top" hits both and the first is reported; "xhopify.net"
# hits the third by edit distance only.
ORDERED = parse_brands(
    "brand,tokens,domains\n"
    "first,*shop*,shop.com\n"
    "second,shop* shopping~,\n"
    "third,shopify~,shopify.com\n"
    "fourth,shop,\n"
)


@pytest.mark.parametrize(
    ("host", "brand"),
    [
        ("shop.com", "second"),
        ("shopper.top", "first"),
        ("www.shop.com", "second"),
        ("shopify.com", "first"),  # holds "shop": the first brand, not the domain's owner
        ("shopfiy.net", "first"),
        ("xhopify.net", "third"),  # edit distance 1 only
        ("shoping.net", "first"),
        ("xhopping.net", "second"),  # edit distance 1 of "shopping" only
        ("example.com", None),
    ],
)
def test_the_first_brand_that_hits_and_does_not_own_the_domain(
    host: str, brand: str | None
) -> None:
    assert agree(host, ORDERED) == brand


# --- generated hosts --------------------------------------------------------------------------

_TOKENS = sorted({token.text for brand in default_brands() for token in brand.tokens})
_TYPO = st.sampled_from(_TOKENS).flatmap(
    lambda token: st.tuples(
        st.just(token),
        st.integers(0, len(token)),
        st.sampled_from(["", "x", "0", "1", "rn", "vv", "-", "а", "ο", "é"]),
        st.integers(0, 2),
    )
)
_FRAGMENT = st.one_of(
    _TYPO.map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + t[3] :]),  # a token, edited
    st.sampled_from(_TOKENS),
    st.text("abcdeilmnoprstuvwxyz0135-аерос", max_size=12),
    st.sampled_from(["www", "secure", "login", "xn--pypal-4ve", "xn--", "xn--80ak6aa92e"]),
)
_LABEL = st.lists(_FRAGMENT, min_size=1, max_size=3).map("".join)
_SUFFIX = st.sampled_from(["com", "co.uk", "top", "de", "gov.uk", "net", "xyz", "app", "com.au"])


@settings(derandomize=True, database=None, max_examples=1500, deadline=None)
@given(st.lists(_LABEL, max_size=3), _LABEL, _SUFFIX)
def test_generated_hosts(subdomains: list[str], domain: str, suffix: str) -> None:
    subdomain = ".".join(subdomains)
    found = default_brand_index().find(subdomain, domain, suffix)
    assert found == lookalike_brand_reference(subdomain, domain, suffix, default_brands())


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@settings(derandomize=True, database=None, max_examples=2000, deadline=None)
@given(st.text("abcmn", max_size=12), st.text("abcmn", max_size=12), st.integers(0, 3))
def test_within_distance_is_levenshtein(a: str, b: str, limit: int) -> None:
    # The index drops tokens with no piece in the reading, which is exact for Levenshtein
    # distance; within_distance must be that distance for it to be exact for the reference.
    assert within_distance(a, b, limit) == (_levenshtein(a, b) <= limit)
