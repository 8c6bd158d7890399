"""Text as the content models read it: links, addresses, numbers and codes made into tokens.

A model that learns "87121" learns one competition; a model that learns "a 5-digit short code"
learns the pattern. So, before tokenising:

- a link becomes `zurlz` plus its host's last two labels (`zdomz_example_com`), so a domain
  that recurs in spam can still be learnt while the path (tracking ids, unique per message) is
  dropped;
- an email address becomes `zmailz`;
- a currency sign becomes `zmoneyz`;
- a run of digits becomes `znumNz` with N its length (capped at 12), so phone numbers (11),
  short codes (5) and prices (1-3) stay distinct;
- a word of letters and digits (`X7K2QA`, a voucher code) becomes `zcodez`.

Text is lower-cased and cut to `MAX_MODEL_CHARS`: a model's work per message is bounded
whatever arrives, and the first few thousand characters are what decides.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

MAX_MODEL_CHARS: Final = 6000

_LINK: Final = re.compile(
    r"(?i)\b(?:https?://|www\.)(?P<host>[^\s/?#<>\"']+)[^\s<>\"']*"
    r"|\b(?P<bare>(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|co\.uk|uk|ly|me|io|xyz|top|ru|de))"
    r"(?:/[^\s<>\"']*)?\b"
)
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONEY: Final = re.compile(r"[£$€¥₹]")
_CODE: Final = re.compile(r"\b(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{5,}\b", re.IGNORECASE)
_DIGITS: Final = re.compile(r"\d+")
_HOST_CHARS: Final = re.compile(r"[^a-z0-9]+")


def _link(match: re.Match[str]) -> str:
    host = (match.group("host") or match.group("bare") or "").lower().rstrip(".")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    labels = [label for label in host.split(".") if label]
    tail = _HOST_CHARS.sub("_", "_".join(labels[-2:])) if labels else ""
    return f" zurlz zdomz_{tail} " if tail else " zurlz "


def _digits(match: re.Match[str]) -> str:
    return f" znum{min(len(match.group()), 12)}z "


@lru_cache(maxsize=1 << 16)
def normalize_token(token: str) -> str:
    """One whitespace-separated token, normalised (the rules above, in that order)."""
    if "@" in token and _EMAIL.search(token):
        token = _EMAIL.sub(" zmailz ", token)
    if "." in token or ":" in token:
        token = _LINK.sub(_link, token)
    token = _MONEY.sub(" zmoneyz ", token)
    token = _CODE.sub(" zcodez ", token)
    return _DIGITS.sub(_digits, token).lower()


def normalize(text: str) -> str:
    """The text with links, addresses, money, codes and numbers as tokens, lower case.

    Per whitespace-separated token: a token of letters only (most of them) is kept, any other
    goes through `normalize_token`, whose answers are cached, since tokens recur ("£100",
    "Txt", "http://...") across messages. One scan of five patterns per message cost five
    times more than the rest of scoring."""
    if len(text) > MAX_MODEL_CHARS:
        text = text[:MAX_MODEL_CHARS]
    return " ".join([t if t.isalpha() else normalize_token(t) for t in text.split()]).lower()
