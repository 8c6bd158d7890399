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


@lru_cache(maxsize=32768)
def _analyse_short(masked: bytes) -> Analysis:
    return analyse(masked.decode("utf-8", "surrogatepass"), masked=True)


@lru_cache(maxsize=2048)
def _analyse_long(masked: bytes) -> Analysis:
    return analyse(masked.decode("utf-8", "surrogatepass"), masked=True)


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
    _exact_links.cache_clear()
