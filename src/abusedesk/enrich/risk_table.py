"""The high-risk destination table behind `to_cost_tier`.

No public list of premium-rate / IRSF number ranges exists (DOMAIN.md 6, 8), so the table is a
pluggable file: country defaults from Braze's default-deny list, practitioner prefixes, and
number types, which users extend with their own prefixes. Format: the header comment of
data/high_risk_destinations.csv and docs/enrichment.md.

Precedence: the longest matching E.164 prefix row, else the country row, else "standard"; then a
number-type row can raise (never lower) the result, because a premium-rate number is a
revenue-share number wherever it is.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from abusedesk.enrich._data import read_data
from abusedesk.enrich.phone import NUMBER_TYPES
from abusedesk.errors import FormatError

TIERS: Final = ("standard", "elevated", "high")
_RANK: Final = {tier: rank for rank, tier in enumerate(TIERS)}
HEADER: Final = ("country_or_prefix", "tier", "reason", "source")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_PREFIX: Final = re.compile(r"\+[1-9]\d{0,14}")


@dataclass(frozen=True, slots=True)
class RiskEntry:
    key: str  # "NG", "+441534" or "type:premium_rate"
    tier: str
    reason: str
    source: str
    line: int


@dataclass(frozen=True)
class RiskTable:
    entries: tuple[RiskEntry, ...]
    origin: str = "shipped"
    _countries: dict[str, RiskEntry] = field(init=False, repr=False)
    _prefixes: dict[str, RiskEntry] = field(init=False, repr=False)
    _types: dict[str, RiskEntry] = field(init=False, repr=False)
    _prefix_lengths: tuple[int, ...] = field(init=False, repr=False)
    _prefix_stems: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Split by kind once, so a lookup is a few dict probes (longest prefix first).
        countries = {e.key: e for e in self.entries if _COUNTRY.fullmatch(e.key)}
        prefixes = {e.key[1:]: e for e in self.entries if e.key.startswith("+")}
        types = {e.key[5:]: e for e in self.entries if e.key.startswith("type:")}
        object.__setattr__(self, "_countries", countries)
        object.__setattr__(self, "_prefixes", prefixes)
        object.__setattr__(self, "_types", types)
        lengths = sorted({len(p) for p in prefixes}, reverse=True)
        object.__setattr__(self, "_prefix_lengths", tuple(lengths))
        stems = frozenset(p[:n] for p in prefixes for n in range(1, len(p)))
        object.__setattr__(self, "_prefix_stems", stems)

    def decide(self, digits: str, country: str | None, number_type: str | None) -> RiskEntry | None:
        """The row that sets the tier of a number (None: no row, "standard")."""
        base: RiskEntry | None = None
        for length in self._prefix_lengths:
            if length <= len(digits):
                base = self._prefixes.get(digits[:length])
                if base is not None:
                    break
        if base is None and country:
            base = self._countries.get(country)
        typed = self._types.get(number_type) if number_type else None
        if typed is not None and (base is None or _RANK[typed.tier] > _RANK[base.tier]):
            return typed
        return base

    def decided_by(self, block: str) -> bool:
        """decide() is the same for every number that starts with `block` (E.164 digits) and
        has the same country and type: no prefix row longer than the block starts with it."""
        return block not in self._prefix_stems

    def tier(self, digits: str, country: str | None, number_type: str | None) -> str:
        entry = self.decide(digits, country, number_type)
        return entry.tier if entry is not None else "standard"


def parse_risk_table(text: str, origin: str) -> RiskTable:
    """Every bad row is reported (file:line: reason) in one FormatError; a partly loaded
    deny-list would silently let traffic through, so nothing is loaded then."""
    problems: list[str] = []
    entries: list[RiskEntry] = []
    seen: dict[str, int] = {}
    header_seen = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        row = [cell.strip() for cell in next(csv.reader([raw]))]
        if not header_seen:
            header_seen = True
            if tuple(c.lower() for c in row) != HEADER:
                problems.append(f"{origin}:{lineno}: the header must be {','.join(HEADER)}")
                break
            continue
        if len(row) != len(HEADER):
            problems.append(f"{origin}:{lineno}: expected {len(HEADER)} columns, got {len(row)}")
            continue
        key, tier, reason, source = row
        if _COUNTRY.fullmatch(key.upper()):
            key = key.upper()
        elif key.lower().startswith("type:"):
            key = key.lower()
            if key[5:] not in NUMBER_TYPES:
                problems.append(
                    f"{origin}:{lineno}: unknown number type {key[5:]!r}; expected one of "
                    + ", ".join(sorted(NUMBER_TYPES))
                )
                continue
        elif not _PREFIX.fullmatch(key.replace(" ", "")):
            problems.append(
                f"{origin}:{lineno}: {key!r} is not a country code (NG), an E.164 prefix "
                "(+441534) or a number type (type:premium_rate)"
            )
            continue
        else:
            key = key.replace(" ", "")
        if tier.lower() not in _RANK:
            problems.append(f"{origin}:{lineno}: tier {tier!r} is not one of {', '.join(TIERS)}")
            continue
        if key in seen:
            problems.append(f"{origin}:{lineno}: {key} is already listed on line {seen[key]}")
            continue
        seen[key] = lineno
        entries.append(RiskEntry(key, tier.lower(), reason, source, lineno))
    if not header_seen:
        problems.append(f"{origin}: no header row ({','.join(HEADER)})")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise FormatError("; ".join(problems[:3]) + more, details=problems)
    return RiskTable(tuple(entries), origin)


def load_risk_table(path: Path | None = None) -> RiskTable:
    """The table in `path`, or the shipped one (data/high_risk_destinations.csv) for None."""
    if path is None:
        return parse_risk_table(
            read_data("high_risk_destinations.csv"), "high_risk_destinations.csv"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read the risk table {path}: {exc}") from None
    return parse_risk_table(text, str(path))
