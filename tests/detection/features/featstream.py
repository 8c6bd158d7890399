"""Shared helpers for the feature tests: a feature builder, SQL-semantics filters with their SQL
text, and a deterministic random event stream with bursts, NULL keys and late events."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from abusedesk.detection.features import CompiledFeature
from abusedesk.detection.spec import FeatureSpec, parse_window

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
Row = Mapping[str, Any]
SqlFilter = tuple[str, Callable[[Row], Any]]


def feature(
    name: str,
    kind: str,
    on: str = "message",
    by: str = "account_id",
    window: str | None = "5m",
    where: SqlFilter | None = None,
    over: SqlFilter | None = None,
    of: str | None = None,
    parts: tuple[str, str] | None = None,
) -> CompiledFeature:
    spec = FeatureSpec(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        on=tuple(on.split(",")),
        by=tuple(by.split(",")) if by else (),
        window_s=parse_window(window) if window and kind != "age" else None,
        where=where[0] if where else None,
        over=over[0] if over else None,
        of=of,
        numerator=parts[0] if parts else None,
        denominator=parts[1] if parts else None,
    )
    return CompiledFeature(spec, where[1] if where else None, over[1] if over else None)


def eq(field: str, value: Any) -> SqlFilter:
    """`field = value` with SQL NULL semantics."""

    def fn(row: Row) -> Any:
        v = row.get(field)
        return None if v is None else v == value

    return f"{field} = {value!r}", fn


def both(a: SqlFilter, b: SqlFilter) -> SqlFilter:
    """`a AND b` with three-valued logic."""

    def fn(row: Row) -> Any:
        x, y = a[1](row), b[1](row)
        if x is False or y is False:
            return False
        return None if x is None or y is None else True

    return f"({a[0]}) AND ({b[0]})", fn


def truthy(field: str) -> SqlFilter:
    return field, lambda row: row.get(field)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def agreement_features() -> list[CompiledFeature]:
    """Every kind, windows 1m..7d, one- and two-column keys, filters that can be NULL."""
    start, check = eq("stage", "start"), eq("stage", "check")
    return [
        feature("msgs_1m", "count", window="1m"),
        feature("msgs_5m_pair", "count", by="account_id,to_prefix", window="5m"),
        feature("msgs_1h_prefix", "count", by="to_prefix", window="1h"),
        feature("high_24h", "count", window="24h", where=eq("tier", "high")),
        feature("msgs_7d", "count", on="message,call", window="7d"),
        feature("spend_1h", "sum", window="1h", of="price"),
        feature("spend_24h_country", "sum", by="account_id,country", window="24h", of="price"),
        feature("segments_7d", "sum", window="7d", of="segments", where=eq("tier", "std")),
        feature("recipients_5m", "distinct", window="5m", of="to"),
        feature("recipients_1h", "distinct", window="1h", of="to"),
        feature("templates_24h", "distinct", by="to_prefix", window="24h", of="template"),
        feature("bounce_1h", "ratio", on="delivery", window="1h", where=eq("status", "bounced")),
        feature(
            "otp_conv_24h",
            "ratio",
            on="verification",
            by="account_id,country",
            window="24h",
            where=both(check, truthy("success")),
            over=start,
        ),
        feature("complaints_7d", "count", on="complaint", window="7d"),
        feature("complaint_rate", "ratio", window="7d", parts=("complaints_7d", "msgs_7d")),
        feature("per_hour_share", "ratio", window="1h", parts=("msgs_1m", "msgs_1h_prefix")),
        feature("share_per_rate", "ratio", window="1h", parts=("per_hour_share", "complaint_rate")),
        feature("account_age", "age", window=None),
        feature("otp_age", "age", on="verification", by="account_id,country", where=start),
    ]


ACCOUNTS = [f"AC{i}" for i in range(8)]
PREFIXES = [f"+3361{i}" for i in range(12)]
COUNTRIES = ["FR", "US", "GB", None]


def stream(n: int, seed: int, *, days: float = 4, disorder: bool = True) -> list[dict[str, Any]]:
    """n events over `days`, in arrival order. With `disorder`, ~6% arrive up to 50 minutes
    late (within the default lateness) and ~0.5% two to four hours late (too late)."""
    rng = random.Random(seed)
    span = days * 86400
    times: list[float] = []
    while len(times) < n:
        t = rng.uniform(0, span)
        times.append(t)
        if rng.random() < 0.08:  # a burst: same second, same minute
            times += [
                t + rng.choice((0, 0, 1, 7, 30, 59, 60, 61)) for _ in range(rng.randrange(2, 9))
            ]
    times = sorted(times[:n])
    events = []
    for i, t in enumerate(times):
        row = _row(rng, i, t)
        delay = 0.0
        if disorder:
            roll = rng.random()
            if roll < 0.06:
                delay = rng.uniform(1, 3000)
            elif roll < 0.065:
                delay = rng.uniform(7200, 14400)
        events.append((t + delay, i, row))
    events.sort(key=lambda e: (e[0], e[1]))
    return [row for _, _, row in events]


def _row(rng: random.Random, i: int, t: float) -> dict[str, Any]:
    account = rng.choice(ACCOUNTS) if rng.random() > 0.03 else None
    prefix = rng.choice(PREFIXES) if rng.random() > 0.03 else None
    row: dict[str, Any] = {
        "id": f"e{i:06d}",
        "ts": T0 + timedelta(seconds=t),
        "account_id": account,
        "to_prefix": prefix,
        "country": rng.choice(COUNTRIES),
    }
    kind = rng.random()
    if kind < 0.55:
        row.update(
            type=rng.choice(("message", "message", "message", "call")),
            to=f"{prefix}{rng.randrange(40):02d}" if rng.random() > 0.05 else None,
            price=rng.choice((0.1, 0.2, 0.3, 0.0075, 1e-3, 0.07, None, 2.5)),
            segments=rng.choice((1, 1, 2, 3, None)),
            tier=rng.choice(("std", "std", "high", None)),
            template=rng.choice(("t1", "t2", "t3", None)),
        )
    elif kind < 0.8:
        row.update(type="delivery", status=rng.choice(("delivered", "bounced", None)))
    elif kind < 0.95:
        row.update(
            type="verification",
            stage=rng.choice(("start", "start", "check", None)),
            success=rng.choice((True, False, None)),
        )
    else:
        row.update(type="complaint")
    return row


# Per-type read sets over agreement_features(), as the detection engine would pass them: each
# type reads a few features, some read one type's features, ratios of features are named without
# their parts (the engine adds them, recursively: share_per_rate needs four more), `call` reads
# nothing of its own and `complaint` is left out, so it reads READS_OTHER.
READS_BY_TYPE: dict[str, frozenset[str]] = {
    "message": frozenset({"msgs_1m", "spend_1h", "recipients_5m", "account_age", "msgs_5m_pair"}),
    "call": frozenset(),
    "delivery": frozenset({"bounce_1h", "complaint_rate", "segments_7d", "spend_24h_country"}),
    "verification": frozenset({"otp_conv_24h", "otp_age", "share_per_rate", "spend_1h"}),
}
READS_OTHER = frozenset({"templates_24h", "high_24h", "recipients_1h"})
