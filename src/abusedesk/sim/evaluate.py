"""Score detection against the simulator's ground truth (pure: no database, no I/O).

The caller lists every account with at least one open live case (`FlaggedAccount`); this module
compares that with labels.json / truth.json:
  per scenario   accounts, caught, recall, median seconds from abuse_start to the first signal
  overall        recall over abusive accounts, precision over flagged accounts
  false alarms   flagged legitimate accounts by kind, with the honest outliers called out by id
  the desk       with the cases themselves (`CaseSummary`): case-level precision, precision of
                 P1/P2 cases alone, analyst load (cases per 100 accounts per day) and, per rule,
                 how many false cases it is on
Detections before abuse_start (a ring member linked at sign-up) count as caught; their delay is
clipped to 0 and counted, since a negative "time to detect" would flatter the median.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LEGIT = "legit"
OUTLIER_PREFIX = "outlier_"


@dataclass(frozen=True, slots=True)
class FlaggedAccount:
    account_id: str
    first_signal_at: datetime
    policies: tuple[str, ...]
    case_count: int


@dataclass(frozen=True, slots=True)
class CaseSummary:
    account_id: str
    policy: str
    priority: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeskLoad:
    """The cases as a desk lead reads them."""

    cases: int
    true_cases: int
    urgent: int  # P1 and P2
    urgent_true: int
    per_100_accounts_day: float
    false_by_rule: dict[str, int]  # rule id -> false cases it is on
    outliers_urgent: tuple[str, ...]  # honest outliers with a P1/P2 case

    @property
    def precision(self) -> float:
        return self.true_cases / self.cases if self.cases else 1.0

    @property
    def urgent_precision(self) -> float:
        return self.urgent_true / self.urgent if self.urgent else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "case_precision": round(self.precision, 4),
            "p1_p2_cases": self.urgent,
            "p1_p2_precision": round(self.urgent_precision, 4),
            "cases_per_100_accounts_per_day": round(self.per_100_accounts_day, 3),
            "false_cases_by_rule": dict(self.false_by_rule),
            "outliers_with_p1_p2": list(self.outliers_urgent),
        }


def desk_load(
    labels: Mapping[str, str],
    truth: Mapping[str, Mapping[str, Any]],
    cases: Sequence[CaseSummary],
    days: float,
) -> DeskLoad:
    true_cases = urgent = urgent_true = 0
    false_by_rule: dict[str, int] = {}
    outliers: set[str] = set()
    for case in cases:
        abusive = labels.get(case.account_id, LEGIT) != LEGIT
        is_urgent = case.priority in ("P1", "P2")
        true_cases += abusive
        urgent += is_urgent
        urgent_true += is_urgent and abusive
        if not abusive:
            for rule in case.rules:
                false_by_rule[rule] = false_by_rule.get(rule, 0) + 1
            kind = str(truth.get(case.account_id, {}).get("kind") or "")
            if is_urgent and kind.startswith(OUTLIER_PREFIX):
                outliers.add(f"{kind}:{case.account_id}")
    accounts = max(1, len(labels))
    return DeskLoad(
        cases=len(cases),
        true_cases=true_cases,
        urgent=urgent,
        urgent_true=urgent_true,
        per_100_accounts_day=100.0 * len(cases) / accounts / max(days, 1e-9),
        false_by_rule=dict(sorted(false_by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        outliers_urgent=tuple(sorted(outliers)),
    )


@dataclass(frozen=True, slots=True)
class ScenarioScore:
    scenario: str
    accounts: int
    caught: int
    missed: tuple[str, ...]
    median_delay_s: float | None  # abuse_start -> first signal, caught accounts only
    early: int  # caught before abuse_start (delay clipped to 0)

    @property
    def recall(self) -> float:
        return self.caught / self.accounts if self.accounts else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "accounts": self.accounts,
            "caught": self.caught,
            "recall": round(self.recall, 4),
            "median_delay_s": self.median_delay_s,
            "early": self.early,
            "missed": list(self.missed),
        }


@dataclass(frozen=True, slots=True)
class EvalReport:
    scenarios: tuple[ScenarioScore, ...]
    abusive_accounts: int
    caught: int
    flagged: int
    flagged_abusive: int
    median_delay_s: float | None
    early: int
    false_positives_by_kind: dict[str, int]  # legitimate kinds other than outliers
    outliers_flagged: dict[str, tuple[str, ...]]  # outlier kind -> account ids
    unknown_flagged: tuple[str, ...]  # flagged ids not in the labels (another data set?)
    desk: DeskLoad | None = None

    @property
    def recall(self) -> float:
        return self.caught / self.abusive_accounts if self.abusive_accounts else 0.0

    @property
    def precision(self) -> float:
        return self.flagged_abusive / self.flagged if self.flagged else 0.0

    @property
    def false_positives(self) -> int:
        outliers = sum(len(ids) for ids in self.outliers_flagged.values())
        return sum(self.false_positives_by_kind.values()) + outliers

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": {
                "abusive_accounts": self.abusive_accounts,
                "caught": self.caught,
                "recall": round(self.recall, 4),
                "flagged": self.flagged,
                "flagged_abusive": self.flagged_abusive,
                "precision": round(self.precision, 4),
                "median_delay_s": self.median_delay_s,
                "early": self.early,
            },
            "scenarios": [s.to_json() for s in self.scenarios],
            "false_positives_by_kind": dict(self.false_positives_by_kind),
            "outliers_flagged": {k: list(v) for k, v in self.outliers_flagged.items()},
            "unknown_flagged": list(self.unknown_flagged),
            "desk": self.desk.to_json() if self.desk is not None else None,
        }


def _parse_ts(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    return _utc(datetime.fromisoformat(value))


def _utc(when: datetime) -> datetime:
    """Aware UTC. A naive time is taken as UTC (what a database column without a zone holds),
    never as the machine's local time, which `astimezone` would assume."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def evaluate_detection(
    labels: Mapping[str, str],
    truth: Mapping[str, Mapping[str, Any]],
    flagged: Mapping[str, FlaggedAccount],
    cases: Sequence[CaseSummary] | None = None,
    days: float = 1.0,
) -> EvalReport:
    by_scenario: dict[str, list[str]] = {}
    for account, label in labels.items():
        if label != LEGIT:
            by_scenario.setdefault(label, []).append(account)

    scores: list[ScenarioScore] = []
    all_delays: list[float] = []
    total_early = 0
    for scenario in sorted(by_scenario):
        accounts = sorted(by_scenario[scenario])
        delays: list[float] = []
        early = 0
        missed: list[str] = []
        for account in accounts:
            hit = flagged.get(account)
            if hit is None:
                missed.append(account)
                continue
            start = _parse_ts(truth.get(account, {}).get("abuse_start"))
            if start is None:
                continue  # caught, but no abuse start to measure from
            delay = (_utc(hit.first_signal_at) - start).total_seconds()
            if delay < 0:
                early += 1
                delay = 0.0
            delays.append(delay)
        caught = len(accounts) - len(missed)
        scores.append(
            ScenarioScore(scenario, len(accounts), caught, tuple(missed), _median(delays), early)
        )
        all_delays += delays
        total_early += early

    fp_kinds: dict[str, int] = {}
    outliers: dict[str, list[str]] = {}
    unknown: list[str] = []
    flagged_abusive = 0
    for account in sorted(flagged):
        verdict = labels.get(account)
        if verdict is None:
            unknown.append(account)
        elif verdict != LEGIT:
            flagged_abusive += 1
        else:
            kind = str(truth.get(account, {}).get("kind") or "unknown")
            if kind.startswith(OUTLIER_PREFIX):
                outliers.setdefault(kind, []).append(account)
            else:
                fp_kinds[kind] = fp_kinds.get(kind, 0) + 1

    abusive = sum(s.accounts for s in scores)
    return EvalReport(
        scenarios=tuple(scores),
        abusive_accounts=abusive,
        caught=sum(s.caught for s in scores),
        flagged=len(flagged),
        flagged_abusive=flagged_abusive,
        median_delay_s=_median(all_delays),
        early=total_early,
        false_positives_by_kind=dict(sorted(fp_kinds.items())),
        outliers_flagged={k: tuple(v) for k, v in sorted(outliers.items())},
        unknown_flagged=tuple(unknown),
        desk=None if cases is None else desk_load(labels, truth, cases, days),
    )


def _pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def _delay(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def render_text(report: EvalReport) -> str:
    """A plain-text table for the terminal (no colour: it is also pasted into tickets)."""
    head = f"{'scenario':<22} {'accounts':>8} {'caught':>6} {'recall':>8} {'median delay':>13} {'early':>5}"
    lines = ["Detection against ground truth", "", head, "-" * len(head)]
    for s in report.scenarios:
        lines.append(
            f"{s.scenario:<22} {s.accounts:>8} {s.caught:>6} {_pct(s.recall):>8} "
            f"{_delay(s.median_delay_s):>13} {s.early:>5}"
        )
    lines.append("-" * len(head))
    lines.append(
        f"{'all abuse':<22} {report.abusive_accounts:>8} {report.caught:>6} "
        f"{_pct(report.recall):>8} {_delay(report.median_delay_s):>13} {report.early:>5}"
    )
    lines.append("")
    lines.append(
        f"flagged accounts: {report.flagged}, of which abusive: {report.flagged_abusive}; "
        f"precision {_pct(report.precision).strip()}"
    )
    if report.false_positives_by_kind:
        kinds = ", ".join(f"{k} {n}" for k, n in report.false_positives_by_kind.items())
        lines.append(f"false positives by kind: {kinds}")
    else:
        lines.append("false positives by kind: none")
    if report.outliers_flagged:
        lines.append("LEGITIMATE OUTLIERS FLAGGED (should have been left alone):")
        for kind, ids in report.outliers_flagged.items():
            lines.append(f"  {kind}: {', '.join(ids)}")
    else:
        lines.append("legitimate outliers flagged: none")
    if report.unknown_flagged:
        lines.append(f"flagged but not in the labels: {len(report.unknown_flagged)}")
    desk = report.desk
    if desk is not None:
        lines.append("")
        lines.append(
            f"cases: {desk.cases}, precision {_pct(desk.precision).strip()}; "
            f"P1/P2: {desk.urgent}, precision {_pct(desk.urgent_precision).strip()}; "
            f"analyst load {desk.per_100_accounts_day:.2f} cases per 100 accounts per day"
        )
        if desk.false_by_rule:
            rules = ", ".join(f"{r} {n}" for r, n in desk.false_by_rule.items())
            lines.append(f"false cases by rule: {rules}")
        if desk.outliers_urgent:
            lines.append(f"OUTLIERS WITH A P1/P2 CASE: {', '.join(desk.outliers_urgent)}")
    missed = [(s.scenario, a) for s in report.scenarios for a in s.missed]
    if missed:
        lines += ["", "missed:"] + [f"  {scenario}: {account}" for scenario, account in missed]
    return "\n".join(lines) + "\n"
