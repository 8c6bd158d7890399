"""Prohibited content (SHAFT and carrier-forbidden categories) and phishing lures."""

from __future__ import annotations

import pytest

from abusedesk.enrich.body_cache import text_fields
from abusedesk.enrich.content import CATEGORIES, default_content_rules, parse_prohibited
from abusedesk.enrich.lexicon import Lexicon, compile_phrase
from abusedesk.errors import FormatError


def category(text: str) -> str | None:
    value = text_fields(text).get("prohibited_category")
    return None if value is None else str(value)


def lure(text: str) -> bool:
    return bool(text_fields(text)["phishing_lure"])


def test_lexicon_categories_are_the_documented_ones_in_severity_order() -> None:
    assert default_content_rules().prohibited.labels == CATEGORIES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Happy hour! 2-for-1 cocktails till 7pm", "alcohol"),
        ("Craft BEERS on tap this Friday", "alcohol"),
        ("Premium CBD gummies, free shipping", "cannabis"),
        ("Same-day weed delivery in your area", "cannabis"),
        ("Need cash? Payday loans approved in minutes", "high_risk_finance"),
        ("Guaranteed returns of 30% with our crypto investment plan", "high_risk_finance"),
        ("Bad credit OK! Instant loan today", "high_risk_finance"),
        ("Struggling? Debt relief programs can cut your payments", "debt"),
        ("We fix your credit in 30 days: credit repair experts", "debt"),
        ("Work from home and make $500 a day!", "get_rich_quick"),
        ("Earn $1,000 per week from your phone", "get_rich_quick"),
        ("200 free spins at Lucky Casino tonight", "gambling"),
        ("Bet now on tonight's game, deposit bonus inside", "gambling"),
        ("New vape flavours in store, e-liquids 2 for 1", "tobacco"),
        ("Cheap e-cigs and cigarettes delivered", "tobacco"),
        ("Gun show this weekend, ammo discounts", "firearms"),
        ("Hot singles near you, xxx video chat", "sex"),
        ("Love you, see you tomorrow xxx", None),  # kisses, not porn
        ("Join the race war", "hate"),
    ],
)
def test_prohibited_categories(text: str, expected: str | None) -> None:
    assert category(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Your code is 1234",
        "Your order has shipped and will arrive tomorrow",
        "Reminder: your dentist appointment is at 3pm. Reply C to cancel",
        "New appointment slots are open for next week",
        "I'll pull the weeds in the garden this weekend",
        "Sorry, I was busy. Call you later?",
        "Your package was delivered to the front door",
    ],
)
def test_ordinary_messages_are_not_prohibited(text: str) -> None:
    assert category(text) is None


def test_the_most_severe_category_wins() -> None:
    # Both gambling and alcohol: gambling is listed first (more severe).
    assert category("Casino night with free cocktails") == "gambling"


@pytest.mark.parametrize(
    "text",
    [
        "Your account has been suspended. Verify at https://secure-login.top/a",
        "Unusual sign-in activity detected. Confirm your identity: bit.ly/3xYz",
        "USPS: your package is on hold. Pay the redelivery fee at usps-help.top/pay",
        "Your payment failed. Update your billing: http://192.0.2.10/pay",
        "HMRC: you are eligible for a tax refund, claim at hmrc-refund.com/claim",
        "Final notice: unpaid toll balance of $6.99. Pay now: ezpass-pay.xyz/p",
    ],
)
def test_phishing_lures(text: str) -> None:
    assert lure(text)


@pytest.mark.parametrize(
    "text",
    [
        "Your account has been suspended. Call us on 0800 123 456",  # no link
        "Your order has shipped! Track it: https://shop.example.com/t/123",
        "Verify your email address: https://app.example.com/v/abc",
        "Your package was delivered. Rate us: https://shop.example.com/r",
        "Your code is 1234",
    ],
)
def test_not_phishing_lures(text: str) -> None:
    assert not lure(text)


def test_phrase_syntax() -> None:
    pattern, anchors = compile_phrase("make|earn {n} a|per day", "t")
    assert anchors == {b"make", b"earn"}
    assert pattern.search("earn $000 per day")
    pattern, anchors = compile_phrase("e-cig", "t")
    assert anchors == {b"e", b"ecig"}
    assert all(pattern.search(t) for t in ("e-cig", "e cig", "ecig"))
    pattern, _ = compile_phrase("account has|is? been? suspended", "t")
    assert all(pattern.search(t) for t in ("account suspended", "account has been suspended"))


@pytest.mark.parametrize(
    ("phrase", "error"),
    [
        ("{n} a day", "cannot start with"),
        ("vap* pens", "cannot end with \\*"),
        ("win 100 prizes", "not a word"),
        ("maybe? later", "cannot be optional"),
    ],
)
def test_phrase_errors(phrase: str, error: str) -> None:
    with pytest.raises(FormatError, match=error):
        compile_phrase(phrase, "t")


def test_lexicon_file_errors() -> None:
    with pytest.raises(FormatError, match="categories"):
        parse_prohibited("- just a list\n")
    with pytest.raises(FormatError, match="list of phrases"):
        parse_prohibited("categories:\n  sex: porn\n")


def test_word_boundaries() -> None:
    lexicon = Lexicon([("firearms", "gun|guns", "t"), ("x", "begun", "t")])
    # "gun" is a token here and "begun" contains it; only whole words count.
    assert (
        lexicon.first_match("it begun with a gun", {b"it", b"begun", b"with", b"a", b"gun"})
        == "firearms"
    )
    tokens = {b"begun", b"show", b"gun"}
    assert Lexicon([("x", "gun show", "t")]).first_match("begun show gun", tokens) is None
