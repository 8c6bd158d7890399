"""What a message text says: links, template, prohibited content, lures and passcodes.

Read this first: `analyse(text)` is the definition of every body field, uncached. Enrichment
calls `body_cache.text_fields`, which returns exactly the same fields and is tested against
this module on simulated and generated texts.

The text is read with its ASCII digits replaced by 0: codes, amounts and numbers are masked by
the fingerprint anyway, phrases cannot contain digits, the passcode test looks at digit-run
lengths, and link extraction sees the same shapes. Two exceptions read the real text:
- a text that holds a punycode label ("xn--") has its links found in the real text, because a
  punycode top-level domain can hold digits ("shop.xn--p1ai" is .рф; "xn--p0ai" is no suffix,
  so with its digits masked the link would not be seen at all);
- when a link's host holds a digit ("paypa1.com", an IP address) the link fields (domain,
  shortener, brand) come from the links of the real text.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from abusedesk.enrich.content import default_content_rules, phishing_lure, prohibited_category
from abusedesk.enrich.fingerprint import (
    default_otp_keywords,
    is_otp_like,
    template_fp,
    template_fp_masked,
)
from abusedesk.enrich.lexicon import word_tokens
from abusedesk.enrich.urls import Link, default_shorteners, find_links, link_fields

MAX_TEXT: Final = 4096  # characters read: a body is attacker-written and unbounded
MASK: Final = bytes.maketrans(b"123456789", b"000000000")
# The link fields read again on the real text when a host holds a digit (the others follow).
LINK_FIELDS: Final = ("first_url_domain", "lookalike_brand")


def analyse(text: str) -> dict[str, Any]:
    """The body fields of a message text (the definition; uncached)."""
    text = text[:MAX_TEXT]
    masked = mask_digits(text)
    if has_punycode(text):
        return read(masked, find_links(text, default_shorteners()), masked=True).fields
    analysis = read(masked, find_links(masked, default_shorteners()), masked=True)
    if not analysis.digit_hosts:
        return analysis.fields
    return with_real_links(analysis.fields, text)


class Analysis(NamedTuple):
    fields: dict[str, Any]
    digit_hosts: bool  # a link host holds a digit: link fields need the real text


def read(text: str, links: list[Link], *, masked: bool) -> Analysis:
    """Every body field of `text`, given its links; `masked`: its ASCII digits are 0."""
    shorteners = default_shorteners()
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


def mask_digits(text: str) -> str:
    """The text with its ASCII digits replaced by 0 (lone surrogates kept)."""
    return text.encode("utf-8", "surrogatepass").translate(MASK).decode("utf-8", "surrogatepass")


def has_punycode(text: str) -> bool:
    return "xn--" in text or "XN--" in text


def with_real_links(fields: dict[str, Any], text: str) -> dict[str, Any]:
    """`fields` with the link fields of the links of `text` itself (hosts with their digits)."""
    shorteners = default_shorteners()
    out = {k: v for k, v in fields.items() if k not in LINK_FIELDS}
    out.update(link_fields(find_links(text, shorteners), shorteners))
    return out
