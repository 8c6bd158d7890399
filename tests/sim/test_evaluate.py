"""evaluate_detection on hand-made inputs: every number is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from abusedesk.sim.evaluate import FlaggedAccount, evaluate_detection, render_text

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def truth_of(
    labels: dict[str, str], kinds: dict[str, str], starts: dict[str, datetime]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for account, label in labels.items():
        start = starts.get(account)
        out[account] = {
            "label": label,
            "kind": kinds.get(account, label),
            "abuse_start": start.isoformat().replace("+00:00", "Z") if start else None,
            "notes": "",
        }
    return out


def flag(account: str, at: datetime, *policies: str) -> FlaggedAccount:
    return FlaggedAccount(account, at, policies or ("p",), 1)


LABELS = {
    "P1": "sms_pumping",
    "P2": "sms_pumping",
    "R1": "smishing_ring",
    "R2": "smishing_ring",
    "R3": "smishing_ring",
    "R4": "smishing_ring",
    "L1": "legit",
    "L2": "legit",
    "L3": "legit",
    "O1": "legit",
    "O2": "legit",
}
KINDS = {
    "L1": "otp",
    "L2": "otp",
    "L3": "marketing_sms",
    "O1": "outlier_flash_sale",
    "O2": "outlier_big_clean_email",
}
STARTS = {
    "P1": T0,
    "P2": T0,
    "R1": T0,
    "R2": T0 + timedelta(hours=1),
    "R3": T0,
    "R4": T0,
}
TRUTH = truth_of(LABELS, KINDS, STARTS)


def test_recall_precision_and_median_delay() -> None:
    flagged = {
        "P1": flag("P1", T0 + timedelta(minutes=10)),  # 600 s
        "R1": flag("R1", T0 + timedelta(minutes=30)),  # 1800 s
        "R2": flag("R2", T0 - timedelta(hours=1)),  # linked at sign-up: early, clipped to 0
        "R3": flag("R3", T0 + timedelta(hours=2)),  # 7200 s
        "L1": flag("L1", T0),
        "O1": flag("O1", T0),
    }
    report = evaluate_detection(LABELS, TRUTH, flagged)
    by = {s.scenario: s for s in report.scenarios}
    assert [s.scenario for s in report.scenarios] == ["smishing_ring", "sms_pumping"]

    assert by["sms_pumping"].accounts == 2
    assert by["sms_pumping"].caught == 1
    assert by["sms_pumping"].recall == 0.5
    assert by["sms_pumping"].missed == ("P2",)
    assert by["sms_pumping"].median_delay_s == 600.0

    assert by["smishing_ring"].caught == 3
    assert by["smishing_ring"].recall == 0.75
    assert by["smishing_ring"].median_delay_s == 1800.0  # median of 0, 1800, 7200
    assert by["smishing_ring"].early == 1

    assert report.abusive_accounts == 6
    assert report.caught == 4
    assert report.recall == pytest.approx(4 / 6)
    assert report.flagged == 6
    assert report.flagged_abusive == 4
    assert report.precision == pytest.approx(4 / 6)
    assert report.median_delay_s == 1200.0  # median of 0, 600, 1800, 7200
    assert report.early == 1

    assert report.false_positives_by_kind == {"otp": 1}
    assert report.outliers_flagged == {"outlier_flash_sale": ("O1",)}
    assert report.false_positives == 2


def test_nothing_flagged() -> None:
    report = evaluate_detection(LABELS, TRUTH, {})
    assert report.caught == 0
    assert report.recall == 0.0
    assert report.precision == 0.0
    assert report.median_delay_s is None
    assert all(s.median_delay_s is None for s in report.scenarios)
    text = render_text(report)
    assert "legitimate outliers flagged: none" in text
    assert "missed:" in text


def test_unknown_accounts_are_reported_not_counted_as_abuse() -> None:
    report = evaluate_detection(LABELS, TRUTH, {"ZZ": flag("ZZ", T0), "P1": flag("P1", T0)})
    assert report.unknown_flagged == ("ZZ",)
    assert report.flagged == 2
    assert report.flagged_abusive == 1
    assert report.precision == 0.5


def test_text_and_json_call_out_flagged_outliers() -> None:
    flagged = {
        "O1": flag("O1", T0),
        "O2": flag("O2", T0),
        "P1": flag("P1", T0 + timedelta(hours=3)),
    }
    report = evaluate_detection(LABELS, TRUTH, flagged)
    text = render_text(report)
    assert "LEGITIMATE OUTLIERS FLAGGED" in text
    assert "outlier_flash_sale: O1" in text
    assert "outlier_big_clean_email: O2" in text
    assert "sms_pumping" in text
    assert "3.0 h" in text
    data = report.to_json()
    assert data["overall"]["precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert data["outliers_flagged"] == {
        "outlier_big_clean_email": ["O2"],
        "outlier_flash_sale": ["O1"],
    }
    assert data["false_positives_by_kind"] == {}
    pumping = next(s for s in data["scenarios"] if s["scenario"] == "sms_pumping")
    assert pumping == {
        "scenario": "sms_pumping",
        "accounts": 2,
        "caught": 1,
        "recall": 0.5,
        "median_delay_s": 10800.0,
        "early": 0,
        "missed": ["P2"],
    }


def test_timezone_aware_signal_times_in_other_zones() -> None:
    from zoneinfo import ZoneInfo

    local = (T0 + timedelta(minutes=5)).astimezone(ZoneInfo("America/New_York"))
    report = evaluate_detection(LABELS, TRUTH, {"P1": flag("P1", local)})
    assert report.median_delay_s == 300.0


def test_naive_signal_times_are_utc() -> None:
    naive = (T0 + timedelta(minutes=7)).replace(tzinfo=None)
    report = evaluate_detection(LABELS, TRUTH, {"P1": flag("P1", naive)})
    assert report.median_delay_s == 420.0
