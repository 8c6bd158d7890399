"""Lexicon.first_match skips a phrase's regex when the text lacks every token one of its places
would leave (required_tokens). It must answer exactly as trying every phrase in order does."""

from __future__ import annotations

from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abusedesk.enrich.content import default_content_rules
from abusedesk.enrich.lexicon import Lexicon, required_tokens, word_tokens
from abusedesk.sim.generator import generate


def reference(lexicon: Lexicon, lower: str) -> str | None:
    for phrase in lexicon.phrases:
        if phrase.search(lower):
            return phrase.label
    return None


def agree(text: str) -> None:
    rules = default_content_rules()
    lower = text.lower()
    tokens = word_tokens(lower)
    for lexicon in (rules.prohibited, rules.lures):
        assert lexicon.first_match(lower, tokens) == reference(lexicon, lower), text


def test_required_tokens_of_each_kind_of_place() -> None:
    assert required_tokens("verify|confirm it's you") == (
        frozenset({b"verify", b"confirm"}),
        frozenset({b"it", b"s", b"its", "it’s".encode()}),
        frozenset({b"you"}),
    )
    # optional places, numbers, `word*` and words with two joints require nothing
    assert required_tokens("make|earn {n} a? day") == (
        frozenset({b"make", b"earn"}),
        frozenset({b"day"}),
    )
    assert required_tokens("win* big") == (frozenset({b"big"}),)
    assert required_tokens("a-b-c now") == (frozenset({b"now"}),)


def test_simulated_texts_and_every_phrase_itself(tmp_path: Path) -> None:
    generate(tmp_path, days=1, scale=0.1, seed=4)
    seen = 0
    for line in (tmp_path / "events.jsonl").read_bytes().splitlines():
        event = orjson.loads(line)
        if event["type"] == "message" and event.get("body"):
            agree(event["body"])
            seen += 1
    assert seen > 1000
    rules = default_content_rules()
    for lexicon in (rules.prohibited, rules.lures):
        for phrase in lexicon.phrases:  # each phrase's own words, in the forms it accepts
            for form in (phrase.text, phrase.text.replace("-", " "), phrase.text.replace("-", "")):
                words = [w.split("|")[0].rstrip("?*").replace("{n}", "500") for w in form.split()]
                for text in (" ".join(words), " ".join(words).replace("'", "’")):
                    agree(f"Hello: {text}!")


_WORDS = st.sampled_from(
    ["your", "account", "has", "been", "suspended", "verify", "it's", "it’s", "its", "you",
     "e-cig", "e", "cig", "ecig", "e cig", "package", "held", "unable", "to", "deliver",
     "make", "earn", "$500", "a", "day", "casino", "free", "tax", "refund", "-", "'", ",",
     "payment", "failed", "card", "locked", "ok"]
)  # fmt: skip


@settings(max_examples=800, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.lists(_WORDS, max_size=12), st.sampled_from([" ", "-", "", "  ", "\n"]))
def test_generated_word_soups(words: list[str], joint: str) -> None:
    agree(joint.join(words))
