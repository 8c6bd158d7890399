"""Feature values as one DuckDB query: what the streaming engine gives, for backtests over the lake.

Streaming order is (ts, id), so `seq = row_number() OVER (ORDER BY ts, id)`. In that order a
key's events with bucket >= B - n + 1 and seq <= the current one are one contiguous run ending
at the current row (buckets never decrease along seq). So per `by` partition:

    rn     = row_number() OVER (PARTITION BY keys ORDER BY seq)
    start  = min(rn) OVER (PARTITION BY keys ORDER BY bucket
                           RANGE BETWEEN n - 1 PRECEDING AND CURRENT ROW)
    value  = agg(contribution) OVER (PARTITION BY keys ORDER BY seq
                                     ROWS BETWEEN rn - start PRECEDING AND CURRENT ROW)

DuckDB accepts a per-row expression as the frame offset, which keeps this a single scan per
window instead of a self-join on (keys, bucket range, seq). A contribution is 1/0 for counts,
the `of` value or NULL for sums and distincts, so rows of other types still *read* the feature
(their contribution is 0/NULL), exactly as in streaming. Rows with a NULL key get NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from abusedesk.detection.spec import FeatureSpec

SEQ, SEC = "__adk_seq", "__adk_s"
T = TypeVar("T")


def feature_sql(
    features: Sequence[FeatureSpec], table: str, filter_sql: Callable[[str], str]
) -> str:
    """One query over `table` (id, type, ts TIMESTAMPTZ and the columns the features use)
    returning `id` and one column per feature, in (ts, id) order."""
    base = [f for f in features if f.numerator is None]
    derived = [f for f in features if f.numerator is not None]
    groups = _unique([f.by for f in base])
    shapes = _unique([(f.by, _bucket(f), _n(f)) for f in base if f.kind != "age"])
    buckets = _unique([f.bucket_s for f in base if f.bucket_s is not None])

    contribs: list[str] = []
    values: dict[str, str] = {}
    for f in base:
        g = groups.index(f.by)
        if f.kind == "age":
            c = _contrib(f, f.where, SEC, "NULL", filter_sql=filter_sql, contribs=contribs)
            first = f"min({c}) OVER (PARTITION BY {_cols(f.by)} ORDER BY {SEQ} ROWS UNBOUNDED PRECEDING)"
            expr = f"CAST({SEC} - {first} AS DOUBLE) / 3600"
        else:
            s = shapes.index((f.by, _bucket(f), _n(f)))
            frame = (
                f"OVER (PARTITION BY {_cols(f.by)} ORDER BY {SEQ} "
                f"ROWS BETWEEN __adk_rn{g} - __adk_st{s} PRECEDING AND CURRENT ROW)"
            )
            expr = _window_value(f, frame, filter_sql, contribs)
        nulls = " OR ".join(f"{_q(c)} IS NULL" for c in f.by)
        values[f.name] = f"CASE WHEN {nulls} THEN NULL ELSE {expr} END" if f.by else expr

    # A ratio of features is computed in the final SELECT; one built on another inlines it.
    pending = {f.name: f for f in derived}
    rendered: set[str] = set()
    while pending:
        ready = [f for f in pending.values() if not {f.numerator, f.denominator} & pending.keys()]
        if not ready:
            raise ValueError(f"ratio features refer to each other in a cycle: {sorted(pending)}")
        for f in ready:
            num, den = (
                f"({values[part]})" if part in rendered else _q(part)
                for part in (f.numerator or "", f.denominator or "")
            )
            values[f.name] = (
                f"CASE WHEN {num} IS NULL OR {den} IS NULL OR {den} = 0 THEN NULL "
                f"ELSE CAST({num} AS DOUBLE) / {den} END"
            )
            del pending[f.name]
            rendered.add(f.name)

    rn = [
        f"row_number() OVER (PARTITION BY {_cols(by)} ORDER BY {SEQ}) AS __adk_rn{g}"
        for g, by in enumerate(groups)
    ]
    st = [
        f"min(__adk_rn{groups.index(by)}) OVER (PARTITION BY {_cols(by)} ORDER BY __adk_b{bs} "
        f"RANGE BETWEEN {n - 1} PRECEDING AND CURRENT ROW) AS __adk_st{s}"
        for s, (by, bs, n) in enumerate(shapes)
    ]
    bucket_cols = [f"{SEC} // {bs} AS __adk_b{bs}" for bs in buckets]
    base_values = ",\n    ".join(f"{values[f.name]} AS {_q(f.name)}" for f in base)
    derived_values = "".join(f",\n    {values[f.name]} AS {_q(f.name)}" for f in derived)
    return f"""WITH __adk_e AS (
  SELECT *, row_number() OVER (ORDER BY ts, id) AS {SEQ},
    CAST(floor(epoch_us(ts) / 1000000.0) AS BIGINT) AS {SEC}
  FROM {table}
), __adk_c AS (
  SELECT *{_more(contribs + bucket_cols)}
  FROM __adk_e
), __adk_r AS (
  SELECT *{_more(rn)}
  FROM __adk_c
), __adk_w AS (
  SELECT *{_more(st)}
  FROM __adk_r
), __adk_v AS (
  SELECT {SEQ}, id{"," if base else ""}
    {base_values}
  FROM __adk_w
)
SELECT id{"".join(f", {_q(f.name)}" for f in base)}{derived_values}
FROM __adk_v
ORDER BY {SEQ}"""


def _window_value(
    f: FeatureSpec, frame: str, filter_sql: Callable[[str], str], contribs: list[str]
) -> str:
    if f.kind == "count":
        c = _contrib(f, f.where, "1", "0", filter_sql=filter_sql, contribs=contribs)
        return f"CAST(sum({c}) {frame} AS BIGINT)"
    if f.kind == "sum":
        c = _contrib(f, f.where, _q(f.of or ""), "NULL", filter_sql=filter_sql, contribs=contribs)
        return f"CAST(coalesce(sum({c}) {frame}, 0) AS DOUBLE)"
    if f.kind == "distinct":
        c = _contrib(f, f.where, _q(f.of or ""), "NULL", filter_sql=filter_sql, contribs=contribs)
        return f"count(DISTINCT {c}) {frame}"
    num = _contrib(f, f.where, "1", "0", filter_sql=filter_sql, contribs=contribs)
    den = _contrib(f, f.over, "1", "0", filter_sql=filter_sql, contribs=contribs)
    return (
        f"CASE WHEN sum({den}) {frame} = 0 THEN NULL "
        f"ELSE CAST(sum({num}) {frame} AS DOUBLE) / sum({den}) {frame} END"
    )


def _contrib(
    f: FeatureSpec,
    condition: str | None,
    then: str,
    otherwise: str,
    *,
    filter_sql: Callable[[str], str],
    contribs: list[str],
) -> str:
    """Add a contribution column (`then` when the row updates the feature) and name it."""
    types = ", ".join(_lit(t) for t in f.on)
    test = f'"type" IN ({types})'
    if condition is not None:
        test += f" AND ({filter_sql(condition)}) IS TRUE"
    name = f"__adk_c{len(contribs)}"
    contribs.append(f"CASE WHEN {test} THEN {then} ELSE {otherwise} END AS {name}")
    return name


def _bucket(f: FeatureSpec) -> int:
    if f.bucket_s is None:
        raise ValueError(f"feature {f.name!r}: a {f.kind} needs a window")
    return f.bucket_s


def _n(f: FeatureSpec) -> int:
    return f.n_buckets or 1


def _more(columns: list[str]) -> str:
    return "".join(f",\n    {c}" for c in columns)


def _cols(by: tuple[str, ...]) -> str:
    return ", ".join(_q(c) for c in by) if by else "1"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unique(items: list[T]) -> list[T]:
    out: list[T] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
