"""The detection engine: one event in, a verdict out, as data.

    row      = envelope + the event's fields + enrichment + link state
    features = FeatureEngine.observe(row)      (updates windowed state, then reads the features
                                                the rules for the event's type can use)
    models   = spam_score, campaign columns    (a message, when a rule reading them could
                                                match it: model_gate.py)
    matched  = CompiledPack.match(row + features + models)
    verdict  = the strictest verdict of the live rules that matched, a score, and the trace

Nothing here writes to a database or sends anything: streaming ingest, `abusedesk detect`, the
decision API and the tests all call `evaluate` and decide themselves what to do with the result.
Feature state and link state are the engine's only memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from abusedesk.content.campaigns import CampaignIndex, observe_message
from abusedesk.content.scorer import ContentScorer, shipped_scorer
from abusedesk.detection.campaign_flags import (
    FLAG_SEVERITIES,
    enforced_in,
    feature_reads_column,
    flagging_rules,
)
from abusedesk.detection.campaign_flags import NAME as CAMPAIGN_ENFORCED
from abusedesk.detection.feature_reads import feature_reads
from abusedesk.detection.features import FeatureEngine, FeatureStore, MemoryStore
from abusedesk.detection.links import OBSERVED_TYPES, LinkState
from abusedesk.detection.model_gate import MODEL_COLUMNS, model_gates

# How much each live match moves the event's score: 1 - prod(1 - w), as in the risk score.
from abusedesk.detection.risk import SEVERITY_WEIGHT
from abusedesk.detection.rules.compile import compile_expression
from abusedesk.detection.rules.names import Namespace, pack_namespace
from abusedesk.detection.rules.pack import CompiledPack, RuleFailed
from abusedesk.detection.spec import VERDICT_RANK, RuleSpec
from abusedesk.enrich import default_enricher, enrich
from abusedesk.errors import ConfigError
from abusedesk.events.schema import Event

Enricher = Callable[[Event], dict[str, Any]]
# The one row column that depends on earlier verdicts (a match flags an account).
LINK_COLUMN: Final = "linked_flagged_accounts"
# How a batch waits for a waiting evaluate() to take the lock: in naps of _YIELD_S, for at most
# _MAX_YIELD_S (then it queues for the lock like anyone else).
_YIELD_S: Final = 0.0001
_MAX_YIELD_S: Final = 0.05
_Stage = tuple[Callable[[dict[str, Any]], None], tuple[str, ...], Callable[..., list[RuleSpec]]]
# A message event's fields -> spam_score (content.scorer.ContentScorer).
Scorer = Callable[[Mapping[str, Any]], float | None]


@dataclass(slots=True)
class Verdict:
    """`features`: the values of the features read for this event's type, i.e. those the rules
    that can match it use (feature_reads.py), not every feature of the pack. They are in the
    row, under `feature_names`; the dict is made when asked for (most verdicts are allows
    that nobody reads)."""

    event: Event
    decision: str
    score: float
    matched: list[RuleSpec]
    row: dict[str, Any] = field(repr=False)
    feature_names: tuple[str, ...] = field(repr=False)

    @property
    def features(self) -> dict[str, Any]:
        row = self.row
        return {name: row[name] for name in self.feature_names}

    def to_api(self) -> dict[str, Any]:
        return {
            "event_id": self.event.id,
            "decision": self.decision,
            "score": round(self.score, 4),
            "matched": [
                {
                    "rule": r.id,
                    "policy": r.policy,
                    "severity": r.severity,
                    "verdict": r.verdict,
                    "mode": r.mode,
                }
                for r in self.matched
            ],
            "features": {
                k: _plain(v)
                for k, v in (self.features | self._model_values()).items()
                if v is not None
            },
        }

    def _model_values(self) -> dict[str, Any]:
        """The content model's values of the event when the pack read them (a client can
        then check them against a backtest: the same code computes both)."""
        row = self.row
        return {name: row[name] for name in MODEL_COLUMNS if name in row}


def _plain(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def default_pack_path() -> Path:
    return Path(str(resources.files("abusedesk.detection") / "playbook"))


class DetectionEngine:
    def __init__(
        self,
        pack: CompiledPack,
        store: FeatureStore | None = None,
        *,
        enricher: Enricher = enrich,
        links: LinkState | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self.pack = pack
        self.reads = feature_reads(pack)
        self.features = FeatureEngine(
            tuple(pack.features.values()),
            store or MemoryStore(),
            reads_by_type=self.reads.by_type,
            reads_other=self.reads.other,
        )
        self.enricher = enricher
        # The default enricher writes into the row itself (one dict fewer an event).
        self._enrich_into = default_enricher().enrich_into if enricher is enrich else None
        self.links = links or LinkState()
        # Content models: scored only when a rule or a feature reads the score (memoised per
        # distinct document: content.scorer; the shipped models unless one is given), and
        # only for the messages a rule reading it could match (model_gate.py).
        self.scorer = scorer if scorer is not None else shipped_scorer()
        read = pack.columns | self.features.full_row_columns
        self._scores = "spam_score" in read
        if self._scores and isinstance(self.scorer, ContentScorer):
            self.scorer.load()  # at start-up, not as a stall on the first message
        reads_enforced = CAMPAIGN_ENFORCED in read
        self.campaigns = CampaignIndex() if "campaign_accounts" in read or reads_enforced else None
        self.model_gates = gates = model_gates(pack)
        names = pack_namespace(spec.spec for spec in pack.features.values())
        self._score_gate = _gate_test(gates.score, names)
        self._campaign_gate = _gate_test(gates.campaign, names)
        # campaign_enforced_accounts: accounts flagged by the rules that may flag for it
        # (campaign_flags.py), kept only when the pack reads the name.
        self._campaign_flaggers = flagging_rules(pack) if reads_enforced else frozenset()
        self._reads_enforced = reads_enforced
        self._campaign_flagged: set[str] = set()
        # Whether a message's row needs _content_columns (one test an event instead of two):
        # before its features when a feature reads a model column, else after them, gated.
        models = self._scores or self.campaigns is not None
        self._models_first = models and gates.eager
        self._models_after = models and not gates.eager
        self.evidence_names = _evidence_names(pack)
        # Every row starts as a copy of this: None for each name a rule or a feature reads,
        # so the generated code reads row[name] instead of calling row.get (a third of the
        # cost, and most of what detection does is read the row), and the dict is sized
        # once instead of growing as enrichment and features fill it.
        self._template: dict[str, Any] = dict.fromkeys(
            sorted(self.features.full_row_columns | pack.columns | set(pack.features))
        )
        # Per event type: its feature writer, the names it writes, its rule matcher.
        self._stages: dict[str, _Stage] = {}
        # evaluate_many() reads a batch's features before it matches any event of it, which
        # is exact only when no feature reads the one column a match changes.
        # campaign_enforced_accounts depends on the matches of the events before it too.
        self._batchable = not _features_read(pack, LINK_COLUMN) and not reads_enforced
        # The API evaluates in its event loop and in ingest threads; state updates must not
        # interleave. Uncontended, the lock costs well under a microsecond. Contended, a lock
        # is not fair: a batch releasing and retaking it between events kept a decision (and
        # with it the API's event loop) waiting up to 1.7 s. So a caller of evaluate() that
        # finds the lock taken counts itself in `_waiters`, and a batch lets it in first.
        self._lock = threading.Lock()
        self._waiters = 0
        self._waiters_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        store: FeatureStore | None = None,
        scorer: Scorer | None = None,
    ) -> DetectionEngine:
        target = path or default_pack_path()
        if not target.exists():
            raise ConfigError(f"rule pack {target} does not exist (ABUSEDESK_RULES_PATH)")
        return cls(CompiledPack.load(target), store, scorer=scorer)

    @property
    def state_in_process(self) -> bool:
        """True when feature state lives in this process, so evaluation is pure CPU; False for
        a store that answers over the network (Redis), where each evaluate() waits on it."""
        return isinstance(self.features.store, MemoryStore)

    def row(self, event: Event) -> dict[str, Any]:
        """The event as the rules see it: envelope, fields, enrichment, link state; None for
        every other name the rules and features read."""
        row = self._fields(event)
        self._link(event, row)
        return row

    def _fields(self, event: Event) -> dict[str, Any]:
        row = self._template.copy()
        row["id"] = event.id
        row["type"] = event.type
        row["ts"] = event.ts
        row["account_id"] = event.account_id
        row.update(event.data)
        if self._enrich_into is not None:
            self._enrich_into(event, row)
        else:
            row.update(self.enricher(event))
        if self._models_first and event.type == "message":
            self._content_columns(event, row)
        return row

    def _content_columns(self, event: Event, row: dict[str, Any], gated: bool = False) -> None:
        """The content models' columns of a message (only when the pack reads one); `gated`:
        each only when its gate holds on the row (model_gate.py), else left NULL."""
        if self._scores and (not gated or self._score_gate(row)):
            row["spam_score"] = self.scorer(event.data)
        if self.campaigns is not None and (not gated or self._campaign_gate(row)):
            key = observe_message(
                self.campaigns, event.account_id, event.data, row.get("url_domains")
            )
            members = None if key is None else self.campaigns.accounts(key)
            row["campaign_accounts"] = None if members is None else len(members)
            if self._reads_enforced:
                row[CAMPAIGN_ENFORCED] = (
                    None
                    if members is None
                    else enforced_in(members, self._campaign_flagged, event.account_id)
                )

    def _link(self, event: Event, row: dict[str, Any]) -> None:
        links = self.links
        if event.type in OBSERVED_TYPES:
            links.observe(event)
        row[LINK_COLUMN] = links.linked_flagged(event.account_id)

    def evaluate(self, event: Event) -> Verdict:
        lock = self._lock
        if not lock.acquire(False):  # positional: a keyword costs more
            with self._waiters_lock:
                self._waiters += 1
            try:
                lock.acquire()
            finally:
                with self._waiters_lock:
                    self._waiters -= 1
        try:
            return self._evaluate(event)
        finally:
            lock.release()

    def _evaluate_after_waiters(self, event: Event) -> Verdict:
        """evaluate() for one event of a batch, after any single evaluate() waiting for the
        lock (a decision is answered before the next event of an ingest batch)."""
        if self._waiters:
            deadline = time.monotonic() + _MAX_YIELD_S
            while self._waiters and time.monotonic() < deadline:
                time.sleep(_YIELD_S)
        with self._lock:
            return self._evaluate(event)

    def evaluate_many(self, events: Sequence[Event]) -> list[Verdict | RuleFailed]:
        """evaluate() for each event in order, with the same verdicts and the same state after.

        With a network store the batch's feature state is read and written in one round trip
        (FeatureEngine.observe_many; the store may split a very large batch), then each event
        is linked and matched in order, so a match still flags its account for the events
        after it. In process the events simply go one by one (nothing to save).

        A rule that fails on an event's row gives that event its RuleFailed in place of a
        verdict, and the others their verdicts (the state holds the whole batch by then);
        callers that stop at an error raise it.
        """
        out: list[Verdict | RuleFailed] = []
        if self.state_in_process or not self._batchable or len(events) < 2:
            # The lock per event, as evaluate() takes it: a decision request waiting in the
            # API's event loop waits for one event of an ingest batch, not for the batch.
            for event in events:
                try:
                    out.append(self._evaluate_after_waiters(event))
                except RuleFailed as exc:
                    out.append(exc)
            return out
        with self._lock:
            rows = [self._fields(event) for event in events]
            values = self.features.observe_many(rows)
            for event, row, features in zip(events, rows, values, strict=True):
                _, names, match = self._stage(event.type)
                self._link(event, row)
                row.update(features)
                if self._models_after and event.type == "message":
                    self._content_columns(event, row, gated=True)
                try:
                    out.append(self._decide(event, row, names, match))
                except RuleFailed as exc:
                    out.append(exc)
            return out

    def _stage(self, event_type: str) -> _Stage:
        stage = self._stages.get(event_type)
        if stage is None:
            stage = (
                self.features.writer(event_type),
                self.features.read_names(event_type),
                self.pack.matcher(event_type),
            )
            self._stages[event_type] = stage
        return stage

    def _evaluate(self, event: Event) -> Verdict:
        # row() and _stage() written out: two calls fewer an event (about 1 % of its cost).
        row = self._fields(event)
        self._link(event, row)
        write, names, match = self._stages.get(event.type) or self._stage(event.type)
        write(row)
        if self._models_after and event.type == "message":
            self._content_columns(event, row, gated=True)
        return self._decide(event, row, names, match)

    def _decide(
        self,
        event: Event,
        row: dict[str, Any],
        names: tuple[str, ...],
        match: Callable[..., list[RuleSpec]],
    ) -> Verdict:
        try:
            matched = match(row)
        except (TypeError, AttributeError, ValueError, KeyError):
            matched = self.pack.match(row)  # raises RuleFailed, naming the rule
        if not matched:  # most events
            return Verdict(event, "allow", 0.0, matched, row, names)
        decision = "allow"
        remaining = 1.0
        flag = False
        for rule in matched:
            if rule.mode != "live":
                continue
            if VERDICT_RANK[rule.verdict] > VERDICT_RANK[decision]:
                decision = rule.verdict
            remaining *= 1.0 - SEVERITY_WEIGHT[rule.severity]
            flag = flag or rule.severity in FLAG_SEVERITIES
            if rule.id in self._campaign_flaggers and event.account_id is not None:
                self._campaign_flagged.add(event.account_id)
        if flag and event.account_id is not None:
            self.links.flag(event.account_id)
        return Verdict(event, decision, 1.0 - remaining, matched, row, names)


def _gate_test(text: str | None, names: Namespace) -> Callable[[Mapping[str, Any]], bool]:
    """A model gate's test over a full row (never TRUE when no rule reads the columns)."""
    if text is None:
        return lambda row: False
    test: Callable[[Mapping[str, Any]], bool] = compile_expression(text, names).test
    return test


def _features_read(pack: CompiledPack, column: str) -> bool:
    """Whether any feature reads `column` (as a key, a value or in a filter); True when a
    filter does not say which columns it reads."""
    return any(feature_reads_column(f, column) for f in pack.features.values())


def _evidence_names(pack: CompiledPack) -> dict[str, tuple[str, ...]]:
    """Per rule, the names its `when` reads, with the parts of any ratio it reads: the values an
    analyst needs to see why it fired (a rate of 0.12 means more next to 48 of 400). The feature
    engine reads all of them for every type the rule can match (feature_reads.py)."""
    features = pack.features
    out: dict[str, tuple[str, ...]] = {}
    for rule in pack.rules:
        names: list[str] = []
        for name in sorted(rule.condition.references):
            names.append(name)
            feature = features.get(name)
            if feature is not None and feature.spec.numerator and feature.spec.denominator:
                names += [feature.spec.numerator, feature.spec.denominator]
        out[rule.spec.id] = tuple(dict.fromkeys(names))
    return out


def evidence(engine: DetectionEngine, rule: RuleSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    """The values a signal keeps as evidence: what the rule read, as it was for this event."""
    out: dict[str, Any] = {}
    for name in engine.evidence_names.get(rule.id, ()):
        value = row.get(name)
        if isinstance(value, str | int | float | bool):
            out[name] = value
    return out
