"""Detection -> signals -> cases: ingest hands each committed batch to `DetectionConsumer`.

Every event is evaluated; every live match goes to the account-level case bar (case_bar.py),
which says whether the account gets a case; every rule match becomes a signal, except that
repeats of the same
rule on the same account within `cooldown_s` (by event time) are counted into the earlier
signal's `hits` instead of stored again (unless that match is the one that clears the bar: it
is stored, carrying the case call): a pumping burst is one signal with 4,000 hits, not
4,000 rows. Signals and the cases they open are written by cases.services, in one transaction
per batch; the case layer gets each rule as plain data (cases.rule_info.RuleInfo).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from abusedesk.cases.desk import Desk
from abusedesk.cases.rule_info import Routing, RuleInfo
from abusedesk.cases.services import HitUpdate, RecordResult, SignalDraft, do_record_signals
from abusedesk.clock import Clock
from abusedesk.detection.case_bar import AccountCases
from abusedesk.detection.engine import DetectionEngine, Verdict, evidence
from abusedesk.detection.spec import RuleSpec
from abusedesk.enrich import failure_count
from abusedesk.events.schema import Event
from abusedesk.logs import fields
from abusedesk.storage.db import Store

log = logging.getLogger("abusedesk.pipeline.signals")
# Events per evaluate_many call (see on_events).
DETECT_SLICE: Final = 512


@dataclass
class _Last:
    rule_id: str
    event_id: str
    event_ts: datetime
    draft: SignalDraft | None  # still pending in this batch, or None once written


@dataclass
class DetectionStats:
    events: int = 0
    matches: int = 0
    signals: int = 0
    cases_opened: int = 0
    opened_ids: list[int] = field(default_factory=list)
    decisions: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    # Events enrichment failed on while this consumer evaluated them (counted by the
    # process-wide enricher: a decision evaluated at the same moment would count here too).
    enrich_failures: int = 0


class DetectionConsumer:
    def __init__(
        self,
        engine: DetectionEngine,
        store: Store,
        clock: Clock,
        *,
        cooldown_s: int = 3600,
        desk: Desk | None = None,
        rebuild_after_crash: bool = False,
    ) -> None:
        self.engine = engine
        # Ingest warms a fresh consumer from the lake when it finds a killed run's work
        # (pipeline/replay.rebuild_state); a long-lived one (the API's) keeps its own state.
        self.rebuild_after_crash = rebuild_after_crash
        self.desk = desk
        self.store = store
        self.clock = clock
        self.cooldown_s = cooldown_s
        self.stats = DetectionStats()
        self.cases = AccountCases()
        self._last: dict[tuple[str, str], _Last] = {}
        self._drafts: list[SignalDraft] = []
        self._hits: dict[tuple[str, str], HitUpdate] = {}
        self._rules: dict[str, RuleInfo] = {}

    def on_events(self, events: Sequence[Event]) -> None:
        failures = failure_count()
        # A slice of the batch per call: with feature state in Redis, one round trip a slice.
        # Each verdict holds its row (hundreds of names); a batch's verdicts freed at once
        # held the GIL 20-50 ms for 10,000 events, a stall for the API's decisions; a slice's
        # are freed before the next slice is evaluated.
        for start in range(0, len(events), DETECT_SLICE):
            for verdict in self.engine.evaluate_many(events[start : start + DETECT_SLICE]):
                if not isinstance(verdict, Verdict):
                    raise verdict
                self.collect(verdict)
        self.stats.enrich_failures += failure_count() - failures
        self.flush()

    def warm(self, events: Sequence[Event]) -> None:
        """Evaluate events detected before (by a run that died), recording nothing: the
        feature windows, link flags, case bars and signal cooldowns end as they would after
        `on_events` of the same events, and no signal, hit or count is kept."""
        stats, self.stats = self.stats, DetectionStats()
        try:
            for verdict in self.engine.evaluate_many(events):
                if not isinstance(verdict, Verdict):
                    raise verdict
                self.collect(verdict)
        finally:
            self.stats = stats
            self._drafts, self._hits = [], {}
            for last in self._last.values():
                last.draft = None  # stands for a signal the dead run wrote

    @property
    def enrich_failures(self) -> int:
        return self.stats.enrich_failures

    def collect(self, verdict: Verdict) -> None:
        """Turn one verdict's matches into pending signals (or hits on recent ones)."""
        stats = self.stats
        stats.events += 1
        stats.decisions[verdict.decision] += 1
        if not verdict.matched:  # most events: nothing for the case bar either
            return
        event = verdict.event
        calls = self.cases.observe(verdict.matched, event.account_id, event.ts, verdict.row)
        for rule, call in zip(verdict.matched, calls, strict=True):
            stats.matches += 1
            stats.by_rule[rule.id] += 1
            key = (event.account_id or "", rule.id)
            last = self._last.get(key)
            if (
                (call is None or not call.opened)
                and last is not None
                and 0 <= (event.ts - last.event_ts).total_seconds() < self.cooldown_s
            ):
                if last.draft is not None:
                    last.draft.hits += 1
                    last.draft.last_hit_at = event.ts
                    if call is not None and last.draft.case_call is None:
                        last.draft.case_call = call  # keeps the call that opened the case
                else:
                    update = self._hits.get(key)
                    if update is None:
                        self._hits[key] = HitUpdate(last.rule_id, last.event_id, 1, event.ts)
                    else:
                        update.hits += 1
                        update.last_hit_at = max(update.last_hit_at, event.ts)
                continue
            info = self._rules.get(rule.id)
            if info is None:
                info = self._rules[rule.id] = rule_info(rule)
            draft = SignalDraft(
                rule=info,
                account_id=event.account_id,
                event_id=event.id,
                event_type=event.type,
                event_ts=event.ts,
                features=evidence(self.engine, rule, verdict.row),
                case_call=call,
            )
            self._drafts.append(draft)
            self._last[key] = _Last(rule.id, event.id, event.ts, draft)

    @property
    def pending(self) -> int:
        return len(self._drafts) + len(self._hits)

    def flush(self) -> RecordResult:
        """Write pending signals and hits in one transaction."""
        drafts, hits = self._drafts, list(self._hits.values())
        self._drafts, self._hits = [], {}
        result = do_record_signals(self.store, self.clock, drafts, hits, desk=self.desk)
        for draft in drafts:
            last = self._last.get((draft.account_id or "", draft.rule.id))
            if last is not None and last.draft is draft:
                last.draft = None
        self._count(result)
        if result.cases_opened:
            log.info(
                "cases.opened",
                extra=fields(cases=result.cases_opened[:50], count=len(result.cases_opened)),
            )
        return result

    def _count(self, result: RecordResult) -> None:
        self.stats.signals += result.signals
        self.stats.cases_opened += len(result.cases_opened)
        self.stats.opened_ids.extend(result.cases_opened)


def rule_info(spec: RuleSpec) -> RuleInfo:
    """What the case layer needs of a rule spec (cases never import detection)."""
    routing = spec.case
    return RuleInfo(
        id=spec.id,
        description=spec.description,
        policy=spec.policy,
        severity=spec.severity,
        verdict=spec.verdict,
        mode=spec.mode,
        case=None if routing is None else Routing(routing.queue, routing.priority),
        when=spec.when,
    )
