"""Look-alike brands by index: lookalike.lookalike_brand_reference's answer in a few µs.

The reference tries every brand token on every reading of every label (~87 µs a host, in
pure Python). The index looks up what a reading can match instead, then applies the
reference's order rule to the brands found: the first brand in file order that a host hits
and that does not own its registered domain.

* exact tokens: a dict probe per reading and per hyphenated part;
* prefix tokens: a probe per token length, behind a probe of the shortest token length;
* contains tokens: `in` over the readings joined by a space (tokens are letters and digits
  only, so none can straddle two readings);
* fuzzy tokens (`~`): only tokens whose length is within the edit limit of the reading's, and
  of those only the ones with a piece in the reading (one regex search tells whether any
  has). Cut into limit + 1 pieces, a token within that many edits of a reading keeps one
  piece whole, and that piece is a substring of the reading; within_distance, the
  reference's own test, decides the rest.

A host's hits are the union of its labels' (the contains test never spans two readings), so
they are cached per label, and per registered label with its fuzzy hits.

tests/enrich/test_brand_index.py holds the index to the reference on every host of the
simulator's traffic and on generated and hostile hosts.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Final, NamedTuple

from abusedesk.enrich.lookalike import (
    Brand,
    default_brands,
    fuzzy_limit,
    label_variants,
    within_distance,
)

_SEPARATOR: Final = " "  # not a letter or a digit: no token holds it


class _Fuzzy(NamedTuple):
    text: str
    limit: int
    pieces: tuple[str, ...]
    brand: int  # index in file order


def _pieces(text: str, limit: int) -> tuple[str, ...]:
    """`text` cut into limit + 1 contiguous pieces. Fuzzy tokens are written with 6 letters or
    more; an empty piece (a token such as "-----a~") only lets every reading through."""
    count = limit + 1
    size, extra = divmod(len(text), count)
    pieces = []
    start = 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        pieces.append(text[start:end])
        start = end
    return tuple(pieces)


class BrandIndex:
    """The tokens of a brand list by kind, for `find`."""

    def __init__(self, brands: tuple[Brand, ...], *, cache_size: int = 65536) -> None:
        self.brands = brands
        # Labels repeat far more than hosts ("secure", "login", one registered domain under
        # thousands of generated subdomains): a host's hits are the union of its labels'.
        self._label_hits = lru_cache(maxsize=cache_size)(self._label_hits_uncached)
        self._registered_hits = lru_cache(maxsize=cache_size)(self._registered_hits_uncached)
        exact: dict[str, list[int]] = {}
        prefix: dict[str, list[int]] = {}
        contains: list[tuple[str, int]] = []
        fuzzy: list[_Fuzzy] = []
        for number, brand in enumerate(brands):
            for token in brand.tokens:
                if token.mode == "exact":
                    exact.setdefault(token.text, []).append(number)
                elif token.mode == "prefix":
                    prefix.setdefault(token.text, []).append(number)
                else:
                    contains.append((token.text, number))
                if token.fuzzy:
                    limit = fuzzy_limit(token.text)
                    fuzzy.append(_Fuzzy(token.text, limit, _pieces(token.text, limit), number))
        self._exact = {text: tuple(found) for text, found in exact.items()}
        self._prefix = {text: tuple(found) for text, found in prefix.items()}
        self._prefix_lengths = tuple(sorted({len(text) for text in prefix}))
        self._head = self._prefix_lengths[0] if prefix else 0
        self._heads = frozenset(text[: self._head] for text in prefix)
        self._contains = tuple(contains)
        # Fuzzy tokens a reading of each length can be within the limit of, behind one regex
        # search for any of their pieces (most readings hold none: 0.3 µs, not 8 `any`s).
        longest = max((len(f.text) + f.limit for f in fuzzy), default=0)
        self._fuzzy_by_length: dict[int, tuple[re.Pattern[str], tuple[_Fuzzy, ...]]] = {}
        for length in range(longest + 1):
            reachable = tuple(f for f in fuzzy if abs(len(f.text) - length) <= f.limit)
            if reachable:
                pieces = sorted({piece for f in reachable for piece in f.pieces})
                gate = re.compile("|".join(re.escape(piece) for piece in pieces))
                self._fuzzy_by_length[length] = (gate, reachable)

    def cache_clear(self) -> None:
        """Forget the cached hits of labels (tests and benchmarks of cold paths)."""
        self._label_hits.cache_clear()
        self._registered_hits.cache_clear()

    def find(self, subdomain: str, domain: str, suffix: str) -> str | None:
        """lookalike_brand_reference(subdomain, domain, suffix, self.brands)."""
        if not domain or not suffix:
            return None
        hits = self._registered_hits(domain)
        for label in subdomain.split("."):
            if label and label != "www":
                found = self._label_hits(label)
                if found:
                    hits = hits | found
        for number in sorted(hits):
            brand = self.brands[number]
            if not brand.owns(domain, suffix):
                return brand.name
        return None

    def _label_hits_uncached(self, label: str) -> frozenset[int]:
        """Brands with an exact, prefix or contains token in a reading of the label."""
        hits: set[int] = set()
        wholes = []
        for variant in label_variants(label):
            whole = variant.replace("-", "")
            wholes.append(whole)
            self._whole_token_hits(whole, variant.split("-"), hits)
        text = _SEPARATOR.join(wholes)
        for token, number in self._contains:
            if token in text:
                hits.add(number)
        return frozenset(hits)

    def _registered_hits_uncached(self, domain: str) -> frozenset[int]:
        """_label_hits of the registered label, and the fuzzy tokens it is within reach of."""
        hits = set(self._label_hits(domain))
        self._fuzzy_hits(label_variants(domain), hits)
        return frozenset(hits)

    def _whole_token_hits(self, whole: str, parts: list[str], hits: set[int]) -> None:
        """Exact and prefix tokens: the reading (hyphens removed) or one of its parts is the
        token, or starts with it."""
        exact = self._exact
        head = self._head
        for candidate in (whole, *parts):
            found = exact.get(candidate)
            if found:
                hits.update(found)
            if head and candidate[:head] in self._heads and len(candidate) >= head:
                for length in self._prefix_lengths:
                    if length > len(candidate):
                        break
                    found = self._prefix.get(candidate[:length])
                    if found:
                        hits.update(found)

    def _fuzzy_hits(self, registered: set[str], hits: set[int]) -> None:
        """Fuzzy tokens within their edit limit of the registered label (hyphens removed) or
        of a hyphenated part of it with 5 letters or more."""
        readings = set()
        for variant in registered:
            readings.add(variant.replace("-", ""))
            readings.update(part for part in variant.split("-") if len(part) >= 5)
        by_length = self._fuzzy_by_length
        for reading in readings:
            reachable = by_length.get(len(reading))
            if reachable is None or reachable[0].search(reading) is None:
                continue
            for token in reachable[1]:
                if (
                    token.brand not in hits
                    and any(piece in reading for piece in token.pieces)
                    and within_distance(reading, token.text, token.limit)
                ):
                    hits.add(token.brand)


@cache
def default_brand_index() -> BrandIndex:
    """The index of the shipped data/brands.csv."""
    return BrandIndex(default_brands())
