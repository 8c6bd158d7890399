"""The body caches give exactly the full analysis of each text.

text_fields() shares one analysis among texts that differ only in their link paths when the
paths are inert (body_cache._inert): no word list or passcode test can see them. These tests compare
it with an uncached analysis of each text itself, on the simulator's messages (personalised
links, the common case) and on generated texts built to sit on every edge of _inert: paths
holding phrase words, passcode words, digits, codes next to them, letters glued after them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abusedesk.enrich import body, body_cache
from abusedesk.enrich.body import MASK, MAX_TEXT, analyse
from abusedesk.enrich.body_cache import text_fields
from abusedesk.enrich.content import ContentRules, parse_lures, parse_prohibited
from abusedesk.sim.generator import generate


def reference(text: str) -> dict[str, Any]:
    """What text_fields must return: the plain definition, on this text alone."""
    return analyse(text)


def test_simulated_messages(tmp_path: Path) -> None:
    generate(tmp_path, days=1, scale=0.2, seed=21)
    texts = []
    for line in (tmp_path / "events.jsonl").read_bytes().splitlines():
        event = orjson.loads(line)
        if event["type"] == "message" and event.get("body"):
            subject = event.get("subject")
            texts.append(f"{subject}\n{event['body']}" if subject else event["body"])
    assert len(texts) > 5000
    body_cache.cache_clear()
    shared = 0
    for text in texts:
        masked = text[:MAX_TEXT].encode().translate(MASK).decode()
        pathless, positions, matches = body_cache._mask_paths(masked)
        inert = all(body_cache._inert(masked, match) for match in matches)
        found = body_cache._path_masked(pathless, positions)
        shared += bool(found is not None and matches and inert)
        assert dict(text_fields(text)) == reference(text), text
    # The shortcut is taken: a test of a path never taken would prove nothing.
    assert shared > len(texts) / 2


_RULES_WORDS = ["account", "suspended", "verify", "your", "code", "otp", "casino", "free", "cbd",
                "win", "winner", "a", "t", "x", "refund", "e-mail", "pin"]  # fmt: skip
_SEGMENTS = st.one_of(
    st.sampled_from(_RULES_WORDS),
    st.text(alphabet="abcdefghijkmnpqrstuvwyzABCDEFGHKLMNPQRSTUVWXYZ", min_size=1, max_size=8),
    st.text(alphabet="0123456789", min_size=1, max_size=7),
    st.text(alphabet="abc123-_~%+=&", min_size=1, max_size=8),
)
_PATHS = st.lists(_SEGMENTS, min_size=1, max_size=3).map(lambda segs: "/" + "/".join(segs))
_HOSTS = st.sampled_from(["bit.ly", "shop.example.com", "acct-verify.top", "paypa1.com", "t.co",
                          "code.es", "win.cash", "example.co.uk"])  # fmt: skip
_AFTER = st.sampled_from(["", " ", ". ", ", ", "!", "\n", "é", "ñandu", "-", "x", "0", " 123456",
                          " 12345678 ", "?q=1", "#frag", ")", " code 0000", "’s"])  # fmt: skip
_WORDS = st.sampled_from([*_RULES_WORDS, "hi", "Ana", "your", "order", "at", "is", "is:", "to", "call", "<#>", "código", "000-000", "4821", "£50", "has been",
                          "S1234567", "#T0042", "(AB12)", "x9.", "ref:A1", "Q1,", "otp1", "T5-12", "A1b2c3", "e2e", "a1.b", "k12@", "'Z9'", "9k", "pin4821"])  # fmt: skip


@st.composite
def texts(draw: st.DrawFn) -> str:
    pieces: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        pieces += draw(st.lists(_WORDS, max_size=4))
        scheme = draw(st.sampled_from(["", "https://", "http://www."]))
        pieces.append(scheme + draw(_HOSTS) + draw(_PATHS) + draw(_AFTER))
    pieces += draw(st.lists(_WORDS, max_size=4))
    return " ".join(pieces)


@settings(
    max_examples=1500,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(texts())
def test_generated_texts_at_the_edges(text: str) -> None:
    assert dict(text_fields(text)) == reference(text), text
    # Twice: the second answer comes from the caches.
    assert dict(text_fields(text)) == reference(text), text


def test_a_path_word_in_a_lure_is_seen() -> None:
    """Two texts that differ only in a link path: one path completes a lure phrase."""
    plain = text_fields("Dear customer, see bit.ly/q8Zr-a0b now")
    lure = text_fields("Dear customer, see bit.ly/verify-your-identity now")
    assert plain["phishing_lure"] is False
    assert lure["phishing_lure"] is True  # the lure phrase is in the path alone


@pytest.mark.parametrize(
    "text",
    [
        # a passcode keyword only in the path turns the code in the text into a passcode
        "Use 482913 at bit.ly/otp now",
        # a code inside the path ("-" or "=" may precede a code, a letter may not)
        "Your code: see bit.ly/a-482913 now",
        "Your code is at bit.ly/id=482913 ok",
        "Your code bit.ly/ab482913 now",
        # numbers after the path: too short to be a code, or a 3-3 code in the window
        "Your code: bit.ly/k9Zq T&Cs apply 18+",
        "code bit.ly/x1 at 123-456",
        # letters glued after the path make one token with it ("c" + "ódigo")
        "Su bit.ly/código de acceso es el siguiente: 482913",
        # the code's look-back window ends on the path's last word, "to": not a passcode
        "Your code bit.ly/to          482913",
        # ... and after a word between them it is that word: the path is not read
        "Your code bit.ly/to ref 482913",
        "Your code bit.ly/to\tref: 482913",
        "Your code bit.ly/to: 482913",
        # a passcode word in the path, with a code elsewhere in the text and without one
        "Sign in at bit.ly/login then enter 482913",
        "Sign in at bit.ly/login now",
        "Use bit.ly/login/x-code and 482913",
        # the label before the path ends a phrase word that a number in the path completes
        "Get rich: bit.earn/5 a day",
        # ... or that the path's first word continues ("investing in crypto"), or does not
        "Start investing.in/crypto today",
        "Start investing.in/-/bitcoin today",
        "Start investing.in/_bitcoin today",
        "Start investing.in/m/crypto today",
        "Shop harborpost.in/m/SQTJ0Q now",
        # standalone ids (letters and digits) share one analysis; ids in links, addresses,
        # numbers and codes do not stand alone
        "Your order S1234567 has shipped: bluecart.com/t/ab12",
        "Receipt #T0042, total $12. Code 4821 (ref A1) at bit.ly/x",
        "Your code: A1 482913",
        "call AB12 482913 to verify",
        "Write to a1b2@mail.example.com or visit S12.example.com",
        "Ref S1.5 or S1-2 or S1_2 or S1/2 or S1.com",
        "Order (X9) and [Y8] and 'Z7' and \"W6\": done.",
        "Order X9. Next X9:8 then X9:",
        # a phrase that starts in the path
        "Dear customer, see bit.ly/verify-your-identity now",
        "Shop at bit.ly/e cig and more",
        # a first part of a first word ("e" of "e-cig") followed by its joint in the path
        "Shop at bit.ly/e-cig now",
        "Shop at bit.ly/x/e-cigs/y now",
        "Shop at bit.ly/e/abc now",
        "Order at bit.ly/re-delivery fee today",
    ],
)
def test_each_edge_of_inert_paths(text: str) -> None:
    assert dict(text_fields(text)) == reference(text)


def test_a_label_that_a_number_in_the_path_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    """No shipped phrase has a word that is also a TLD before a number slot; a custom list
    can ("win {n}": lucky.win/5)."""
    custom = ContentRules(
        prohibited=parse_prohibited("categories:\n  gambling:\n    - win {n}\n"),
        lures=parse_lures("account locked\n"),
    )
    monkeypatch.setattr(body, "default_content_rules", lambda: custom)
    monkeypatch.setattr(body_cache, "default_content_rules", lambda: custom)
    body_cache.cache_clear()
    try:
        text = "Claim at lucky.win/5 now"
        assert text_fields(text).get("prohibited_category") == "gambling"
        assert dict(text_fields(text)) == reference(text)
    finally:
        monkeypatch.undo()
        body_cache.cache_clear()


def test_an_id_a_word_prefix_reads_is_not_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """A custom list with `word*` can read an id ("ab*" matches "AB12"): such an id keeps
    its letters in the shared form, and a form a prefix could read after masking ("q*") is
    not made."""
    for phrase, text in (
        ("ab*", "Call ref AB12 now at bit.ly/x"),
        ("q*", "Call ref AB12 at bit.ly/x"),
    ):
        custom = ContentRules(
            prohibited=parse_prohibited(f"categories:\n  gambling:\n    - call ref {phrase}\n"),
            lures=parse_lures("account locked\n"),
        )
        monkeypatch.setattr(body, "default_content_rules", lambda custom=custom: custom)
        monkeypatch.setattr(body_cache, "default_content_rules", lambda custom=custom: custom)
        body_cache.cache_clear()
        try:
            other = text.replace("AB12", "CD34")
            for each in (text, other):
                assert dict(text_fields(each)) == reference(each), each
        finally:
            monkeypatch.undo()
            body_cache.cache_clear()


def test_texts_that_differ_in_ids_share_one_analysis() -> None:
    body_cache.cache_clear()
    first = text_fields("Your order S1234567 has shipped. Track it at bluecart.com/t/p74Q6r")
    second = text_fields("Your order K7654321 has shipped. Track it at bluecart.com/t/zz81Qa")
    assert first is second  # one cached analysis, not two equal ones
    assert body_cache._ids_short.cache_info().currsize == 1


@pytest.mark.parametrize(
    ("text", "domains"),
    [
        ("Shop at site.xn--p1ai/promo now", ("site.xn--p1ai",)),
        ("Shop at SITE.XN--P1AI/promo now", ("site.xn--p1ai",)),
        ("Verify at bank-secure.xn--80asehdb/login today", ("bank-secure.xn--80asehdb",)),
        ("see https://site.xn--p1ai/x", ("site.xn--p1ai",)),
    ],
)
def test_a_punycode_top_level_domain_with_digits_is_a_link(
    text: str, domains: tuple[str, ...]
) -> None:
    """xn--p1ai (.рф) holds a digit; masked to xn--p0ai it is no public suffix, and a bare
    link to it would not be seen: texts with punycode labels find their links unmasked."""
    fields = text_fields(text)
    assert fields["url_domains"] == domains
    assert fields["has_url"] is True
    assert dict(fields) == reference(text)
