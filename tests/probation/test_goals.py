"""The judgement is pure: goals, counts, time in; graduate, escalate or continue out. And the
catalogue names only metrics the lake query defines, with a located error otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from abusedesk.errors import FormatError
from abusedesk.policies.catalogue import GOAL_METRICS, default_catalogue_path, load_catalogue
from abusedesk.probation.goals import judge
from abusedesk.probation.metrics import METRICS

NOW = datetime(2026, 12, 10, tzinfo=UTC)
GOALS = [{"metric": "complaint_rate", "below": 0.001}, {"metric": "bounce_rate", "below": 0.02}]


def _judge(counts: dict[str, int], ends_in: timedelta = timedelta(days=3)) -> str:
    return judge(GOALS, counts, min_volume=100, now=NOW, ends_at=NOW + ends_in).outcome


def test_below_every_bound_continues_then_graduates() -> None:
    counts = {"sent": 1000, "complaints": 0, "email_sent": 1000, "hard_bounces": 19}
    assert _judge(counts) == "continue"
    assert _judge(counts, ends_in=timedelta(0)) == "graduate"


def test_at_the_bound_is_a_breach_even_before_the_end() -> None:
    assert _judge({"sent": 1000, "complaints": 1, "email_sent": 1000}) == "escalate"
    assert _judge({"sent": 1000, "email_sent": 1000, "hard_bounces": 20}) == "escalate"


def test_under_the_minimum_volume_nothing_is_judged() -> None:
    judgement = judge(GOALS, {"sent": 99, "complaints": 50}, min_volume=100, now=NOW, ends_at=NOW)
    assert judgement.outcome == "graduate"
    assert [m.judged for m in judgement.measurements] == [False, False]


def test_the_catalogue_and_the_lake_query_know_the_same_metrics() -> None:
    assert set(GOAL_METRICS) == set(METRICS)
    for policy in load_catalogue():
        for goal in policy.probation_goals:
            assert goal.metric in METRICS, policy.id


def test_an_unknown_metric_is_refused_with_its_place(tmp_path: Path) -> None:
    text = (
        default_catalogue_path()
        .read_text()
        .replace("{metric: complaint_rate, below: 0.001}", "{metric: complaints, below: 0.001}", 1)
    )
    edited = tmp_path / "policies.yaml"
    edited.write_text(text)
    with pytest.raises(FormatError) as info:
        load_catalogue(edited)
    assert "policies[0] (email-complaint-rate): probation.goals[0]" in info.value.message
    assert "metric 'complaints' is not one of complaint_rate" in info.value.message
