"""The cache layer over body.py: `text_fields(text)` is `body.analyse(text)`, computed once per
form of text that provably gives the same fields. Fenced: nothing here defines a field, and
tests/enrich/test_body_cache.py compares every answer with body.analyse.

Personalised texts differ mostly in their tracking links, so the analysis is cached on the text
with its digits masked (body.py) and its link paths masked too ("bluecart.es/t/x"): on the
simulator's traffic, 112,739 messages are 93,153 texts once digits are masked and 13,074 once
paths are. Link and template fields depend on hosts only. The word lists and the passcode test
are shared as well when every path is inert (_inert: nothing in it can take part in a phrase or
a passcode); otherwise they are read on the text itself. Standalone ids ("order S1234567") are
masked too where no field can see them (_mask_ids). Each rule's argument is in its docstring.

The caches: path-masked texts (_pathless_*, short and long texts apart), their id-masked forms
(_ids_*), the word fields of texts with a path that is not inert (_own_words), texts whose
masked paths lie outside every link (_analyse_whole), the link fields of texts whose hosts hold
digits (_exact_links_masked), and whether a host label is a phrase word (_LABELS).
"""

from __future__ import annotations

import re
import string
from functools import cache, lru_cache
from typing import Any, Final, NamedTuple

from abusedesk.enrich.body import (
    LINK_FIELDS,
    MASK,
    MAX_TEXT,
    Analysis,
    has_punycode,
    read,
    with_real_links,
)
from abusedesk.enrich.content import (
    ContentRules,
    default_content_rules,
    phishing_lure,
    prohibited_category,
)
from abusedesk.enrich.fingerprint import CODE, default_otp_keywords, is_otp_like
from abusedesk.enrich.lexicon import TOKEN_TABLE, word_tokens
from abusedesk.enrich.urls import Link, default_shorteners, find_links, link_fields

_SHORT: Final = 1024  # characters; SMS-sized texts get the large cache, long emails a small one


# Link paths, for a second cache key. Personalised texts differ mostly in their tracking
# links ("bluecart.es/t/p74Q6r"): on the simulator's 112,739 messages, masking digits leaves
# 93,153 distinct texts, masking paths as well leaves 13,074. Link fields depend on hosts only
# and the fingerprint masks whole links, so both are computed once per path-masked text. The
# path pattern admits no dot or colon, so a path can never hide a second link.
# Anchored on ".tld/", a literal the regex engine can scan for, instead of a host pattern
# tried at every position (measured 15 us a text against under 1 us).
_PATH: Final = re.compile(r"(\.[A-Za-z]{2,63})(/[A-Za-z0-9_~%+=&\-]+)+")
# What may follow a path for it to be inert (see _inert): a separator in every reading.
_AFTER_PATH: Final = frozenset(" \t\n\r.,;:!?)]}>\"'")
# Where a passcode could start (fingerprint.CODE: 3 digits at least, and not after a word
# character, "/", "." or ","): in a path, only after one of the path's other characters.
_CODE_IN_PATH: Final = re.compile(r"[~%+=&\-]\d{3}")
_THREE_DIGITS: Final = re.compile(r"\d{3}")
# Whitespace and then a non-space character: a whole word lies between two places.
_SPACE_THEN_WORD: Final = re.compile(r"\s\S")
# A code's look-back window (fingerprint.is_otp_like reads 12 characters before it), plus one.
_CODE_REACH: Final = 13


def _mask_paths(text: str) -> tuple[str, tuple[int, ...], list[re.Match[str]]]:
    """The text with every link path replaced by "/x", where each "/x" starts, and the
    matches of the paths."""
    matches = list(_PATH.finditer(text))
    if not matches:
        return text, (), matches
    parts: list[str] = []
    positions: list[int] = []
    last = length = 0
    for match in matches:
        head = text[last : match.end(1)]
        parts.append(head)
        length += len(head)
        positions.append(length)
        parts.append("/x")
        length += 2
        last = match.end()
    parts.append(text[last:])
    return "".join(parts), tuple(positions), matches


def _inert(text: str, match: re.Match[str]) -> bool:
    """A link path the word lists and the passcode test cannot see, so that masking it to "/x"
    changes no field. A phrase match that involves path characters either starts in the path,
    or starts before it and reaches it through the host's last label (the path follows it
    after "/"); the passcode test reads words anywhere and codes near them. So it holds when:
    - no phrase match starts in the path (its first word would be a token of the path: only
      then is a phrase tried there, on the text from the path on);
    - no phrase match runs from the label before it into it: that needs the label to be a
      phrase word and the path's first token to be one too, or a number ({n});
    - no code can start in it (a code is 4-8 digits or 3-3, not after a word character or
      "/"); a passcode keyword among its tokens matters only when the text holds a code;
    - no code after it has the path in its look-back (the last word in the 12 characters
      before a code, which decides "text MIX to 85069"): a word between them ends that;
    - what follows it separates words in both readings, so "x" joins no following letters.
    "x" itself is checked once to be no word (_Vocabulary)."""
    vocabulary = _vocabulary()
    if not vocabulary.usable:
        return False
    start, end = match.end(1), match.end()
    path = text[start:end]  # group 2 holds only the last segment
    if _CODE_IN_PATH.search(path):
        return False
    if end < len(text) and text[end] not in _AFTER_PATH:
        return False
    # A code starting within the look-back window after the path (its 3 first digits; any
    # later code's gap holds this one's), with no whole word between them. ASCII digits are
    # all 0 here, so a substring test rules most windows out before the regex runs.
    reach = end + _CODE_REACH + 2
    window = text[end:reach]
    if "000" in window or not window.isascii():
        digits = _THREE_DIGITS.search(text, end, reach)
        if digits is not None and not _SPACE_THEN_WORD.search(text, end, digits.start()):
            return False
    lower = path.lower()
    split = lower.encode("ascii").translate(TOKEN_TABLE).split()
    if split and _label_is_word(match.group(1)) and _continues(split[0], vocabulary):
        return False
    if not vocabulary.otp_words.isdisjoint(split) and CODE.search(text):
        return False
    hits = vocabulary.anchors.intersection(split)
    if not hits:
        return True
    if all(_no_joint_after(hit.decode(), lower, vocabulary.part_anchors) for hit in hits):
        return True
    rest = text[start:].lower()  # a phrase starting in the path may end after it
    rules = default_content_rules()
    tokens = set(split)
    return not any(
        lexicon.starts_within(rest, len(path), tokens)
        for lexicon in (rules.prohibited, rules.lures)
    )


# Per host label (".com", with its dot, as written): whether a phrase word can match it. Few
# labels recur; the dict is bounded against hostile text.
_LABELS: dict[str, bool] = {}


def _label_is_word(dotted: str) -> bool:
    known = _LABELS.get(dotted)
    if known is None:
        if len(_LABELS) >= 4096:
            _LABELS.clear()
        known = _LABELS[dotted] = _is_word(dotted[1:].lower().encode("ascii"), _vocabulary())
    return known


def _is_word(token: bytes, vocabulary: _Vocabulary) -> bool:
    """A token some phrase word can match (at any place)."""
    return token in vocabulary.words or token.startswith(vocabulary.prefixes)


def _continues(first: bytes, vocabulary: _Vocabulary) -> bool:
    """Whether a phrase's next place can match at a path whose first token is `first`: a
    word, or {n} (a number starts with a digit; the path holds no currency sign). The
    separator between places is 1-3 non-word characters, so only the first token is reached;
    "_" ends the separator and starts no phrase word, and splitting at it only adds tokens."""
    return _is_word(first, vocabulary) or first[:1].isdigit()


def _no_joint_after(anchor: str, lower_path: str, part_anchors: frozenset[str]) -> bool:
    """A part-only anchor ("e" of "e-cig") that no joint follows anywhere in the path, and
    that does not end it (the text after may join it): no word can start there."""
    return (
        anchor in part_anchors
        and not lower_path.endswith(anchor)
        and f"{anchor}-" not in lower_path
    )


class _Vocabulary(NamedTuple):
    words: frozenset[bytes]  # every token a phrase word can match, at any place
    prefixes: tuple[bytes, ...]  # and the prefixes of `word*`
    anchors: frozenset[bytes]  # the tokens a phrase's first word can match
    part_anchors: frozenset[str]  # of them, those that are only a first part (lexicon.py)
    otp_words: frozenset[bytes]
    usable: bool  # "x", the masked path's own token, is none of them


@cache
def _vocabulary() -> _Vocabulary:
    rules = default_content_rules()
    words = rules.prohibited.words | rules.lures.words
    prefixes = rules.prohibited.prefixes + rules.lures.prefixes
    anchors = rules.prohibited.anchors | rules.lures.anchors
    part_anchors = (rules.prohibited.part_anchors | rules.lures.part_anchors) - {
        anchor.decode() for anchor in anchors if not _only_part(anchor.decode(), rules)
    }
    otp_words = default_otp_keywords().words
    x = b"x"
    usable = not (x in words or x in anchors or x in otp_words or x.startswith(prefixes))
    return _Vocabulary(words, prefixes, anchors, part_anchors, otp_words, usable)


def _only_part(anchor: str, rules: ContentRules) -> bool:
    """True when neither lexicon has the anchor as anything but a first part."""
    return all(
        anchor in lexicon.part_anchors or anchor.encode() not in lexicon.anchors
        for lexicon in (rules.prohibited, rules.lures)
    )


def _path_masked(pathless: str, positions: tuple[int, ...]) -> Analysis | None:
    """The analysis of a path-masked text, None when a masked path lies in no link. Cached:
    SMS-sized texts in a large cache, long emails in a small one."""
    if len(pathless) <= _SHORT:
        return _pathless_short(pathless, positions)
    return _pathless_long(pathless, positions)


def _links_of_masked(pathless: str, positions: tuple[int, ...]) -> list[Link] | None:
    """The links of a path-masked text, or None when a masked path ("/x" at each position)
    lies in no link: then the masking changed what the text says and cannot be shared."""
    links = find_links(pathless, default_shorteners())
    if not all(any(link.start <= p < link.end for link in links) for p in positions):
        return None
    return links


def _pathless(text: str, positions: tuple[int, ...]) -> Analysis | None:
    """The analysis of a path-masked text: that of its form with standalone ids masked too
    (_mask_ids), shared by the texts of one template that differ in order numbers."""
    keyed = _mask_ids(text)
    if keyed == text:
        return _analyse_pathless(text, positions)
    if len(keyed) <= _SHORT:
        return _ids_short(keyed, positions)
    return _ids_long(keyed, positions)


def _analyse_pathless(text: str, positions: tuple[int, ...]) -> Analysis | None:
    links = _links_of_masked(text, positions)
    return None if links is None else read(text, links, masked=True)


_pathless_short = lru_cache(maxsize=32768)(_pathless)
_pathless_long = lru_cache(maxsize=2048)(_pathless)
_ids_short = lru_cache(maxsize=16384)(_analyse_pathless)
_ids_long = lru_cache(maxsize=1024)(_analyse_pathless)

# A standalone word of letters and digits that starts with a letter, after digit masking
# ("S0000000", "#T0000000": order, receipt and reference numbers): what sets apart many texts
# of one template once their link paths are masked (on the simulator's traffic, 16,239
# path-masked texts are 6,826 with these masked as well). Standing alone: after the start,
# whitespace, "#", an opening bracket or a quote, and before the end, whitespace, closing
# punctuation, or "." / ":" that end a sentence (so it is in no link, address or number).
_ID: Final = re.compile(r"(?<![^\s#(\[\"'])[A-Za-z]+0[A-Za-z0]*(?=[\s,;!?)\]}\"']|[.:](?:\s|$)|$)")
_TO_Q: Final = str.maketrans(string.ascii_letters, "q" * len(string.ascii_letters))


def _mask_ids(text: str) -> str:
    """The text with the letters of each standalone id (_ID) replaced by "q", which changes
    no field. Such an id is one run of word characters holding a digit between non-word
    characters, and its replacement is another: no phrase word can match either (words are
    letters only, and a match covers whole runs), a {n} cannot start inside either (it starts
    with a letter), no code can start inside or next to either (a code is not after a word
    character, and the characters around the id do not change), neither is a passcode word
    nor the word before a code that "to" or "call" would be, the fingerprint masks both to
    <n>, and no link, address or path can hold either. The length is kept, so positions
    after it are too. Left as it is: an id that a `word*` of the word lists, or a passcode
    word, could read (before or after masking)."""
    if "0" not in text:
        return text
    return _ID.sub(_id_form, text)


def _id_form(match: re.Match[str]) -> str:
    word = match.group()
    masked = word.translate(_TO_Q)
    vocabulary = _vocabulary()
    for form in (word.lower().encode("ascii"), masked.encode("ascii")):
        if form in vocabulary.otp_words or form.startswith(vocabulary.prefixes):
            return word
    return masked


_TEXT_FIELDS: Final = ("prohibited_category", "phishing_lure", "is_otp_like")


@lru_cache(maxsize=8192)
def _own_words(masked_text: str) -> tuple[str | None, bool, bool]:
    """The word-list fields read on a text itself: (prohibited category, a lure phrase is
    there, passcode), for texts whose paths are not inert."""
    lower = masked_text.lower()
    tokens = word_tokens(lower)
    rules = default_content_rules()
    return (
        prohibited_category(lower, tokens, rules),
        phishing_lure(lower, tokens, True, rules),
        is_otp_like(lower, tokens, default_otp_keywords()),
    )


@lru_cache(maxsize=4096)
def _analyse_whole(masked_text: str) -> Analysis:
    return read(masked_text, find_links(masked_text, default_shorteners()), masked=True)


def _analyse_masked(masked_text: str) -> Analysis:
    """body.read() of a digit-masked text with its links: the analysis of its path-masked form when its paths
    are inert, else that form's link and template fields with the word lists read on the
    text itself, else (a masked path outside every link) its own full analysis."""
    # Shared by every text that differs only in link paths (None: a masked path turned out
    # not to lie in a link; then only the text's own analysis is exact).
    pathless, positions, matches = _mask_paths(masked_text)
    base = _path_masked(pathless, positions)
    if base is None:
        return _analyse_whole(masked_text)
    for match in matches:
        if not _inert(masked_text, match):
            break
    else:
        return base
    category, lure, otp = _own_words(masked_text)
    fields = {k: v for k, v in base.fields.items() if k not in _TEXT_FIELDS}
    if category is not None:
        fields["prohibited_category"] = category
    fields["phishing_lure"] = lure and bool(fields["has_url"])
    fields["is_otp_like"] = otp
    return Analysis(fields, base.digit_hosts)


def _exact_links(fields: dict[str, Any], text: str) -> dict[str, Any]:
    """body.with_real_links, with the link fields read on the text with its paths masked (they
    depend on hosts only), once per such form."""
    pathless, positions, _ = _mask_paths(text)
    links = _exact_links_masked(pathless, positions)
    if links is None:  # a masked path outside every link
        return with_real_links(fields, text)
    out = {k: v for k, v in fields.items() if k not in LINK_FIELDS}
    out.update(links)
    return out


@lru_cache(maxsize=4096)
def _exact_links_masked(pathless: str, positions: tuple[int, ...]) -> dict[str, Any] | None:
    links = _links_of_masked(pathless, positions)
    return None if links is None else link_fields(links, default_shorteners())


def text_fields(text: str) -> dict[str, Any]:
    """body.analyse(text), cached. The dict may be shared: copy before changing it;
    url_domains is a tuple."""
    text = text[:MAX_TEXT]
    masked = text.encode("utf-8", "surrogatepass").translate(MASK)
    if has_punycode(text):  # a TLD may hold digits: links from the real text, uncached (rare)
        links = find_links(text, default_shorteners())
        return read(masked.decode("utf-8", "surrogatepass"), links, masked=True).fields
    analysis = _analyse_masked(masked.decode("utf-8", "surrogatepass"))
    if not analysis.digit_hosts:
        return analysis.fields
    return _exact_links(analysis.fields, text)


def cache_clear() -> None:
    """Forget every cached analysis (tests, or after editing the shipped lists in place)."""
    _pathless_short.cache_clear()
    _pathless_long.cache_clear()
    _ids_short.cache_clear()
    _ids_long.cache_clear()
    _own_words.cache_clear()
    _analyse_whole.cache_clear()
    _vocabulary.cache_clear()
    _LABELS.clear()
    _exact_links_masked.cache_clear()
