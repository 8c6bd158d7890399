"""Prohibited content and phishing lures, from the shipped lexicons.

prohibited_category: the first category of data/prohibited_content.yaml (listed most severe
first) with a phrase in the text; the categories are the US carrier content rules of DOMAIN.md
3.3 (SHAFT, cannabis, high-risk finance, debt, get-rich-quick, gambling).
phishing_lure: a lure phrase of data/phishing_lures.txt AND a URL in the same text: the lure is
what makes a link dangerous, and lure words without a link ("your card was declined, call us")
are a different problem.

Both work on the lower-cased text with digits masked (see body.py) and its word set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from abusedesk.enrich._data import data_lines, read_data
from abusedesk.enrich.lexicon import Lexicon
from abusedesk.errors import FormatError

CATEGORIES = (
    "sex",
    "hate",
    "firearms",
    "cannabis",
    "high_risk_finance",
    "debt",
    "get_rich_quick",
    "gambling",
    "tobacco",
    "alcohol",
)


@dataclass(frozen=True, slots=True)
class ContentRules:
    prohibited: Lexicon
    lures: Lexicon


def parse_prohibited(text: str, source: str = "prohibited_content.yaml") -> Lexicon:
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader (the C one when built)
    categories = doc.get("categories") if isinstance(doc, dict) else None
    if not isinstance(categories, dict):
        raise FormatError(f"{source}: expected a 'categories:' mapping of category -> phrases")
    phrases: list[tuple[str, str, str]] = []
    for category, items in categories.items():
        if not isinstance(category, str) or not isinstance(items, list):
            raise FormatError(f"{source}: category {category!r} must map to a list of phrases")
        for number, item in enumerate(items, 1):
            if not isinstance(item, str):
                raise FormatError(f"{source}: {category} phrase {number} is not a string")
            phrases.append((category, item, f"{source}: {category} phrase {number}"))
    return Lexicon(phrases)


def parse_lures(text: str, source: str = "phishing_lures.txt") -> Lexicon:
    return Lexicon(("lure", line, f"{source}:{n}") for n, line in data_lines(text))


@cache
def default_content_rules() -> ContentRules:
    return ContentRules(
        prohibited=parse_prohibited(read_data("prohibited_content.yaml")),
        lures=parse_lures(read_data("phishing_lures.txt")),
    )


def prohibited_category(lower_text: str, tokens: set[bytes], rules: ContentRules) -> str | None:
    return rules.prohibited.first_match(lower_text, tokens)


def phishing_lure(lower_text: str, tokens: set[bytes], has_url: bool, rules: ContentRules) -> bool:
    return has_url and rules.lures.first_match(lower_text, tokens) is not None
