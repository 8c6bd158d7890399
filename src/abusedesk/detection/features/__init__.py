"""Windowed features: counts, sums, distincts, ratios and ages per key over sliding windows.

    kinds         what each kind means: the plain definitions (read first)
    compiled      CompiledFeature: a FeatureSpec with its compiled where/over filters
    plan          features -> state tables and per-event-type update steps
    engine        FeatureEngine.observe(row) -> {feature: value}
    store         the FeatureStore protocol (one batch of updates and reads per event)
    memory        MemoryStore: key groups (keygroup.py) of tables (windows.py, distinct.py)
    fastpath      the generated per-event-type hot path used with a MemoryStore
                  (`abusedesk rules explain` prints it)
    redis_store   RedisStore (redis_lua.py holds its server-side script)
    backtest_sql  feature_sql(): the same values as one DuckDB query over an event table

docs/features.md describes them; tests/detection/features hold every path to kinds.py and
to each other.
RedisStore is imported from redis_store (not here) so importing this package stays light.
"""

from abusedesk.detection.features.backtest_sql import feature_sql
from abusedesk.detection.features.compiled import CompiledFeature, Filter, InlineFilter
from abusedesk.detection.features.engine import FeatureEngine, epoch_seconds
from abusedesk.detection.features.memory import MemoryStore
from abusedesk.detection.features.store import DEFAULT_LATENESS_S, FeatureStore, TableSpec

__all__ = [
    "DEFAULT_LATENESS_S",
    "CompiledFeature",
    "FeatureEngine",
    "FeatureStore",
    "Filter",
    "InlineFilter",
    "MemoryStore",
    "TableSpec",
    "epoch_seconds",
    "feature_sql",
]
