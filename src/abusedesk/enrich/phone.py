"""Phone numbers: E.164 parsing, validity, country, number type, prefix, sender kind.

The rules are phonenumbers' own (its metadata: per-region national number patterns and
lengths), applied without `phonenumbers.parse`: for a string that is already E.164, parse
spends ~15 µs normalising and is_valid_number + number_type another 10-25 µs, mostly finding the
region again in each call (GB, +1 and +7 share a calling code between several regions). Here
the calling code is a dict lookup, the region is found once and the type patterns are run once,
the same way phonenumbers' `_number_type_helper` runs them (tests/enrich/test_phone.py checks
that both agree on every region's example numbers and thousands of random ones). Inputs that
this fast path finds invalid go through `phonenumbers.parse`, which also repairs "+44 07..."
(a trunk 0 after the calling code).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Final, NamedTuple

import phonenumbers
from phonenumbers import (
    REGION_CODE_FOR_NON_GEO_ENTITY,
    PhoneMetadata,
    PhoneNumberDesc,
    PhoneNumberType,
)

TYPE_NAMES: Final[dict[int, str]] = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}
NUMBER_TYPES: Final = frozenset(TYPE_NAMES.values())

_SEPARATORS: Final = str.maketrans("", "", " -().\u00a0\t")
_SCHEMES: Final = ("whatsapp:", "tel:", "sms:")
_CC_REGIONS: Final = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
CALLING_CODE_REGIONS: Final[dict[int, tuple[str, ...]]] = _CC_REGIONS
_SENDER_ALPHA: Final = re.compile(r"[A-Za-z0-9 .&'_+-]{1,11}")


class PhoneInfo(NamedTuple):
    """What a destination string says as a phone number."""

    e164: bool  # written as +digits (after an optional whatsapp:/tel: scheme)
    valid: bool
    digits: str  # E.164 digits without '+'; "" when not E.164
    country: str | None  # ISO alpha-2; None when unknown or non-geographic (+800, +882, ...)
    number_type: str | None  # a TYPE_NAMES value; None when not E.164
    calling_code: int | None = None

    @property
    def prefix(self) -> str | None:
        """E.164 without its last 4 digits: the unit SMS pumping ranges are bought in."""
        return f"+{self.digits[:-4]}" if len(self.digits) > 4 else None


NOT_E164: Final = PhoneInfo(False, False, "", None, None)

# --- phonenumbers' number-type rules, compiled once per region --------------------------------
#
# phonenumbers' _number_type_helper tests the general description, then each type in a fixed
# order (premium rate first, mobile last), each as "length is possible and pattern matches".
# Here the same tests are one regex per region: a lookahead for the general description, then
# one alternative per type in the same order, each guarded by a length lookahead and ended by
# an empty marker group; fullmatch returns the first alternative that matches the whole number,
# which is the type phonenumbers would return. One C call instead of ~8 Python ones.

_ORDER: Final = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _same(pattern: str) -> str:
    return pattern


def _guarded(desc: PhoneNumberDesc | None, widen: Callable[[str], str], digit: str) -> str | None:
    """A type's test as a regex: its possible lengths (when listed) and its pattern."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = sorted(set(desc.possible_length or ()))
    if -1 in lengths:  # phonenumbers' marker for "no numbers of this type"
        return None
    any_length = "|".join(digit + "{" + str(n) + "}" for n in lengths)
    guard = rf"(?=(?:{any_length})\Z)" if lengths else ""
    return f"{guard}(?:{widen(desc.national_number_pattern)})"


class RuleText(NamedTuple):
    """The regexes of one region's rules, as text (see rule_text)."""

    typed: str | None  # general lookahead + one marked alternative per type, in _ORDER
    mobile: str | None
    leading: str | None  # phonenumbers' leading digits of a region sharing a calling code
    same_fixed_mobile: bool


def rule_text(
    md: PhoneMetadata, widen: Callable[[str], str] = _same, digit: str = r"\d"
) -> RuleText:
    """A region's rules as regex text. `widen` rewrites each of phonenumbers' patterns and
    `digit` is the length guards' digit: number_blocks builds the same regexes over a wider
    alphabet from here, so both stay the same shape."""
    same = bool(md.same_mobile_and_fixed_line_pattern)
    general = _guarded(md.general_desc, widen, digit)
    alternatives = []
    for name in _ORDER:
        if name == "mobile" and same:
            continue  # phonenumbers never returns plain "mobile" when the patterns are shared
        test = _guarded(getattr(md, name), widen, digit)
        if test is not None:
            alternatives.append(f"{test}(?P<{name}>)")
    typed = None
    if general is not None and alternatives:
        typed = rf"(?=(?:{general})\Z)(?:{'|'.join(alternatives)})"
    return RuleText(
        typed=typed,
        mobile=_guarded(md.mobile, widen, digit),
        leading=widen(md.leading_digits) if md.leading_digits else None,
        same_fixed_mobile=same,
    )


@dataclass(frozen=True, slots=True)
class _Rules:
    typed: re.Pattern[str] | None  # general lookahead + one marked alternative per type
    mobile: re.Pattern[str] | None  # to tell fixed_line from fixed_line_or_mobile
    same_fixed_mobile: bool
    leading: re.Pattern[str] | None

    def number_type(self, nsn: str) -> str:
        if self.typed is None:
            return "unknown"
        match = self.typed.fullmatch(nsn)
        if match is None:
            return "unknown"
        name = match.lastgroup or "unknown"
        if name == "fixed_line" and (
            self.same_fixed_mobile or (self.mobile is not None and self.mobile.fullmatch(nsn))
        ):
            return "fixed_line_or_mobile"
        return name


def _compile(md: PhoneMetadata) -> _Rules:
    text = rule_text(md)
    return _Rules(
        typed=re.compile(text.typed) if text.typed is not None else None,
        mobile=re.compile(text.mobile) if text.mobile is not None else None,
        same_fixed_mobile=text.same_fixed_mobile,
        leading=re.compile(text.leading) if text.leading is not None else None,
    )


@cache  # one entry per region (~250): bounded by the metadata
def _region_rules(region: str) -> _Rules | None:
    md = PhoneMetadata.metadata_for_region(region, None)
    return _compile(md) if md is not None else None


@cache  # one entry per non-geographic calling code (~10)
def _nongeo_rules(calling_code: int) -> _Rules | None:
    md = PhoneMetadata.metadata_for_nongeo_region(calling_code, None)
    return _compile(md) if md is not None else None


def compile_all() -> None:
    """Compile every region's rules now (~0.3 s) instead of on a region's first number."""
    for calling_code, regions in _CC_REGIONS.items():
        for region in regions:
            if region == REGION_CODE_FOR_NON_GEO_ENTITY:
                _nongeo_rules(calling_code)
            else:
                _region_rules(region)


def _region_for(calling_code: int, nsn: str) -> str | None:
    """phonenumbers.region_code_for_number: the first region of a shared calling code whose
    leading digits (or, without them, whose patterns) the number matches."""
    regions = _CC_REGIONS.get(calling_code)
    if not regions:
        return None
    if len(regions) == 1:
        return regions[0]
    for region in regions:
        rules = _region_rules(region)
        if rules is None:
            continue
        if rules.leading is not None:
            if rules.leading.match(nsn):
                return region
        elif rules.number_type(nsn) != "unknown":
            return region
    return None


def _classify_digits(digits: str) -> PhoneInfo:
    for length in (1, 2, 3):
        calling_code = int(digits[:length])
        if calling_code in _CC_REGIONS:
            break
    else:
        return PhoneInfo(True, False, digits, None, "unknown")
    nsn = digits[length:]
    region = _region_for(calling_code, nsn)
    if region == REGION_CODE_FOR_NON_GEO_ENTITY:
        rules = _nongeo_rules(calling_code)
        region = None
    else:
        rules = _region_rules(region) if region else None
    number_type = rules.number_type(nsn) if rules is not None else "unknown"
    return PhoneInfo(True, number_type != "unknown", digits, region, number_type, calling_code)


def _classify_slow(text: str, fast: PhoneInfo) -> PhoneInfo:
    """phonenumbers.parse for what the fast path finds invalid (it strips a trunk prefix)."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return fast
    if not phonenumbers.is_valid_number(number):
        return fast
    digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    if digits == fast.digits:
        return fast
    repaired = _classify_digits(digits)
    return repaired if repaired.valid else fast


def e164_digits(raw: str) -> str | None:
    """The digits of a "+..." number ("whatsapp:+44 7911 123456" -> "447911123456"), else None.
    Numbers without '+' are not E.164: their country is a guess, so they are not parsed."""
    if raw[:1] == "+":
        # Canonical E.164, nearly all traffic: what the general path below returns for it,
        # without its strip, scheme loop and slices (0.3 µs of 0.7).
        digits = raw[1:]
        if digits.isdigit() and digits.isascii() and len(digits) <= 17 and digits[0] != "0":
            return digits
    text = raw.strip()
    lowered = text[:9].lower()
    for scheme in _SCHEMES:
        if lowered.startswith(scheme):
            text = text[len(scheme) :].strip()
            break
    if not text.startswith("+"):
        return None
    digits = text[1:]
    if not digits.isdigit():  # canonical E.164 skips the (slow) str.translate
        digits = digits.translate(_SEPARATORS)
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 17 or digits[0] == "0":
        return None
    return digits


def classify_number(raw: str) -> PhoneInfo:
    """Uncached: validity, country and type of a destination string (never raises)."""
    digits = e164_digits(raw)
    if digits is None:
        return NOT_E164
    return classify_e164(digits)


def classify_e164(digits: str) -> PhoneInfo:
    """classify_number of "+digits", for digits as e164_digits returns them."""
    fast = _classify_digits(digits)
    if fast.valid or fast.calling_code is None:
        return fast
    # phonenumbers.parse (~30 µs) can only repair a number whose national part starts with a
    # trunk prefix; any other invalid number stays invalid, so garbage sprayed at an OTP form
    # costs the fast path only.
    trunk = _trunk_prefix(fast.calling_code)
    if trunk is None or not trunk.match(digits, len(str(fast.calling_code))):
        return fast
    return _classify_slow("+" + digits, fast)


@cache  # one entry per calling code
def _trunk_prefix(calling_code: int) -> re.Pattern[str] | None:
    """The national (trunk) prefix phonenumbers.parse would strip after this calling code."""
    region = phonenumbers.region_code_for_country_code(calling_code)
    md = PhoneMetadata.metadata_for_region(region, None)
    pattern = md and (md.national_prefix_for_parsing or md.national_prefix)
    return re.compile(pattern) if pattern else None


parse_number = lru_cache(maxsize=65536)(classify_number)
"""classify_number, cached by the raw string: traffic repeats numbers."""


def sender_kind(raw: str) -> str | None:
    """from_kind: e164, short_code (3-8 digits), alphanumeric (letters, up to 11 characters),
    email; None for anything else (a national number without '+', an over-long sender id)."""
    text = raw.strip()
    if "@" in text:
        return "email"
    if e164_digits(text) is not None:
        return "e164"
    if text.isascii() and text.isdigit():
        return "short_code" if 3 <= len(text) <= 8 else None
    if _SENDER_ALPHA.fullmatch(text) and any(c.isalpha() for c in text):
        return "alphanumeric"
    return None
