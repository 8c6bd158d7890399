"""Template fingerprints and one-time-passcode detection.

template_fp groups messages of one template: the same campaign sent with a different code,
link, amount or first name gets the same 16-hex fingerprint, so velocity and snowshoe rules
(DOMAIN.md 7: E14, "same/similar content across many numbers") can count by template.
Normalisation: links -> <url>, addresses -> <email>, a capitalised name after a greeting ->
<name>, lower case, every word holding a digit -> <n>, whitespace collapsed; then blake2b with
an 8-byte digest (stable across processes and versions of Python, unlike hash()).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Final

from abusedesk.enrich._data import data_lines, read_data
from abusedesk.enrich.lexicon import word_tokens

_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MASK: Final = bytes.maketrans(b"123456789", b"000000000")
_NON_ASCII_DIGIT: Final = re.compile(r"\d")
_GREETINGS: Final = frozenset({
    "hi", "hello", "hey", "heya", "hiya", "dear", "morning", "evening", "afternoon", "thanks",
    "congrats", "congratulations", "hola", "bonjour", "hallo", "ciao", "olá", "ola",
})  # fmt: skip
_GREETING_TOKENS: Final = frozenset(g.encode() for g in _GREETINGS) | {b"thank"}
_TITLES: Final = frozenset({"mr", "mrs", "ms", "miss", "dr"})
_PUNCT: Final = ",.!?:;"
# A 4-8 digit code: not part of a longer number or of a word ("RP176781" is a voucher), not an
# amount (£1000), a date (31/12/2024), a time or a decimal; or the 3-3 split ("123-456").
CODE: Final = re.compile(r"(?<![\w/.,£$€])(?:\d{4,8}|\d{3}-\d{3})(?![\d/:,]|\.\d)")
# A number after these words is where to send or call, not a code ("text MIX to 85069").
_NOT_A_CODE_AFTER: Final = frozenset(
    {"to", "call", "txt", "text", "dial", "tel", "ph", "at", "box"}
)


def _mask_spans(text: str, link_spans: Iterable[tuple[int, int]]) -> str:
    spans = [(start, end, "<url>") for start, end in link_spans]
    if "@" in text:
        spans.extend((m.start(), m.end(), "<email>") for m in _EMAIL.finditer(text))
    if not spans:
        return text
    spans.sort()
    pieces: list[str] = []
    position = 0
    for start, end, mask in spans:
        if start < position:
            continue  # an address inside a link: the link mask covers it
        pieces.append(text[position:start])
        pieces.append(f" {mask} ")
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def normalise(
    text: str, link_spans: Iterable[tuple[int, int]] = (), tokens: set[bytes] | None = None
) -> str:
    """The template of a text. `link_spans` are the links found in it (urls.find_links);
    `tokens`, its lexicon.word_tokens when the caller has them, save computing them again."""
    # ASCII digits all become 0, so "holds a digit" is a substring test (other scripts' digits
    # are checked with a regex, on the rare words that are not ASCII).
    masked = text.encode("utf-8", "surrogatepass").translate(_MASK).decode("utf-8", "surrogatepass")
    return normalise_masked(masked, link_spans, tokens)


def normalise_masked(
    text: str, link_spans: Iterable[tuple[int, int]] = (), tokens: set[bytes] | None = None
) -> str:
    """normalise() of a text whose ASCII digits are already masked to 0 (body.py does that).

    Word passes instead of one regex per rule: CPython's regex engine spends ~10 µs per 100
    characters on a greeting pattern tried at every position, a word loop a tenth of that, and
    the common case (no greeting word, ASCII) skips even the loop.
    """
    words = _mask_spans(text, link_spans).split()
    if tokens is None:
        tokens = word_tokens(text.lower())
    if text.isascii() and _GREETING_TOKENS.isdisjoint(tokens):
        return " ".join(["<n>" if "0" in word else word for word in words]).lower()
    out: list[str] = []
    greeting = False
    previous = ""
    for word in words:
        if "0" in word or (not word.isascii() and _NON_ASCII_DIGIT.search(word)):
            out.append("<n>")
            greeting = False
            continue
        lower = word.lower()
        core = lower.strip(_PUNCT)
        if greeting and core in _TITLES:
            out.append(lower)  # "Dear Mr Smith": the name is the word after the title
            continue
        if greeting and word[0].isupper():
            out.append("<name>" + (word[-1] if word[-1] in _PUNCT else ""))
            greeting = False
            continue
        greeting = core in _GREETINGS or (core == "you" and previous == "thank")
        previous = core
        out.append(lower)
    return " ".join(out)


def _digest(normalised: str) -> str:
    return hashlib.blake2b(normalised.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def template_fp(
    text: str, link_spans: Iterable[tuple[int, int]] = (), tokens: set[bytes] | None = None
) -> str:
    return _digest(normalise(text, link_spans, tokens))


def template_fp_masked(
    text: str, link_spans: Iterable[tuple[int, int]] = (), tokens: set[bytes] | None = None
) -> str:
    """template_fp of a text whose ASCII digits are already masked to 0."""
    return _digest(normalise_masked(text, link_spans, tokens))


@dataclass(frozen=True, slots=True)
class OtpKeywords:
    words: frozenset[bytes]  # whole words, UTF-8 (compared with lexicon.word_tokens)
    substrings: tuple[str, ...]  # scripts written without spaces


def parse_otp_keywords(text: str) -> OtpKeywords:
    entries = [line.lower() for _, line in data_lines(text)]
    return OtpKeywords(
        words=frozenset(e.encode() for e in entries if not e.startswith("~")),
        substrings=tuple(e[1:] for e in entries if e.startswith("~")),
    )


@cache
def default_otp_keywords() -> OtpKeywords:
    return parse_otp_keywords(read_data("otp_keywords.txt"))


def is_otp_like(lower_text: str, tokens: set[bytes], keywords: OtpKeywords) -> bool:
    """A 4-8 digit code next to a passcode word (code, OTP, PIN, código, 验证码, ...).
    The word test (a set operation) goes first: most texts have no passcode word, and the code
    regex starts with a lookbehind tried at every position."""
    # "<#>" opens Android SMS Retriever messages, which exist only to carry a passcode
    # ("<#> Acme: use 876041 to sign in"), whatever words surround it.
    if lower_text.startswith("<#>") and CODE.search(lower_text):
        return True
    if keywords.words.isdisjoint(tokens) and (
        lower_text.isascii() or not any(s in lower_text for s in keywords.substrings)
    ):
        return False
    for match in CODE.finditer(lower_text):
        before = lower_text[max(0, match.start() - 12) : match.start()].split()
        if not before or before[-1].strip(":") not in _NOT_A_CODE_AFTER:
            return True
    return False
