"""What a rule pack declares, after loading: the contract between the loader, the feature
engine, the rule compiler, the streaming engine and the backtester.

A *row* is what a rule sees for one event: the envelope (`id`, `type`, `ts`, `account_id`), the
event's own fields (events.schema.FIELDS), the enrichment fields (enrich.fields), the feature
values declared in the pack, and model scores. Names are case-sensitive SQL identifiers; `from`
must be written `"from"` in expressions because it is an SQL keyword.

Window semantics (the same in streaming, in Redis and in the DuckDB backtest): time is cut into
buckets of `bucket_s` seconds (UTC epoch aligned). A feature's value for an event is computed
over the events processed before it, plus itself, whose bucket lies in the `n_buckets` buckets
ending with the current event's bucket. Order is (ts, id) in backtests and arrival order in
streaming; they agree when events arrive in time order. A window so reaches back between
`window_s - bucket_s` and `window_s` seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

FeatureKind = Literal["count", "sum", "distinct", "ratio", "age"]
Severity = Literal["low", "medium", "high", "critical"]
Verdict = Literal["allow", "review", "hold", "block"]
Mode = Literal["live", "shadow"]

SEVERITIES: Final[tuple[str, ...]] = ("low", "medium", "high", "critical")
VERDICTS: Final[tuple[str, ...]] = ("allow", "review", "hold", "block")
VERDICT_RANK: Final[dict[str, int]] = {v: i for i, v in enumerate(VERDICTS)}
PRIORITIES: Final[tuple[str, ...]] = ("P1", "P2", "P3", "P4")

MIN_WINDOW_S: Final = 60
MAX_WINDOW_S: Final = 30 * 86400
_UNITS: Final = {"m": 60, "h": 3600, "d": 86400}
_WINDOW_RE: Final = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_window(text: str) -> int:
    """'5m', '1h', '24h', '7d' -> seconds; ValueError with the reason otherwise."""
    match = _WINDOW_RE.match(text)
    if not match:
        raise ValueError(
            f"window {text!r} is not a number followed by m, h or d (e.g. 5m, 24h, 7d)"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise ValueError(f"window {text!r} is outside 1m to 30d")
    return seconds


def bucket_seconds(window_s: int) -> int:
    """Bucket width for a window: one minute below an hour, else window/60 (60 buckets)."""
    return 60 if window_s < 3600 else window_s // 60


@dataclass(frozen=True, slots=True)
class Span:
    """A place in a rule pack file, for diagnostics (1-based line and column)."""

    file: str
    line: int
    col: int
    end_col: int | None = None


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One windowed feature.

    kind      value
    count     number of matching events of types `on` with the same `by` keys in the window
    sum       sum of field `of` over matching events (NULLs skipped)
    distinct  number of distinct non-NULL values of field `of` over matching events
    ratio     either count(`where`) / count(`over`) over events of types `on` (NULL when the
              denominator is 0), or, with `numerator`/`denominator`, the ratio of two features
              declared with the same `by` keys and window
    age       hours since the first matching event with these keys (no window; NULL if none)

    A feature is *updated* by events whose type is in `on` and for which `where` (or, for a
    ratio, `where` or `over`) is true. It is *read* by any event whose row has every `by` key
    non-NULL; otherwise its value is NULL.
    """

    name: str
    kind: FeatureKind
    on: tuple[str, ...]
    by: tuple[str, ...]
    window_s: int | None
    where: str | None = None
    over: str | None = None
    of: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    span: Span | None = None

    @property
    def bucket_s(self) -> int | None:
        return None if self.window_s is None else bucket_seconds(self.window_s)

    @property
    def n_buckets(self) -> int | None:
        if self.window_s is None:
            return None
        return self.window_s // bucket_seconds(self.window_s)


@dataclass(frozen=True, slots=True)
class RuleTest:
    name: str
    row: dict[str, object]
    expect: Literal["match", "no_match"]
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class CaseBar:
    """When a rule's matches on one account become a case (`case: open_when:`).

    Over the rule's matches on the account in the last `within_s` seconds: at least `matches`
    of them, at least n distinct values of each field in `distinct`, first to last at least
    `persist_s` apart. `evidence` is False when the pack gave none of these (only `score`).
    Alternatively, `score`: the account's risk score on the rule's policy reaches it.
    """

    matches: int = 1
    within_s: int = 86400
    distinct: tuple[tuple[str, int], ...] = ()
    persist_s: int = 0
    score: float | None = None
    evidence: bool = True


@dataclass(frozen=True, slots=True)
class CaseTest:
    """An embedded test of a case bar: matches at offsets (seconds from the first), each
    with the row values the bar reads; `open` or `no_case` expected after the last."""

    name: str
    matches: tuple[tuple[int, dict[str, object]], ...]
    expect: Literal["open", "no_case"]
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class CaseRouting:
    queue: str = "general"
    priority: str = "P3"  # the most urgent priority this rule's cases get (risk.py)
    bar: CaseBar = field(default_factory=CaseBar)
    tests: tuple[CaseTest, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    description: str
    policy: str
    severity: Severity
    when: str
    verdict: Verdict
    mode: Mode = "live"
    # How much one match says on its own (0-1]: the risk score weighs it with the severity.
    confidence: float = 1.0
    case: CaseRouting | None = field(default_factory=CaseRouting)
    source: str = ""
    tests: tuple[RuleTest, ...] = ()
    span: Span | None = None
    when_span: Span | None = None


@dataclass(frozen=True, slots=True)
class RulePack:
    name: str
    features: tuple[FeatureSpec, ...]
    rules: tuple[RuleSpec, ...]
    files: tuple[str, ...] = ()
