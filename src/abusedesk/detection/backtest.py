"""Backtests: a rule pack over the lake, with DuckDB, before it ships.

The rows are the ones streaming detection builds (envelope, event fields, enrichment), made by
the same Python code from the lake's events; the features are computed by one DuckDB query with
the streaming engine's window semantics (features.backtest_sql); each rule's `when` is the same
expression rendered for DuckDB (rules.to_duckdb_sql). A test holds streaming and backtest to
the same matches on the same events.

What a backtest cannot know: state outside the rule pack. `linked_flagged_accounts` depends on
which accounts were flagged while streaming, and is NULL here, so rules that read it match
nothing in a backtest (the report says so). Model scores (`spam_score`) are computed from each
message event's text by the same scorer as streaming (content.scorer), at backtest time rather
than stored at ingest, so a backtest can try a newly trained model on old traffic.
`campaign_enforced_accounts` depends on earlier matches, of the rules that may flag for it only
(detection.campaign_flags): those rules are matched first, the value is computed from their
first match per account in event order, and the rules are matched again with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

import duckdb
import pyarrow as pa

from abusedesk.content.campaigns import CampaignIndex, campaign_accounts, observe_message
from abusedesk.content.scorer import shipped_scorer
from abusedesk.detection.campaign_flags import NAME as CAMPAIGN_ENFORCED
from abusedesk.detection.campaign_flags import feature_reads_column, flagging_rules
from abusedesk.detection.case_bar import AccountCases, CaseCall
from abusedesk.detection.engine import Scorer
from abusedesk.detection.features.backtest_sql import feature_sql
from abusedesk.detection.model_gate import ModelGates, model_gates
from abusedesk.detection.rules.names import MODEL_SCORES
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.detection.rules.transpile import to_duckdb_sql
from abusedesk.enrich import enrich
from abusedesk.enrich.fields import ENRICHED_FIELDS
from abusedesk.events.schema import FIELD_KINDS, Event, Kind

ENGINE_STATE: Final = ("linked_flagged_accounts",)
# Engine names a backtest computes itself, from the events in order, as streaming does.
REPLAYED_STATE: Final = ("campaign_accounts", CAMPAIGN_ENFORCED)
_ARROW: Final[dict[str, pa.DataType]] = {
    "str": pa.string(),
    "int": pa.int64(),
    "num": pa.float64(),
    "bool": pa.bool_(),
    "obj": pa.string(),
    "strlist": pa.list_(pa.string()),
}


def row_schema() -> pa.Schema:
    columns: dict[str, pa.DataType] = {
        "id": pa.string(),
        "type": pa.string(),
        "ts": pa.timestamp("us", tz="UTC"),
        "account_id": pa.string(),
    }
    kinds: dict[str, Kind] = dict(FIELD_KINDS)
    kinds.update({name: kind for name, (kind, _doc) in ENRICHED_FIELDS.items()})
    for name, kind in kinds.items():
        columns.setdefault(name, _ARROW[kind])
    for name in MODEL_SCORES:
        columns[name] = pa.float64()
    for name in ENGINE_STATE + REPLAYED_STATE:
        columns[name] = pa.int64()
    return pa.schema(list(columns.items()))


@dataclass
class RuleResult:
    rule_id: str
    policy: str
    mode: str
    matches: int = 0
    accounts: int = 0
    by_day: dict[date, int] = field(default_factory=dict)
    matched_accounts: set[str] = field(default_factory=set)
    event_ids: list[str] = field(default_factory=list)
    precision: float | None = None
    decided: int = 0
    note: str | None = None
    cases_opened: int = 0  # cases whose bar this rule's match cleared (case_bar.py)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "policy": self.policy,
            "mode": self.mode,
            "matches": self.matches,
            "accounts": self.accounts,
            "by_day": {d.isoformat(): n for d, n in sorted(self.by_day.items())},
            "precision": None if self.precision is None else round(self.precision, 4),
            "decided": self.decided,
            "cases_opened": self.cases_opened,
            "note": self.note,
        }


@dataclass
class BacktestReport:
    events: int
    since: datetime | None
    until: datetime | None
    rules: list[RuleResult]
    precision_basis: str
    cases: list[CaseCall] = field(default_factory=list)  # the calls that opened a case

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "precision_basis": self.precision_basis,
            "rules": [r.to_json() for r in self.rules],
            "cases": [
                {
                    "account_id": c.account_id,
                    "policy": c.policy,
                    "queue": c.queue,
                    "priority": c.priority,
                    "opened_by": c.rule_id,
                    "bar": c.reason,
                    "risk": c.risk_json(),
                }
                for c in self.cases
            ],
        }


def build_rows(
    events: Iterable[Event],
    scorer: Scorer | None = None,
    campaigns: CampaignIndex | None = None,
) -> pa.Table:
    """The rows rules see, minus feature values and engine state, as an Arrow table; with a
    scorer, message events carry `spam_score`."""
    schema = row_schema()
    names = schema.names
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for event in events:
        row: dict[str, Any] = {
            "id": event.id,
            "type": event.type,
            "ts": event.ts,
            "account_id": event.account_id,
        }
        row.update(event.data)
        row.update(enrich(event))
        if scorer is not None and event.type == "message":
            row["spam_score"] = scorer(event.data)
        if campaigns is not None and event.type == "message":
            row["campaign_accounts"] = campaign_accounts(
                campaigns, event.account_id, event.data, row.get("url_domains")
            )
        headers = row.get("headers")
        if headers is not None and not isinstance(headers, str):
            import orjson

            row["headers"] = orjson.dumps(headers).decode()
        for name in names:
            columns[name].append(row.get(name))
    return pa.Table.from_pydict(columns, schema=schema)


def run_backtest(
    pack: CompiledPack,
    events: Iterable[Event],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    outcomes: Mapping[tuple[str, str], str] | None = None,
    labels: Mapping[str, str] | None = None,
    keep_event_ids: bool = False,
    scorer: Scorer | None = None,
) -> BacktestReport:
    """Evaluate every rule of `pack` over `events` (in (ts, id) order) in DuckDB.

    Precision per rule: with `labels` (account -> "legit" or a scenario), the share of matched
    accounts that are not legit; otherwise, with `outcomes` ((account, policy) -> "confirmed" or
    "false_positive" from closed cases), confirmed / decided among matched accounts.
    """
    reads_score = "spam_score" in pack.columns or any(
        "spam_score" in repr(f.spec)
        for f in pack.features.values()  # its filters' texts
    )
    reads_enforced = CAMPAIGN_ENFORCED in pack.columns or any(
        feature_reads_column(f, CAMPAIGN_ENFORCED) for f in pack.features.values()
    )
    reads_campaign = "campaign_accounts" in pack.columns or reads_enforced
    gates = model_gates(pack)
    # Gated (model_gate.py): every message is scored here and the scores of those the gate
    # leaves out are dropped once the features are known; campaigns are replayed then.
    campaigns = CampaignIndex() if reads_campaign and gates.eager else None
    table = build_rows(
        events, (scorer or shipped_scorer()) if reads_score else None, campaigns=campaigns
    )
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        features: str | None = None
        indexed: list[bool] | None = None
        if not gates.eager and (reads_score or reads_campaign):
            # No feature reads a model column: the features are computed once, before them.
            con.register("rows", table)
            specs = [f.spec for f in pack.features.values()]
            con.execute(f"CREATE TEMP TABLE f AS {feature_sql(specs, 'rows', to_duckdb_sql)}")
            features = "f"
            table, indexed = _gated_models(con, table, gates, reads_campaign)
        bar_fields = sorted(
            {
                name
                for rule in pack.rules
                if rule.spec.case
                for name, _ in rule.spec.case.bar.distinct
            }
        )
        _match(con, pack, table, bar_fields, features)
        if reads_enforced:
            table = _with_campaign_enforced(con, pack, table, indexed)
            _match(con, pack, table, bar_fields, features)
        results = []
        for i, rule in enumerate(pack.rules):
            spec = rule.spec
            result = RuleResult(spec.id, spec.policy, spec.mode)
            col = _col(i)
            for day, count in con.execute(
                f"SELECT CAST(ts AS DATE), count(*) FROM matched WHERE {col} GROUP BY 1 ORDER BY 1"
            ).fetchall():
                result.by_day[day] = int(count)
            result.matches = sum(result.by_day.values())
            result.matched_accounts = {
                str(a)
                for (a,) in con.execute(
                    f"SELECT DISTINCT account_id FROM matched WHERE {col} AND account_id IS NOT NULL"
                ).fetchall()
            }
            result.accounts = len(result.matched_accounts)
            if keep_event_ids:
                result.event_ids = [
                    str(e)
                    for (e,) in con.execute(
                        f"SELECT id FROM matched WHERE {col} ORDER BY ts, id"
                    ).fetchall()
                ]
            if any(name in spec.when for name in ENGINE_STATE):
                result.note = "reads engine state (linked_flagged_accounts), NULL in backtests"
            _precision(result, outcomes, labels)
            results.append(result)
        opened = _cases(con, pack, results, bar_fields)
    finally:
        con.close()
    basis = "labels" if labels is not None else "case outcomes"
    return BacktestReport(table.num_rows, since, until, results, basis, opened)


def _match(
    con: duckdb.DuckDBPyConnection,
    pack: CompiledPack,
    table: pa.Table,
    bar_fields: list[str],
    features_table: str | None = None,
) -> None:
    """(Re)make the `matched` table: per row, whether each rule matched. `features_table`:
    the features already computed (when none reads what changed in `table`)."""
    con.execute("DROP TABLE IF EXISTS matched")
    con.register("rows", table)
    specs = [f.spec for f in pack.features.values()]
    features = (
        f"SELECT * FROM {features_table}"
        if features_table
        else feature_sql(specs, "rows", to_duckdb_sql)
    )
    conditions = [
        f"coalesce(({to_duckdb_sql(rule.spec.when)}), false) AS {_col(i)}"
        for i, rule in enumerate(pack.rules)
    ]
    kept = "".join(f', "{name}"' for name in bar_fields)
    con.execute(
        "CREATE TEMP TABLE matched AS "
        f"WITH f AS ({features}), j AS (SELECT r.*, f.* EXCLUDE (id) FROM rows r "
        "JOIN f USING (id)) "
        f"SELECT id, account_id, ts{kept}, {', '.join(conditions) or 'true AS none'} FROM j"
    )


def _gated_models(
    con: duckdb.DuckDBPyConnection, table: pa.Table, gates: ModelGates, campaigns: bool
) -> tuple[pa.Table, list[bool]]:
    """The rows with the model columns as streaming computes them after features
    (model_gate.py): a score kept where the score gate holds, `campaign_accounts` replayed in
    event order over the messages the campaign gate lets into the index. Also returns, per
    row, whether it went into the index. Reads the rows and the features table `f`."""
    score_gate = to_duckdb_sql(gates.score or "FALSE")
    campaign_gate = to_duckdb_sql(gates.campaign or "FALSE")
    rows = table.num_rows
    position = {event_id: i for i, event_id in enumerate(table.column("id").to_pylist())}
    scored = [False] * rows
    indexed = [False] * rows
    for event_id, score, index in con.execute(
        "WITH j AS (SELECT r.*, f.* EXCLUDE (id) FROM rows r JOIN f USING (id)) "
        f"SELECT id, coalesce(({score_gate}), false), coalesce(({campaign_gate}), false) "
        "FROM j WHERE type = 'message'"
    ).fetchall():
        at = position[event_id]
        scored[at], indexed[at] = score, index
    scores = table.column("spam_score").to_pylist()
    kept = [s if ok else None for s, ok in zip(scores, scored, strict=True)]
    table = table.set_column(
        table.schema.get_field_index("spam_score"), "spam_score", pa.array(kept, pa.float64())
    )
    if campaigns:
        values: list[int | None] = [None] * rows
        index = CampaignIndex()
        for i, data, account, domains in _messages(table, indexed):
            values[i] = campaign_accounts(index, account, data, domains)
        table = table.set_column(
            table.schema.get_field_index("campaign_accounts"),
            "campaign_accounts",
            pa.array(values, pa.int64()),
        )
    return table, indexed


def _messages(
    table: pa.Table, chosen: list[bool] | None
) -> Iterator[tuple[int, dict[str, Any], str | None, list[str] | None]]:
    """(row, the fields campaigns read, account, url_domains) of each message event, in
    table order; only the `chosen` rows when given."""
    names = ("type", "account_id", "body", "subject", "from", "direction", "url_domains")
    columns = {name: table.column(name).to_pylist() for name in names}
    for i in range(table.num_rows):
        if columns["type"][i] != "message" or (chosen is not None and not chosen[i]):
            continue
        data = {name: columns[name][i] for name in ("body", "subject", "from", "direction")}
        yield i, data, columns["account_id"][i], columns["url_domains"][i]


def _with_campaign_enforced(
    con: duckdb.DuckDBPyConnection,
    pack: CompiledPack,
    table: pa.Table,
    indexed: list[bool] | None = None,
) -> pa.Table:
    """The rows with `campaign_enforced_accounts` as streaming computes it: the campaigns
    replayed in event order (over the `indexed` rows only, when gated), an account counted
    from the event after the first match of a rule that flags for it
    (campaign_flags.flagging_rules)."""
    rows = table.num_rows
    position = {event_id: i for i, event_id in enumerate(table.column("id").to_pylist())}
    flaggers = flagging_rules(pack)
    cols = [_col(i) for i, rule in enumerate(pack.rules) if rule.spec.id in flaggers]
    flagged_at: dict[str, int] = {}
    if cols:
        for event_id, account in con.execute(
            f"SELECT id, account_id FROM matched WHERE account_id IS NOT NULL "
            f"AND ({' OR '.join(cols)})"
        ).fetchall():
            at = position[event_id]
            if at < flagged_at.get(account, rows):
                flagged_at[account] = at
    index = CampaignIndex()
    values: list[int | None] = [None] * rows
    for i, data, account, domains in _messages(table, indexed):
        key = observe_message(index, account, data, domains)
        if key is None:
            continue
        values[i] = sum(
            1 for a in index.accounts(key) if a != account and flagged_at.get(a, rows) < i
        )
    where = table.schema.get_field_index(CAMPAIGN_ENFORCED)
    return table.set_column(where, CAMPAIGN_ENFORCED, pa.array(values, pa.int64()))


def _cases(
    con: duckdb.DuckDBPyConnection,
    pack: CompiledPack,
    results: list[RuleResult],
    bar_fields: list[str],
) -> list[CaseCall]:
    """The cases the pack would have opened: every match, in (ts, id) order, through the
    same `AccountCases` streaming detection uses."""
    if not pack.rules:
        return []
    cols = [_col(i) for i in range(len(pack.rules))]
    quoted = "".join(f', "{name}"' for name in bar_fields)
    cursor = con.execute(
        f"SELECT account_id, ts{quoted}, {', '.join(cols)} FROM matched "
        f"WHERE {' OR '.join(cols)} ORDER BY ts, id"
    )
    cases = AccountCases()
    opened: list[CaseCall] = []
    n_fields = len(bar_fields)
    while rows := cursor.fetchmany(10_000):
        for row in rows:
            account, ts = row[0], row[1]
            values = dict(zip(bar_fields, row[2 : 2 + n_fields], strict=True))
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=UTC)
            hits = [i for i, hit in enumerate(row[2 + n_fields :]) if hit]
            calls = cases.observe([pack.rules[i].spec for i in hits], account, ts, values)
            for i, call in zip(hits, calls, strict=True):
                if call is not None and call.opened:
                    opened.append(call)
                    results[i].cases_opened += 1
    return opened


def _col(index: int) -> str:
    return f"__rule_{index}"


def _precision(
    result: RuleResult,
    outcomes: Mapping[tuple[str, str], str] | None,
    labels: Mapping[str, str] | None,
) -> None:
    accounts = result.matched_accounts
    if labels is not None:
        known = [a for a in accounts if a in labels]
        result.decided = len(known)
        if known:
            result.precision = sum(labels[a] != "legit" for a in known) / len(known)
        return
    if not outcomes:
        return
    decided = [outcomes[(a, result.policy)] for a in accounts if (a, result.policy) in outcomes]
    result.decided = len(decided)
    if decided:
        result.precision = sum(o == "confirmed" for o in decided) / len(decided)
