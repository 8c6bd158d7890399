"""Volume grows linearly with scale (legitimate accounts multiply; scenarios stay fixed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from abusedesk.sim.generator import generate


def test_twice_the_scale_is_about_twice_the_events(tmp_path: Path) -> None:
    one = generate(tmp_path / "one", days=1, seed=3, scale=1.0)
    two = generate(tmp_path / "two", days=1, seed=3, scale=2.0)
    assert 1.6 <= two.events / one.events <= 2.4
    assert two.accounts_by_label["legit"] >= 1.8 * one.accounts_by_label["legit"]
    scenarios = {k: v for k, v in one.accounts_by_label.items() if k != "legit"}
    assert scenarios == {k: v for k, v in two.accounts_by_label.items() if k != "legit"}


@pytest.mark.parametrize(("days", "scale"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_bad_arguments_are_refused(tmp_path: Path, days: int, scale: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        generate(tmp_path, days=days, scale=scale)


def test_unknown_scenarios_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        generate(tmp_path, days=1, scale=0.1, scenarios={"sms_pumpin": None})
