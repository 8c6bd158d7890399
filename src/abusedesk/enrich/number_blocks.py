"""When a number's 10,000-block decides its classification, so one result serves the block.

A block is a number without its last 4 digits (to_prefix). Traffic spreads over many numbers
but few blocks: the simulator's 80,047 numbers lie in 1,133 blocks, and a pumping attack walks
through one block. Classifying a first-seen number costs ~5 µs (phone.py); a block's result is
a dict lookup. It is reused only where it is *proven* the same for all 10,000 numbers:

phonenumbers' patterns are regexes over digits. Rewrite a pattern so that a wildcard "x" is
accepted by every digit test that accepts all ten digits (`\\d`, `[0-9]`) and by nothing else:
if it matches the block followed by "xxxx", the accepting path reads the four last digits with
tests that take any digit, so every number of the block matches ("every" reading). Rewrite it
so that "x" is accepted by every digit test (`7` as `[7x]`): if that does not match, no number
of the block can, since any number's accepting path would accept the x's ("some" reading).
Neither: the block is mixed, or the proof does not see that it is not, and its numbers are
classified one by one. The type of a number is the first of the region's typed alternatives
it matches, so one block shares it when the "every" regex picks that alternative and the
"some" regex picks no earlier one; the region of a shared calling code is the first region
whose leading digits (or types) accept it, so the earlier regions must accept no number of
the block and the chosen one every number. The patterns are used as text (phone.rule_text),
so the rewritten regex has the shape of the one phone.py runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata

from abusedesk.enrich.phone import PhoneInfo, RuleText, rule_text

BLOCK_DIGITS: Final = 4  # the digits to_prefix drops
_WILD: Final = "x" * BLOCK_DIGITS
_ANY_DIGIT: Final = r"[\dx]"  # \d rewritten: accepts every digit, so "x" in both readings
_DIGITS: Final = frozenset("0123456789")
_QUANTIFIER: Final = re.compile(r"\{[0-9]+(?:,[0-9]+)?\}")


def _class_digits(body: str) -> frozenset[str] | None:
    """The digits of a class body such as "02-689"; None for anything else."""
    found: set[str] = set()
    i = 0
    while i < len(body):
        if body[i] not in _DIGITS:
            return None
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            if high not in _DIGITS or high < low:
                return None
            found.update(chr(c) for c in range(ord(low), ord(high) + 1))
            i += 3
        else:
            found.add(body[i])
            i += 1
    return frozenset(found) if found else None


def widen(pattern: str, *, every: bool) -> str:
    """A phonenumbers pattern (digits, digit classes, \\d, (?:), |, ?, {n} and {n,m}) that
    also reads "x": in the every reading where the test takes any digit, in the some reading
    wherever it takes a digit. ValueError for any other syntax: then nothing is proven."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in _DIGITS:
            out.append(char if every else f"[{char}x]")
            i += 1
        elif pattern.startswith("\\d", i):
            out.append(_ANY_DIGIT)
            i += 2
        elif char == "[":
            end = pattern.find("]", i)
            digits = _class_digits(pattern[i + 1 : end]) if end > 0 else None
            if digits is None:
                raise ValueError(f"cannot widen {pattern!r}: a class at {i}")
            body = pattern[i + 1 : end]
            out.append(f"[{body}x]" if len(digits) == len(_DIGITS) or not every else f"[{body}]")
            i = end + 1
        elif char == "{":
            quantifier = _QUANTIFIER.match(pattern, i)
            if quantifier is None:
                raise ValueError(f"cannot widen {pattern!r}: a quantifier at {i}")
            out.append(quantifier.group())
            i = quantifier.end()
        elif pattern.startswith("(?:", i):
            out.append("(?:")
            i += 3
        elif char in "|)?":
            out.append(char)
            i += 1
        else:
            raise ValueError(f"cannot widen {pattern!r}: {char!r} at {i}")
    return "".join(out)


def _widen_every(pattern: str) -> str:
    return widen(pattern, every=True)


def _widen_some(pattern: str) -> str:
    return widen(pattern, every=False)


@dataclass(frozen=True, slots=True)
class _Readings:
    """One regex of a region's rules in the every and the some reading."""

    every: re.Pattern[str]
    some: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _Proof:
    """A region's typed and mobile rules in both readings, compiled when a block of the region
    first needs them (~2 ms a region; 25 regions in the simulator's traffic). Leading digits
    are compiled apart (_leading): the regions tried before a number's own (AG, AI, AS, ...
    before CA in +1) are mostly told apart by them alone."""

    typed: _Readings | None
    mobile: _Readings | None
    same_fixed_mobile: bool


def _readings(every: str | None, some: str | None) -> _Readings | None:
    if every is None or some is None:
        return None
    return _Readings(re.compile(every), re.compile(some))


def _rules_in_both(md: PhoneMetadata) -> tuple[RuleText, RuleText] | None:
    try:
        return rule_text(md, _widen_every, _ANY_DIGIT), rule_text(md, _widen_some, _ANY_DIGIT)
    except ValueError:  # syntax the rewrite does not know: prove nothing for this region
        return None


def _metadata(region: str) -> PhoneMetadata | None:
    return PhoneMetadata.metadata_for_region(region, None)


@cache  # one entry per region (~250)
def _type_proof(region: str) -> _Proof | None:
    return _proof_of(_metadata(region))


@cache  # one entry per non-geographic calling code (~10)
def _nongeo_proof(calling_code: int) -> _Proof | None:
    return _proof_of(PhoneMetadata.metadata_for_nongeo_region(calling_code, None))


def _proof_of(md: PhoneMetadata | None) -> _Proof | None:
    rules = _rules_in_both(md) if md is not None else None
    if rules is None:
        return None
    every, some = rules
    return _Proof(
        typed=_readings(every.typed, some.typed),
        mobile=_readings(every.mobile, some.mobile),
        same_fixed_mobile=every.same_fixed_mobile,
    )


@cache  # one entry per region of a shared calling code
def _leading(region: str) -> _Readings | bool:
    """The region's leading digits in both readings; False without leading digits, True
    when they cannot be read (nothing is proven then)."""
    md = _metadata(region)
    if md is None or not md.leading_digits:
        return False
    try:
        every = widen(md.leading_digits, every=True)
        some = widen(md.leading_digits, every=False)
    except ValueError:
        return True
    return _Readings(re.compile(every), re.compile(some))


def _region_shared(regions: tuple[str, ...], region: str, wild: str) -> bool:
    """phone._region_for picks `region` for every number of the block: each region before it
    accepts none of them (by its leading digits, or without them by its types), `region`
    accepts all."""
    if len(regions) == 1:
        return True
    for candidate in regions:
        if _metadata(candidate) is None:
            continue  # phone._region_for skips it too
        leading = _leading(candidate)
        if leading is True:
            return False
        chosen = candidate == region
        if isinstance(leading, _Readings):
            if chosen:
                return leading.every.match(wild) is not None
            if leading.some.match(wild) is not None:
                return False
            continue
        proof = _type_proof(candidate)
        if proof is None:
            return False
        if proof.typed is None:  # no typed rules: phone._region_for never picks it
            if chosen:
                return False
            continue
        if chosen:
            return proof.typed.every.fullmatch(wild) is not None
        if proof.typed.some.fullmatch(wild) is not None:
            return False
    return False


def _type_shared(proof: _Proof, number_type: str, wild: str) -> bool:
    """The first typed alternative every number of the block matches is the one this number
    matched, and none matches an earlier one (phone._Rules.number_type)."""
    name = "fixed_line" if number_type == "fixed_line_or_mobile" else number_type
    if proof.typed is None:
        return False
    every = proof.typed.every.fullmatch(wild)
    some = proof.typed.some.fullmatch(wild)
    if every is None or some is None or every.lastgroup != name or some.lastgroup != name:
        return False
    if name != "fixed_line" or proof.same_fixed_mobile or proof.mobile is None:
        return True
    # fixed_line or fixed_line_or_mobile: the mobile pattern must agree on the whole block too.
    return (
        proof.mobile.every.fullmatch(wild) is not None or proof.mobile.some.fullmatch(wild) is None
    )


def compile_all() -> None:
    """Build every region's proofs now (~0.4 s) rather than on its first number: start-up
    work, like phone.compile_all()."""
    for calling_code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            if region == REGION_CODE_FOR_NON_GEO_ENTITY:
                _nongeo_proof(calling_code)
            else:
                _type_proof(region)
                _leading(region)


def block_shares(info: PhoneInfo, regions: tuple[str, ...]) -> bool:
    """Every number of info's block (its digits but the last 4) is classified like info:
    same validity, region and type, by phone.classify_e164's fast path. Only proven for valid
    numbers; `regions` are those of info's calling code (phonenumbers'
    COUNTRY_CODE_TO_REGION_CODE)."""
    if not info.valid or info.calling_code is None or info.number_type is None:
        return False
    code = str(info.calling_code)
    if len(info.digits) - BLOCK_DIGITS < len(code):
        return False  # the calling code itself would lie in the last digits
    wild = info.digits[len(code) : -BLOCK_DIGITS] + _WILD
    if info.country is None:
        if regions != (REGION_CODE_FOR_NON_GEO_ENTITY,):
            return False
        proof = _nongeo_proof(info.calling_code)
    else:
        if not _region_shared(regions, info.country, wild):
            return False
        proof = _type_proof(info.country)
    return proof is not None and _type_shared(proof, info.number_type, wild)
