"""How varied legitimate behaviour is: `low`, `realistic` (the default) or `wide`.

`low` is the simulator as it was first written: every legitimate account of a kind draws from a
narrow band (OTP conversion 85-93 %, opt-outs 0.3-0.8 %), the band the default playbook was
written next to. `realistic` draws each account from the spread real platforms see (DOMAIN.md
§3.5, §3.7): OTP conversion from the low 50s to the high 90s, opt-outs across the healthy
0-1.5 %, error rates across the healthy 0-6 %, a third of marketers with a suppression list that
lags behind STOP by hours. `wide` stretches the same ranges to their edges (opt-outs close to the
2 % warning level, conversion in the 40s).

Draws come from their own random stream (seeded by the account's key and the quantity), so `low`
stays byte for byte what it was and a range change never reshuffles an account's traffic draws.
"""

from __future__ import annotations

import math
from typing import Final, Literal

from abusedesk.sim.context import SimContext
from abusedesk.sim.ids import derive_rng

Variety = Literal["low", "realistic", "wide"]
VARIETIES: Final[tuple[str, ...]] = ("low", "realistic", "wide")

Span = tuple[float, float]


def varied(ctx: SimContext, key: str, what: str, realistic: Span, wide: Span) -> float | None:
    """A uniform draw for `what` of account `key` at the run's variety; None at `low` (the
    caller keeps its original draw)."""
    if ctx.variety == "low":
        return None
    lo, hi = realistic if ctx.variety == "realistic" else wide
    return derive_rng(ctx.seed, key, "variety", what).uniform(lo, hi)


def varied_log(ctx: SimContext, key: str, what: str, realistic: Span, wide: Span) -> float | None:
    """Like `varied`, uniform in log space: for rates and multipliers that span decades."""
    if ctx.variety == "low":
        return None
    lo, hi = realistic if ctx.variety == "realistic" else wide
    x = derive_rng(ctx.seed, key, "variety", what).uniform(math.log(lo), math.log(hi))
    return math.exp(x)


def chance(ctx: SimContext, key: str, what: str, realistic: float, wide: float) -> bool:
    """True for a share of accounts (never at `low`)."""
    if ctx.variety == "low":
        return False
    p = realistic if ctx.variety == "realistic" else wide
    return derive_rng(ctx.seed, key, "variety", what).random() < p


def scaled_errors(rates: dict[str, float], factor: float | None) -> dict[str, float]:
    if factor is None:
        return rates
    return {code: p * factor for code, p in rates.items()}
