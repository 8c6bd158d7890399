"""A rule pack over the lake's history (`abusedesk rules backtest`).

Detection's backtest (detection/backtest.py) evaluates a pack over any events in DuckDB; this
feeds it the lake's events and, unless labels are given, the outcomes of closed cases to
measure precision against.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from abusedesk.cases.services import case_outcomes
from abusedesk.detection.backtest import BacktestReport, run_backtest
from abusedesk.detection.engine import Scorer
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.lake.reader import LakeReader
from abusedesk.lake.replay import lake_events
from abusedesk.storage.db import Store


def backtest_lake(
    pack: CompiledPack,
    reader: LakeReader,
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    labels: Mapping[str, str] | None = None,
    scorer: Scorer | None = None,
) -> BacktestReport:
    return run_backtest(
        pack,
        lake_events(reader, since=since, until=until),
        since=since,
        until=until,
        outcomes=None if labels is not None else case_outcomes(store),
        labels=labels,
        scorer=scorer,
    )
