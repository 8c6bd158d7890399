"""Account 360 over the hand-made world: profile, entities, metrics, sample, history."""

from __future__ import annotations

from datetime import date

import pytest

from abusedesk.errors import DeadlineError, NotFoundError
from abusedesk.investigate.account import Limits, account_360
from abusedesk.investigate.lake_reads import AccountLake, DayRange
from abusedesk.workspace import Workspace

from .conftest import SENDER, A

LIMITS = Limits(days=30, sample=3)


def test_profile_entities_and_report(world: Workspace) -> None:
    lake = world.account_lake()
    view = account_360(world.store, lake, A, LIMITS)
    assert view["account"]["company"] == "A Ltd"
    assert view["account"]["declared_use_case"] == "otp"
    kinds = {(e["kind"], e["value"]) for e in view["entities"]}
    assert {("device", "dev-1"), ("payment", "pay-A"), ("phone", SENDER)} <= kinds
    assert ("domain", "parcel-fee.example") in kinds


def test_metrics_per_day_and_in_total(world: Workspace) -> None:
    lake = world.account_lake()
    metrics = account_360(world.store, lake, A, LIMITS)["metrics"]
    days = {d["day"]: d for d in metrics["daily"]}
    assert set(days) == {"2026-03-02", "2026-03-03"}
    first = days["2026-03-02"]
    assert (first["messages"], first["delivered"], first["undelivered"], first["bounced"]) == (
        6, 4, 1, 1,
    )  # fmt: skip
    assert first["delivered_rate"] == pytest.approx(4 / 6, abs=1e-4)
    assert first["error_rate"] == pytest.approx(1 / 6, abs=1e-4)
    second = days["2026-03-03"]
    assert second["complaint_rate"] == 0.25
    assert second["opt_out_rate"] == 0.25
    totals = metrics["totals"]
    assert totals["messages"] == 10
    assert totals["bounce_rate"] == 0.1
    assert metrics["error_codes"] == [{"code": "30007", "count": 1}]
    countries = {c["country"]: c["messages"] for c in metrics["destination_countries"]}
    assert countries == {"GB": 5, "FR": 5}
    assert {p["prefix"] for p in metrics["destination_prefixes"]} == {"+44740012", "+3361234"}


def test_message_sample_is_bounded_and_newest_first(world: Workspace) -> None:
    lake = world.account_lake()
    sample = account_360(world.store, lake, A, LIMITS)["messages"]
    assert [m["id"] for m in sample] == ["m9", "m8", "m7"]


def test_unknown_account(world: Workspace) -> None:
    lake = world.account_lake()
    with pytest.raises(NotFoundError):
        account_360(world.store, lake, "ACnobody", LIMITS)


def test_a_lake_read_stops_at_its_time_limit(world: Workspace) -> None:
    with AccountLake(world.lake_dir, timeout_s=0.05) as lake:
        # A read that takes minutes: the time limit must stop it, not wait for it.
        slow = "SELECT count(*) FROM range(30000000000) a WHERE a.range % 7 = $a::BIGINT"
        with pytest.raises(DeadlineError):
            lake._run(slow, {"a": "3"})
        # The connection still answers afterwards (with room for a loaded test machine).
        lake.timeout_s = 60
        assert lake.traffic(A, DayRange(date(2026, 3, 1), date(2026, 3, 4)), codes=5, prefixes=5)


def test_compacted_partitions_are_sorted_by_account(world: Workspace) -> None:
    import pyarrow.parquet as pq

    files = sorted((world.lake_dir / "events" / "type=message").glob("day=*/part-*.parquet"))
    assert files
    for path in files:
        ids = pq.read_table(path, columns=["account_id"]).column(0).to_pylist()
        assert ids == sorted(ids)
