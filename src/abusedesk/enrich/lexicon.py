"""Phrase lexicons: editable word lists compiled to regexes, indexed by their first word.

A body is checked against a lexicon of ~150 phrases at every miss of the body cache. One big
alternation regex costs ~20 µs per 100 characters in CPython (it tries every alternative at
every position), so phrases are instead indexed by the words their first place accepts: the
body's word set is computed once (bytes.translate + split, all in C), intersected with the
index, and only the few phrases whose first word occurs are searched. Ordinary text, which
contains none of the first words, costs one set intersection.

The phrase syntax is documented in data/prohibited_content.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from abusedesk.errors import FormatError

NUMBER_SLOT: Final = "{n}"  # a number or amount in a phrase (not "#": YAML reads " #" as a comment)
# Amounts as they look after digit masking ("$500" -> "$000"): currency, digits, separators,
# an optional k/m multiplier.
_NUMBER: Final = r"[$£€]?\d[\d,.]*[km]?"
# Between two words: whitespace, hyphens or light punctuation ("account: suspended").
_SEP: Final = r"\W{1,3}"
_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*\*?")

# ASCII bytes other than a-z and 0-9 become spaces; bytes >= 0x80 (UTF-8 of other scripts) are
# kept, so "código" stays one token. Input is lower-cased first.
TOKEN_TABLE: Final = bytes(
    c if (0x61 <= c <= 0x7A or 0x30 <= c <= 0x39 or c >= 0x80) else 0x20 for c in range(256)
)


def word_tokens(lower_text: str) -> set[bytes]:
    """The set of words of a lower-cased text, as UTF-8 bytes (ASCII punctuation splits words)."""
    return set(lower_text.encode("utf-8", "surrogatepass").translate(TOKEN_TABLE).split())


@dataclass(frozen=True, slots=True)
class Phrase:
    label: str
    text: str
    pattern: re.Pattern[str]
    source: str
    # A phrase that is one place of plain words matches exactly when one of them is a token of
    # the text, so finding its anchor is the whole test and no regex runs.
    is_word: bool
    # Per place that every match goes through, tokens one of which a match leaves in the text
    # (required_tokens): a text lacking all of one place's cannot match, and no regex runs.
    required: tuple[frozenset[bytes], ...] = ()

    def search(self, lower_text: str) -> bool:
        # The left word boundary is checked here rather than with a leading (?<!\w): a pattern
        # that starts with literal words lets the regex engine skip ahead to them, ten times
        # faster than testing a lookbehind at every position.
        for match in self.pattern.finditer(lower_text):
            start = match.start()
            if start == 0 or not _is_word_char(lower_text[start - 1]):
                return True
        return False


def _word_places(text: str) -> Iterator[tuple[bool, list[str]]]:
    """(optional, alternative words) for each place of a phrase that holds words (not {n})."""
    for slot in text.lower().split():
        optional = slot.endswith("?") and len(slot) > 1
        body = slot[:-1] if optional else slot
        if body != NUMBER_SLOT:
            yield optional, body.split("|")


def _parts(word: str) -> list[str]:
    """The pieces of a word between its joints (- and '), as tokenising may split them."""
    return [p for p in re.split(r"['-]", word) if p]


def required_tokens(text: str) -> tuple[frozenset[bytes], ...]:
    """For each place of a phrase that a match must go through, the tokens of which a match
    leaves at least one in the text's word set (lexicon.word_tokens).

    A word matches a whole run of word characters (see vocabulary()); tokenising splits it at
    a hyphen, a space or an ASCII apostrophe, and keeps a curly apostrophe inside the token. A
    word with one joint therefore leaves its first or last part, its joined form, or its form
    with a curly apostrophe. Places that are optional, a number, hold a `word*`, or a word with
    two joints or more are left out: they require nothing that is cheap to state."""
    required: list[frozenset[bytes]] = []
    for optional, words in _word_places(text):
        if optional:
            continue
        forms: set[bytes] = set()
        for word in words:
            parts = _parts(word)
            if word.endswith("*") or len(parts) > 2:
                break
            forms.update(p.encode() for p in parts)
            forms.add(word.replace("-", "").replace("'", "").encode())
            forms.add(word.replace("-", "").replace("'", "’").encode())
        else:
            required.append(frozenset(forms))
    return tuple(required)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _word_regex(word: str) -> str:
    prefix = word.endswith("*")
    core = word[:-1] if prefix else word
    out = []
    for ch in core:
        if ch == "-":
            out.append(r"[\s-]?")
        elif ch == "'":
            out.append("['’]?")
        else:
            out.append(re.escape(ch))
    return "".join(out) + (r"\w*" if prefix else "")


def _part_anchors(phrases: Iterable[str]) -> frozenset[str]:
    """Anchors that are only the first part of a first word with a joint ("e" of "e-cig", "it"
    of "it's"): a match can start at such a token only where a joint follows it, so a text in
    which it is followed by another character cannot start that word there."""
    parts: set[str] = set()
    whole: set[str] = set()
    for text in phrases:
        slots = text.lower().split()
        for word in slots[0].rstrip("?").split("|") if slots else ():
            pieces = re.split(r"['-]", word)
            if len(pieces) > 1:
                parts.add(pieces[0])
            for anchor in _anchors(word):
                if len(pieces) == 1 or anchor.decode() != pieces[0]:
                    whole.add(anchor.decode())
    return frozenset(parts - whole)


def _anchors(word: str) -> set[bytes]:
    """Tokens under which a first-place word is found (tokenising splits on - and ')."""
    first = re.split(r"['-]", word)[0]
    found = {first.encode()}
    if "-" in word:
        found.add(word.replace("-", "").split("'")[0].encode())
    return found


def compile_phrase(text: str, source: str) -> tuple[re.Pattern[str], set[bytes]]:
    """A phrase of the lexicon syntax -> (regex over lower-cased text, first-word anchors)."""
    slots = text.lower().split()
    if not slots:
        raise FormatError(f"{source}: empty phrase")
    parts: list[str] = []
    anchors: set[bytes] = set()
    for position, slot in enumerate(slots):
        optional = slot.endswith("?") and len(slot) > 1
        body = slot[:-1] if optional else slot
        if body == NUMBER_SLOT:
            if position == 0:
                raise FormatError(f"{source}: a phrase cannot start with {{n}} (a number)")
            alternation = _NUMBER
        else:
            words = body.split("|")
            for word in words:
                if not _WORD_RE.fullmatch(word):
                    raise FormatError(
                        f"{source}: {word!r} in {text!r} is not a word (letters, inner - or ', "
                        "an optional trailing *; write {n} for a number)"
                    )
                if position == 0 and word.endswith("*"):
                    raise FormatError(f"{source}: the first word of {text!r} cannot end with *")
            if position == 0:
                if optional:
                    raise FormatError(f"{source}: the first word of {text!r} cannot be optional")
                for word in words:
                    anchors |= _anchors(word)
            alternation = "(?:" + "|".join(_word_regex(w) for w in words) + ")"
        if position == 0:
            parts.append(alternation)
        elif optional:
            parts.append(f"(?:{_SEP}{alternation})?")
        else:
            parts.append(f"{_SEP}{alternation}")
    pattern = re.compile("".join(parts) + r"(?!\w)")
    return pattern, anchors


def vocabulary(phrases: Iterable[str]) -> tuple[frozenset[bytes], tuple[bytes, ...]]:
    """Every token a phrase's words can match, at any place: (whole tokens, token prefixes).

    A word matches a whole run of word characters (the separator before it, or the boundary
    check of the first place, and the lookahead after it see to that), and tokenising splits that
    run on - and ' only. So a word is covered by its parts and by its joined form ("e-mail":
    e, mail, email), and a `word*` by its leading parts and, as prefixes, its last part and its
    joined form. A text none of whose tokens are listed here cannot match any phrase word there.
    """
    words: set[bytes] = set()
    prefixes: set[bytes] = set()
    for text in phrases:
        for _optional, place in _word_places(text):
            for word in place:
                core = word.removesuffix("*")
                parts = [p.encode() for p in _parts(core)]
                joined = core.replace("-", "").replace("'", "").encode()
                if word.endswith("*"):
                    words.update(parts[:-1])
                    prefixes.update(parts[-1:])
                    prefixes.add(joined)
                else:
                    words.update(parts)
                    words.add(joined)
    return frozenset(words), tuple(sorted(prefixes))


class Lexicon:
    """Labelled phrases; `first_match` returns the label of the earliest-listed phrase found."""

    def __init__(self, phrases: Iterable[tuple[str, str, str]]) -> None:
        """phrases: (label, phrase text, source for messages) in priority order."""
        compiled: list[Phrase] = []
        by_anchor: dict[bytes, list[int]] = {}
        for label, text, source in phrases:
            pattern, anchors = compile_phrase(text, source)
            for anchor in anchors:
                by_anchor.setdefault(anchor, []).append(len(compiled))
            is_word = " " not in text.strip() and all(w.isalpha() for w in text.lower().split("|"))
            required = () if is_word else required_tokens(text)
            compiled.append(Phrase(label, text, pattern, source, is_word, required))
        self.phrases: tuple[Phrase, ...] = tuple(compiled)
        self.labels: tuple[str, ...] = tuple(dict.fromkeys(p.label for p in compiled))
        self._by_anchor = {a: tuple(ix) for a, ix in by_anchor.items()}
        self._anchors = frozenset(self._by_anchor)
        self.words, self.prefixes = vocabulary(p.text for p in compiled)
        self.part_anchors = _part_anchors(p.text for p in compiled)

    @property
    def anchors(self) -> frozenset[bytes]:
        """The tokens a phrase's first place can produce (the index of first_match)."""
        return self._anchors

    def starts_within(self, lower_text: str, limit: int, tokens: set[bytes]) -> bool:
        """Whether a phrase whose first word is among `tokens` matches starting before `limit`
        (with its left word boundary): `tokens` are those of lower_text[:limit]."""
        for anchor in self._anchors.intersection(tokens):
            for index in self._by_anchor[anchor]:
                for match in self.phrases[index].pattern.finditer(lower_text):
                    start = match.start()
                    if start >= limit:
                        break
                    if start == 0 or not _is_word_char(lower_text[start - 1]):
                        return True
        return False

    def first_match(self, lower_text: str, tokens: set[bytes]) -> str | None:
        hits = self._anchors.intersection(tokens)
        if not hits:
            return None
        if len(hits) == 1:
            candidates: Iterable[int] = self._by_anchor[next(iter(hits))]
        else:
            candidates = sorted({i for a in hits for i in self._by_anchor[a]})
        for index in candidates:
            phrase = self.phrases[index]
            if phrase.is_word:
                return phrase.label
            if all(not place.isdisjoint(tokens) for place in phrase.required) and phrase.search(
                lower_text
            ):
                return phrase.label
        return None

    def matches(self, lower_text: str) -> list[Phrase]:
        """Every phrase found, for explanations and tests (slow path, no index)."""
        return [p for p in self.phrases if p.search(lower_text)]
