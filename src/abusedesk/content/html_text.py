"""HTML to plain text for the models: tags dropped, links kept as text, entities decoded.

Not a renderer: a model needs the words and the links, not the layout. Scripts, styles and
comments are removed whole; `href` targets are written into the text (a spam link is often
only in the markup); block tags become line breaks. Regular expressions over a text the
parser has already cut to its limits, so the work is linear in the input.
"""

from __future__ import annotations

import html
import re
from typing import Final

_DROP: Final = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|head)\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL
)
_HREF: Final = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*["']?([^"'\s>]+)[^>]*>""", re.IGNORECASE)
_BLOCK: Final = re.compile(r"</?(?:p|div|br|tr|li|h[1-6]|table|td)\b[^>]*>", re.IGNORECASE)
_TAG: Final = re.compile(r"<[^>]{0,2000}>")
_SPACES: Final = re.compile(r"[ \t\r\f\v\xa0]+")


def html_to_text(markup: str) -> str:
    """The visible words and the link targets of an HTML document."""
    text = _DROP.sub(" ", markup)
    text = _HREF.sub(lambda m: f" {m.group(1)} ", text)
    text = _BLOCK.sub("\n", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    return _SPACES.sub(" ", text)


def looks_like_html(text: str) -> bool:
    """True when a body is markup rather than text (an event's body may be either)."""
    head = text[:2000].lower()
    return "<html" in head or "<body" in head or "<div" in head or "<p>" in head or "<br" in head
