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


_PATH_START: Final = re.compile(r"[/?#]")
_NOT_IN_INERT_LINK: Final = frozenset("@<>\"'")


def token_key(token: str) -> str:
    """A shorter token that `normalize_token` maps to the same answer: a web link's path cut
    off when nothing in it can change the answer. Fenced speed code (tests compare both):
    tracking links are unique per message ("https://shop.example/t/Xy12Ab"), so without this
    every message missed normalize_token's cache on its link.

    Why it is exact: for a token that starts with "http://" or "https://", holds a host and
    none of `@<>"'`, `_EMAIL` cannot match (no "@") and `_LINK` matches once, from the start
    to the end of the token (its tail admits every other non-space character), giving a
    value of the host alone; the later patterns read only that value.
    """
    if not token.startswith(("https://", "http://")):
        return token
    scheme = 8 if token[4] == "s" else 7
    match = _PATH_START.search(token, scheme)
    if match is None or match.start() == scheme or not _NOT_IN_INERT_LINK.isdisjoint(token):
        return token
    return token[: match.start()] + "/"


# Digits, one for another: every pattern above reads an ASCII digit only as "a digit" (\d,
# [a-z0-9], \w) and keeps none of them (runs become znumNz by their length), so the answer
# does not depend on which digit stands where. Applied to the UTF-8 bytes: bytes 0x31-0x39
# are ASCII digits only, and bytes.translate costs a tenth of str.translate (27 us on the
# simulator's median text, the largest part of scoring a message).
_ONE_DIGIT: Final = bytes.maketrans(b"123456789", b"000000000")
# A web link that token_key cuts to "scheme://host/" when it is a whole token (same
# conditions; `\s` is str.split's whitespace): _cut_path checks that it starts a token. A
# look-behind in the pattern would be the same test, but it keeps the engine from scanning
# for the literal "http" (measured 15 us a text against 4).
_INERT_LINK: Final = re.compile(r"""https?://([^\s/?#@<>"']+)[/?#][^\s@<>"']*(?!\S)""")


def model_key(text: str) -> str:
    """A form of a text (already cut to MAX_MODEL_CHARS) that normalizes to the same string:
    digits made zeros, inert link paths cut (token_key). Fenced speed code, tested against
    normalize of the text itself: messages differ mostly in tracking links, order numbers
    and codes, so on the simulator's day 25,120 SMS bodies are 1,925 keys."""
    text = (
        text.encode("utf-8", "surrogatepass").translate(_ONE_DIGIT).decode("utf-8", "surrogatepass")
    )
    # "://" first: most texts have no web link, and a sub with a group costs even then.
    return _INERT_LINK.sub(_cut_path, text) if "://" in text else text


def _cut_path(match: re.Match[str]) -> str:
    # A match inside a token is left as it is: it holds no whitespace, so no whole-token link
    # can start within it either.
    start = match.start()
    if start and not match.string[start - 1].isspace():
        return match.group()
    return match.string[start : match.end(1)] + "/"


# The last text keyed and its key: the scorer and the campaign index read the same body
# object one after the other (an SMS's body, an email's text), and the second then costs an
# identity test instead of model_key. One tuple, replaced whole, so threads that share it
# read a matching pair; it holds its text, so the identity cannot be reused.
_last: list[tuple[str, str]] = [("", "")]


def text_key(text: str) -> str:
    """model_key of the text cut to MAX_MODEL_CHARS: normalize(text) is a function of it."""
    last = _last[0]
    if text is last[0]:
        return last[1]
    key = model_key(text[:MAX_MODEL_CHARS] if len(text) > MAX_MODEL_CHARS else text)
    _last[0] = (text, key)
    return key


def normalize(text: str) -> str:
    """The text with links, addresses, money, codes and numbers as tokens, lower case.

    Per whitespace-separated token: a token of letters only (most of them) is kept, any other
    goes through `normalize_token`, whose answers are cached, since tokens recur ("£100",
    "Txt", "http://...") across messages. One scan of five patterns per message cost five
    times more than the rest of scoring. Whole texts are cached by model_key, since templates
    recur with other links and numbers in them."""
    return _normalize_key(text_key(text))


@lru_cache(maxsize=1 << 14)
def _normalize_key(text: str) -> str:
    return " ".join(
        [t if t.isalpha() else normalize_token(token_key(t)) for t in text.split()]
    ).lower()


def normalize_plain(text: str) -> str:
    """normalize() without its caches or key: the definition the tests compare it with."""
    if len(text) > MAX_MODEL_CHARS:
        text = text[:MAX_MODEL_CHARS]
    return " ".join(
        [t if t.isalpha() else normalize_token.__wrapped__(t) for t in text.split()]
    ).lower()
