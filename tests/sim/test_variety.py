"""`--variety`: low keeps the narrow bands; realistic and wide spread legitimate accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from abusedesk.sim.context import SimContext
from abusedesk.sim.generator import generate
from abusedesk.sim.population import build_population
from abusedesk.sim.profiles.marketing import MarketingSender
from abusedesk.sim.profiles.otp import OtpSender
from abusedesk.sim.timeutil import DAY

START = 1_772_409_600  # 2026-03-02T00:00:00Z


def _ctx(variety: str, seed: int = 5) -> SimContext:
    return SimContext(seed=seed, start=START, end=START + 3 * DAY, scale=1.0, variety=variety)


def _otp_conversion(variety: str) -> list[float]:
    ctx = _ctx(variety)
    return [
        OtpSender(ctx, f"legit/otp/{i}", "US", signup_at=START - 300 * DAY).convert
        for i in range(60)
    ]


def test_low_keeps_the_narrow_otp_band_and_realistic_spreads_it() -> None:
    low, realistic, wide = (_otp_conversion(v) for v in ("low", "realistic", "wide"))
    assert min(low) >= 0.88
    assert max(low) <= 0.95
    assert min(realistic) < 0.65
    assert max(realistic) > 0.95
    assert min(realistic) >= 0.55
    assert max(realistic) <= 0.99
    assert min(wide) >= 0.45
    assert min(wide) < min(realistic) + 0.05


def test_some_realistic_marketers_suppress_late_and_none_at_low() -> None:
    def lags(variety: str) -> list[int]:
        ctx = _ctx(variety)
        return [
            MarketingSender(
                ctx, f"legit/marketing_sms/{i}", "US", signup_at=START - DAY
            ).suppress_lag_s
            for i in range(40)
        ]

    assert not any(lags("low"))
    share = sum(1 for s in lags("realistic") if s) / 40
    assert 0.15 <= share <= 0.6


def test_varied_runs_add_outliers_and_harder_abuse() -> None:
    def kinds(variety: str) -> set[str]:
        return {a.kind for a in build_population(_ctx(variety)).actors}

    low, realistic = kinds("low"), kinds("realistic")
    added = realistic - low
    assert {
        "outlier_charity_appeal",
        "outlier_school_emergency_night",
        "outlier_otp_new_country_launch",
        "outlier_new_number",
        "outlier_bank_fraud_alerts",
        "sms_pumping_thin",
    } <= added


def test_an_unknown_variety_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="variety"):
        generate(tmp_path, days=1, variety="extreme")
