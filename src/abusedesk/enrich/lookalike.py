"""Look-alike brand domains: which well-known brand a link's host imitates, if any.

Every label of the host except the public suffix is folded to plain Latin letters the way a
reader's eye folds it (punycode decoded, Cyrillic/Greek look-alikes and accents mapped,
0->o 1->l or i 3->e 5->s, rn->m, vv->w) and compared with the brand tokens of data/brands.csv;
the host is not reported when its registered domain is one of the brand's own. Brand tokens
in a subdomain count too: "paypal.com.account-verify.top" is the classic shape.

lookalike_brand_reference states the rule; brand_index.BrandIndex answers it by index.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal

from abusedesk.enrich._data import read_data
from abusedesk.errors import FormatError

Mode = Literal["exact", "prefix", "contains"]

# Letters from other scripts that render like Latin ones (the common subset of Unicode's
# confusables.txt used in IDN homograph attacks), mapped to what the reader sees.
_CONFUSABLES: Final = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i",
        "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s",
        "т": "t", "у": "y", "х": "x", "ԝ": "w", "ь": "b", "ɡ": "g", "ӏ": "l", "ԁ": "d",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ı": "i", "ł": "l",
        "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
    }
)  # fmt: skip
_DIGITS_AS_L: Final = str.maketrans("0135", "oles")
_DIGITS_AS_I: Final = str.maketrans("0135", "oies")
# Suffixes a brand is assumed to hold under its own name ("amazon.*"): the three historic gTLDs
# and country codes. New gTLDs (.top, .xyz, .support) are where look-alikes get registered.
_LEGACY_GTLDS: Final = frozenset({"com", "net", "org"})


def fold_label(label: str) -> str:
    """A host label as a reader sees it: punycode decoded, look-alike letters mapped to Latin."""
    text = label.lower()
    if text.startswith("xn--"):
        try:
            text = text[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return text
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text.translate(_CONFUSABLES))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_CONFUSABLES)


def label_variants(label: str) -> set[str]:
    """Every reading of a label: as folded, digits read as letters (1 as l or i), rn/vv joined."""
    base = fold_label(label)
    if "0" in base or "1" in base or "3" in base or "5" in base:
        found = {base, base.translate(_DIGITS_AS_L), base.translate(_DIGITS_AS_I)}
    else:  # nothing to translate: both readings are the label (most labels; 0.7 µs saved)
        found = {base}
    for variant in list(found):
        if "rn" in variant or "vv" in variant:
            found.add(variant.replace("rn", "m").replace("vv", "w"))
    return found


def within_distance(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance of a and b is at most `limit` (banded: O(len * limit))."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        lo, hi = max(1, i - limit), min(len(b), i + limit)
        if lo > 1:
            current[lo - 1] = limit + 1
        for j in range(lo, hi + 1):
            cost = 0 if ca == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if hi < len(b):
            current[hi + 1 :] = [limit + 1] * (len(b) - hi)
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    mode: Mode
    fuzzy: bool

    def found_in(self, parts: list[str], joined: str) -> bool:
        if self.mode == "contains":
            return self.text in joined
        if self.mode == "prefix":
            return joined.startswith(self.text) or any(p.startswith(self.text) for p in parts)
        return joined == self.text or self.text in parts


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    tokens: tuple[Token, ...]
    domains: frozenset[str]
    names: frozenset[str]
    suffixes: frozenset[str]

    def owns(self, domain: str, suffix: str) -> bool:
        if f"{domain}.{suffix}" in self.domains or suffix in self.suffixes:
            return True
        if domain in self.names:
            return suffix in _LEGACY_GTLDS or len(suffix.rsplit(".", 1)[-1]) == 2
        return False


def _parse_token(raw: str, source: str) -> Token:
    text = raw.lower()
    fuzzy = text.endswith("~")
    text = text.rstrip("~")
    mode: Mode = "exact"
    if text.startswith("*") and text.endswith("*") and len(text) > 2:
        mode, text = "contains", text[1:-1]
    elif text.endswith("*"):
        mode, text = "prefix", text[:-1]
    if not text or not text.replace("-", "").isalnum():
        raise FormatError(f"{source}: brand token {raw!r} is not letters with optional * and ~")
    if fuzzy and len(text) < 6:
        # Edit distance 1 from a 5-letter word hits real words and other brands (ups/ubs).
        raise FormatError(f"{source}: brand token {raw!r} is too short for ~ (6 letters or more)")
    # Tokens are compared with folded labels, so fold them the same way ("office365").
    return Token(text.replace("-", "").translate(_DIGITS_AS_L), mode, fuzzy)


def parse_brands(text: str, source: str = "brands.csv") -> tuple[Brand, ...]:
    rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if not line.startswith("#")]
    reader = csv.reader(line for _, line in rows)
    header = next(reader, None)
    if header != ["brand", "tokens", "domains"]:
        raise FormatError(f"{source}: the header must be brand,tokens,domains")
    brands: list[Brand] = []
    for (lineno, _), row in zip(rows[1:], reader, strict=True):
        if not row:
            continue
        where = f"{source}:{lineno}"
        if len(row) != 3 or not row[0].strip():
            raise FormatError(f"{where}: expected brand,tokens,domains")
        name, tokens, domains = (cell.strip().lower() for cell in row)
        allowed = domains.split()
        brands.append(
            Brand(
                name=name,
                tokens=tuple(_parse_token(t, where) for t in (tokens.split() or [name])),
                domains=frozenset(d for d in allowed if "*" not in d),
                names=frozenset(d[:-2] for d in allowed if d.endswith(".*")),
                suffixes=frozenset(d[2:] for d in allowed if d.startswith("*.")),
            )
        )
    return tuple(brands)


@cache
def default_brands() -> tuple[Brand, ...]:
    return parse_brands(read_data("brands.csv"))


def fuzzy_limit(token: str) -> int:
    """The edit distance a fuzzy (`~`) token is matched within."""
    return 1 if len(token) <= 8 else 2


def lookalike_brand_reference(
    subdomain: str, domain: str, suffix: str, brands: tuple[Brand, ...]
) -> str | None:
    """The brand whose tokens appear in the host's labels (or whose name the registered label
    misspells), unless the registered domain is the brand's own. None for ordinary hosts.

    The definition of lookalike_brand, kept as written: every token on every reading. The
    enricher asks brand_index.BrandIndex.find, which must give the same answer for every host
    (tests/enrich/test_brand_index.py) in a few µs instead of ~87."""
    if not domain or not suffix:
        return None
    labels = [label for label in subdomain.split(".") if label and label != "www"]
    labels.append(domain)
    readings: list[tuple[list[str], str]] = []
    for label in labels:
        for variant in label_variants(label):
            readings.append((variant.split("-"), variant.replace("-", "")))
    # Misspellings are looked for in the registered label and in each of its hyphenated parts
    # ("micosoft-support"), not in subdomains, which anyone can name anything.
    registered_readings: set[str] = set()
    for variant in label_variants(domain):
        registered_readings.add(variant.replace("-", ""))
        registered_readings.update(part for part in variant.split("-") if len(part) >= 5)
    for brand in brands:
        hit = any(
            token.found_in(parts, joined) for token in brand.tokens for parts, joined in readings
        )
        if not hit:
            hit = any(
                token.fuzzy and within_distance(reading, token.text, fuzzy_limit(token.text))
                for token in brand.tokens
                for reading in registered_readings
            )
        if hit and not brand.owns(domain, suffix):
            return brand.name
    return None
