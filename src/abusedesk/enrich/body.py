"""What a message text says: links, template, prohibited content, lures and passcodes.

Everything here is computed from the text with its ASCII digits replaced by 0, and cached on
that masked text. The features do not depend on which digits a text holds: codes, amounts and
numbers are masked by the fingerprint, phrases cannot contain digits, the passcode test looks
at digit-run lengths, and link extraction sees the same shapes. So the millionth "Your code is
482913" costs one bytes.translate and a cache hit instead of a full analysis. The one
exception is a link whose host holds digits ("paypa1.com", an IP address): its domain, shortener
and brand are recomputed from the real text (cached on it).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final, NamedTuple

from abusedesk.enrich.content import default_content_rules, phishing_lure, prohibited_category
from abusedesk.enrich.fingerprint import (
    default_otp_keywords,
    is_otp_like,
    template_fp,
    template_fp_masked,
)
from abusedesk.enrich.lexicon import word_tokens
from abusedesk.enrich.urls import default_shorteners, find_links, link_fields

MAX_TEXT: Final = 4096  # characters scanned: a body is attacker-written and unbounded
_SHORT: Final = 1024  # bytes; SMS-sized texts get the large cache, long emails a small one
_MASK: Final = bytes.maketrans(b"123456789", b"000000000")
_LINK_FIELDS: Final = ("first_url_domain", "lookalike_brand")


class Analysis(NamedTuple):
    fields: dict[str, Any]
    digit_hosts: bool  # a link host holds a digit: link fields need the real text


def analyse(text: str, *, masked: bool = False) -> Analysis:
    """All text fields of `text` (uncached); `masked`: its ASCII digits are already 0."""
    shorteners = default_shorteners()
    links = find_links(text, shorteners)
    fields = link_fields(links, shorteners)
    lower = text.lower()
    tokens = word_tokens(lower)
    rules = default_content_rules()
    spans = [(link.start, link.end) for link in links]
    fields["template_fp"] = (template_fp_masked if masked else template_fp)(text, spans, tokens)
    category = prohibited_category(lower, tokens, rules)
    if category is not None:
        fields["prohibited_category"] = category
    fields["phishing_lure"] = phishing_lure(lower, tokens, bool(links), rules)
    fields["is_otp_like"] = is_otp_like(lower, tokens, default_otp_keywords())
    return Analysis(fields, any(any(c.isdigit() for c in link.host) for link in links))


# Link paths, for a second cache key. Personalised texts differ mostly in their tracking
# links ("bluecart.es/t/p74Q6r"): on the simulator's 112,739 messages, masking digits leaves
# 93,153 distinct texts, masking paths as well leaves 13,074. Link fields depend on hosts only
# and the fingerprint masks whole links, so both are computed once per path-masked text. The
# path pattern admits no dot or colon, so a path can never hide a second link.
# Anchored on ".tld/", a literal the regex engine can scan for, instead of a host pattern
# tried at every position (measured 15 us a text against under 1 us).
_PATH: Final = re.compile(r"(\.[A-Za-z]{2,63})(/[A-Za-z0-9_~%+=&\-]+)+")


def _links_and_template(masked_text: str) -> tuple[dict[str, Any], bool] | None:
    """Link and template fields shared by texts that differ only in link paths, or None when
    a masked path turns out not to lie in a link (then only a full analysis is exact)."""
    parts: list[str] = []
    positions: list[int] = []
    last = length = 0
    for match in _PATH.finditer(masked_text):
        head = masked_text[last : match.end(1)]
        parts.append(head)
        length += len(head)
        positions.append(length)
        parts.append("/x")
        length += 2
        last = match.end()
    if not positions:
        return _path_masked(masked_text.encode("utf-8", "surrogatepass"), ())
    parts.append(masked_text[last:])
    return _path_masked("".join(parts).encode("utf-8", "surrogatepass"), tuple(positions))


@lru_cache(maxsize=32768)
def _path_masked(pathless: bytes, positions: tuple[int, ...]) -> tuple[dict[str, Any], bool] | None:
    text = pathless.decode("utf-8", "surrogatepass")
    shorteners = default_shorteners()
    links = find_links(text, shorteners)
    spans = [(link.start, link.end) for link in links]
    if not all(any(start <= p < end for start, end in spans) for p in positions):
        return None
    fields = link_fields(links, shorteners)
    fields["template_fp"] = template_fp_masked(text, spans, word_tokens(text.lower()))
    return fields, any(any(c.isdigit() for c in link.host) for link in links)


def _analyse_fast(masked_text: str) -> Analysis:
    """analyse() of a digit-masked text, with its link and template part shared by every text
    that differs only in link paths. The word lists still read the text itself."""
    shared = _links_and_template(masked_text)
    if shared is None:
        return analyse(masked_text, masked=True)
    base, digit_hosts = shared
    fields = dict(base)
    lower = masked_text.lower()
    tokens = word_tokens(lower)
    rules = default_content_rules()
    category = prohibited_category(lower, tokens, rules)
    if category is not None:
        fields["prohibited_category"] = category
    fields["phishing_lure"] = phishing_lure(lower, tokens, bool(base["has_url"]), rules)
    fields["is_otp_like"] = is_otp_like(lower, tokens, default_otp_keywords())
    return Analysis(fields, digit_hosts)


@lru_cache(maxsize=32768)
def _analyse_short(masked: bytes) -> Analysis:
    return _analyse_fast(masked.decode("utf-8", "surrogatepass"))


@lru_cache(maxsize=2048)
def _analyse_long(masked: bytes) -> Analysis:
    return _analyse_fast(masked.decode("utf-8", "surrogatepass"))


@lru_cache(maxsize=4096)
def _exact_links(text: str) -> dict[str, Any]:
    shorteners = default_shorteners()
    return link_fields(find_links(text, shorteners), shorteners)


def text_fields(text: str) -> dict[str, Any]:
    """The body fields of a message text. The dict may be shared: copy before changing it;
    url_domains is a tuple."""
    text = text[:MAX_TEXT]
    masked = text.encode("utf-8", "surrogatepass").translate(_MASK)
    analysis = _analyse_short(masked) if len(masked) <= _SHORT else _analyse_long(masked)
    if not analysis.digit_hosts:
        return analysis.fields
    fields = {k: v for k, v in analysis.fields.items() if k not in _LINK_FIELDS}
    fields.update(_exact_links(text))
    return fields


def cache_clear() -> None:
    """Forget every cached analysis (tests, or after editing the shipped lists in place)."""
    _analyse_short.cache_clear()
    _analyse_long.cache_clear()
    _path_masked.cache_clear()
    _exact_links.cache_clear()
