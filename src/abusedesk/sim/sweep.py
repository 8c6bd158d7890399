"""Detection over many simulated seeds: the distribution a desk lead reads.

For each seed: simulate (cached under `cache`), take in the feedback loop's early complaints
(complaints.mbox: ARF reports without account headers, read by the ARF adapter) and then every
event through the detection engine, linking each early complaint to its account when its
message passes (as ingest's late linking does, pipeline/linking.py), and the account-level
case bar (detection/case_bar.py, the same code streaming ingest, the
decision API, `abusedesk detect` and the backtest use), and score the cases against the ground
truth (evaluate.py). No database: a case is what `AccountCases` calls for, with the priority it
has at the end. `summarise` gives, over the seeds, minimum and median recall per scenario and
of precision, P1/P2 precision, analyst load and time to case.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from abusedesk.detection.case_bar import AccountCases
from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.spec import PRIORITIES
from abusedesk.events.adapters.arf import ArfAdapter
from abusedesk.events.adapters.base import Limits, Record
from abusedesk.events.schema import Event, validate_event
from abusedesk.pipeline.linking import Held, clean_message_id, linked_event, local_part
from abusedesk.sim.evaluate import CaseSummary, EvalReport, FlaggedAccount, evaluate_detection
from abusedesk.sim.fbl import COMPLAINTS_FILE, EARLY_COMPLAINTS
from abusedesk.sim.generator import EVENTS_FILE, LABELS_FILE, TRUTH_FILE, generate


def parse_seeds(text: str) -> list[int]:
    """'1-20', '3', '1,4,9-11' -> seeds in order; ValueError otherwise."""
    seeds: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"seeds {text!r}: write e.g. 1-20 or 1,4,9-11")
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first:
            raise ValueError(f"seeds {text!r}: {part} runs backwards")
        seeds += range(first, last + 1)
    return seeds


@dataclass(frozen=True, slots=True)
class SeedResult:
    seed: int
    variety: str
    report: EvalReport
    cases: tuple[CaseSummary, ...]


@dataclass(slots=True)
class _Case:
    first_at: Any
    priority: str
    rules: set[str]


def run_seed(
    seed: int,
    variety: str,
    *,
    days: int = 3,
    cache: Path,
    pack: Path | None = None,
    early: float = EARLY_COMPLAINTS,
) -> SeedResult:
    folder = cache / f"{variety}-d{days}-early{round(early * 100)}-seed{seed}"
    if not (folder / TRUTH_FILE).exists():
        generate(folder, days=days, seed=seed, variety=variety, early_complaints=early)
    engine = DetectionEngine.load(pack)
    bar = AccountCases()
    cases: dict[tuple[str, str], _Case] = {}
    waiting = _early_complaints(folder / COMPLAINTS_FILE)
    held = Held()  # linked complaints, seen by detection when the stream reaches their time
    with (folder / EVENTS_FILE).open("rb") as fh:
        for line in fh:
            event = validate_event(orjson.loads(line))
            if len(held):
                for linked in held.release(event.ts):
                    _observe(linked, engine, bar, cases)
            _observe(event, engine, bar, cases)
            if waiting and event.type == "message" and event.account_id:
                held.hold(waiting.link(event.data.get("message_id"), event.account_id))
    for linked in held.drain():
        _observe(linked, engine, bar, cases)
    labels = orjson.loads((folder / LABELS_FILE).read_bytes())
    truth = orjson.loads((folder / TRUTH_FILE).read_bytes())
    flagged: dict[str, FlaggedAccount] = {}
    for (account, policy), case in cases.items():
        seen = flagged.get(account)
        if seen is None or case.first_at < seen.first_signal_at:
            policies = (*seen.policies, policy) if seen else (policy,)
            flagged[account] = FlaggedAccount(account, case.first_at, policies, len(policies))
    summaries = [
        CaseSummary(account, policy, case.priority, tuple(sorted(case.rules)))
        for (account, policy), case in sorted(cases.items())
    ]
    report = evaluate_detection(labels, truth, flagged, summaries, days)
    return SeedResult(seed, variety, report, tuple(summaries))


def _observe(
    event: Event,
    engine: DetectionEngine,
    bar: AccountCases,
    cases: dict[tuple[str, str], _Case],
) -> None:
    verdict = engine.evaluate(event)
    calls = bar.observe(verdict.matched, event.account_id, event.ts, verdict.row)
    for rule, call in zip(verdict.matched, calls, strict=True):
        if call is None:
            continue
        key = (call.account_id, call.policy)
        case = cases.get(key)
        if case is None:
            cases[key] = _Case(event.ts, call.priority, {rule.id})
        else:
            case.priority = min(case.priority, call.priority, key=PRIORITIES.index)
            case.rules.add(rule.id)


class _Waiting:
    """Early complaints by the Message-ID they complain about (and its local part, where SES
    puts its own id), as `pending_complaints` keeps them for ingest."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.reports: dict[str, dict[str, Any]] = {}  # report id -> complaint as it arrived

    def add(self, record: Record) -> None:
        assert record.fallback is not None
        message_id = clean_message_id(record.raw.get("message_id"))
        if not message_id:
            return
        report_id = str(record.fallback["id"])
        self.reports[report_id] = record.raw
        for key in {message_id, local_part(message_id)}:
            self.by_key.setdefault(key, []).append(report_id)

    def link(self, message_id: object, account: str) -> list[Event]:
        """The complaints waiting for this message, as the account's (each once)."""
        out = []
        for report_id in self.by_key.pop(clean_message_id(message_id), []):
            raw = self.reports.pop(report_id, None)
            if raw is None:  # linked already, through its other key
                continue
            event = linked_event(report_id, raw, account)
            if event is not None:
                out.append(event)
        return out

    def __bool__(self) -> bool:
        return bool(self.reports)


def _early_complaints(path: Path) -> _Waiting:
    """The ARF reports of complaints.mbox, read by the same adapter ingest uses."""
    waiting = _Waiting()
    if not path.exists():
        return waiting
    with path.open("rb") as fh:
        for item in ArfAdapter().parse(fh, str(path), Limits()):
            if isinstance(item, Record) and item.fallback is not None:
                waiting.add(item)
    return waiting


def run_seeds(
    seeds: Sequence[int],
    variety: str,
    *,
    days: int = 3,
    cache: Path,
    pack: Path | None = None,
    progress: Callable[[SeedResult], None] | None = None,
    early: float = EARLY_COMPLAINTS,
) -> list[SeedResult]:
    results = []
    for seed in seeds:
        result = run_seed(seed, variety, days=days, cache=cache, pack=pack, early=early)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"min": round(min(values), 4), "median": round(statistics.median(values), 4)}


def summarise(results: Sequence[SeedResult]) -> dict[str, Any]:
    """Minimum and median over the seeds of each figure."""
    reports = [r.report for r in results]
    scenarios: dict[str, list[float]] = {}
    for report in reports:
        for s in report.scenarios:
            scenarios.setdefault(s.scenario, []).append(s.recall)
    desks = [r.desk for r in reports if r.desk is not None]
    delays = [r.median_delay_s for r in reports if r.median_delay_s is not None]
    false_by_rule: dict[str, int] = {}
    for desk in desks:
        for rule, n in desk.false_by_rule.items():
            false_by_rule[rule] = false_by_rule.get(rule, 0) + n
    return {
        "seeds": [r.seed for r in results],
        "variety": results[0].variety if results else None,
        "recall": _spread([r.recall for r in reports]),
        "precision": _spread([r.precision for r in reports]),
        "case_precision": _spread([d.precision for d in desks]),
        "p1_p2_precision": _spread([d.urgent_precision for d in desks]),
        "cases_per_100_accounts_per_day": _spread([d.per_100_accounts_day for d in desks]),
        "median_delay_s": _spread(delays) if delays else None,
        "scenarios": {name: _spread(v) for name, v in sorted(scenarios.items())},
        "scenario_missed_on_some_seed": sorted(n for n, v in scenarios.items() if min(v) < 1.0),
        "outliers_with_p1_p2": sorted({o for d in desks for o in d.outliers_urgent}),
        "false_cases_by_rule": dict(sorted(false_by_rule.items(), key=lambda kv: -kv[1])),
    }


def render_summary(summary: dict[str, Any]) -> str:
    def pair(spread: dict[str, float] | None, pct: bool = True) -> str:
        if spread is None:
            return "-"
        if pct:
            return f"min {100 * spread['min']:5.1f} %  median {100 * spread['median']:5.1f} %"
        return f"min {spread['min']:.2f}  median {spread['median']:.2f}"

    seeds = summary["seeds"]
    lines = [
        f"Detection over {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), variety {summary['variety']}",
        "",
        f"{'scenario':<22} recall",
    ]
    for name, spread in summary["scenarios"].items():
        lines.append(f"{name:<22} {pair(spread)}")
    lines += [
        "",
        f"{'recall':<22} {pair(summary['recall'])}",
        f"{'precision (accounts)':<22} {pair(summary['precision'])}",
        f"{'precision (cases)':<22} {pair(summary['case_precision'])}",
        f"{'precision (P1/P2)':<22} {pair(summary['p1_p2_precision'])}",
        f"{'cases/100 accts/day':<22} {pair(summary['cases_per_100_accounts_per_day'], False)}",
    ]
    delay = summary["median_delay_s"]
    if delay is not None:
        lines.append(
            f"{'median time to case':<22} min {delay['min'] / 60:.0f} min  "
            f"median {delay['median'] / 60:.0f} min"
        )
    missed = summary["scenario_missed_on_some_seed"]
    lines.append(f"scenarios missed on some seed: {', '.join(missed) if missed else 'none'}")
    outliers = summary["outliers_with_p1_p2"]
    lines.append(f"outliers with a P1/P2 case: {', '.join(outliers) if outliers else 'none'}")
    if summary["false_cases_by_rule"]:
        rules = ", ".join(f"{r} {n}" for r, n in summary["false_cases_by_rule"].items())
        lines.append(f"false cases by rule (all seeds): {rules}")
    return "\n".join(lines) + "\n"
