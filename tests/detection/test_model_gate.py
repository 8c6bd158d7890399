"""The content models run only for the messages a rule reading them could match
(detection/model_gate.py): the gates derived from a pack, and the same verdicts as scoring every
message, in streaming and in the backtest."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from abusedesk.detection.backtest import run_backtest
from abusedesk.detection.engine import DetectionEngine, default_pack_path
from abusedesk.detection.model_gate import CAMPAIGN_COLUMNS, MODEL_COLUMNS, gate, model_gates
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import Event

MODELS = frozenset(MODEL_COLUMNS)
SCORE = frozenset({"spam_score"})


def test_a_precondition_is_the_conjuncts_that_read_no_model_column() -> None:
    when = "type = 'message' AND spam_score >= 0.9 AND (account_age_h < 720 AND sends_1h > 3)"
    assert gate([when], SCORE, MODELS) == (
        "(type = 'message') AND (account_age_h < 720) AND (sends_1h > 3)"
    )


def test_conjuncts_reading_any_model_column_are_left_out() -> None:
    when = "type = 'message' AND spam_score >= 0.5 AND campaign_accounts >= 3"
    assert gate([when], CAMPAIGN_COLUMNS, MODELS) == "(type = 'message')"
    assert gate([when], SCORE, MODELS) == "(type = 'message')"


def test_a_condition_that_is_not_a_conjunction_needs_every_message() -> None:
    assert gate(["spam_score > 0.5 OR type = 'message'"], SCORE, MODELS) == "TRUE"
    assert gate(["spam_score > 0.5"], SCORE, MODELS) == "TRUE"


def test_the_gate_is_the_or_of_the_readers_and_none_without_one() -> None:
    whens = [
        "type = 'message' AND spam_score > 0.5 AND account_age_h < 720",
        "type = 'delivery' AND error_code = '30007'",  # reads no model: not a reader
        "type = 'message' AND spam_score > 0.9 AND country = 'NG'",
        "type = 'message' AND account_age_h < 720 AND spam_score > 0.7",  # the same precondition
    ]
    assert gate(whens, SCORE, MODELS) == (
        "((type = 'message') AND (account_age_h < 720)) OR ((type = 'message') AND (country = 'NG'))"
    )
    assert gate(whens, CAMPAIGN_COLUMNS, MODELS) is None


def test_a_feature_reading_a_model_column_makes_the_pack_eager(tmp_path: Path) -> None:
    assert not model_gates(CompiledPack.load(default_pack_path())).eager
    assert model_gates(CompiledPack.load(_eager_playbook(tmp_path))).eager


def _eager_playbook(tmp_path: Path) -> Path:
    """The default playbook plus one feature that reads the score: every message is then
    scored and indexed before its features, as before the gates."""
    folder = tmp_path / "eager"
    shutil.copytree(default_pack_path(), folder)
    (folder / "zz_scored.yaml").write_text(
        "features:\n"
        '  zz_scored_24h: {count: message, where: "spam_score >= 0", by: [account_id], '
        "window: 24h}\n"
    )
    return folder


@pytest.fixture(scope="module")
def day(
    tmp_path_factory: pytest.TempPathFactory,
    simulated_day: Callable[[Path, int, float], list[Event]],
) -> list[Event]:
    return simulated_day(tmp_path_factory.mktemp("sim"), 3, 0.2)


def test_gated_scores_give_the_verdicts_of_scoring_every_message(
    day: list[Event], tmp_path: Path
) -> None:
    gated = DetectionEngine(CompiledPack.load(default_pack_path()))
    eager = DetectionEngine(CompiledPack.load(_eager_playbook(tmp_path)))
    campaign_rules = {"spam-campaign-across-accounts"}
    scored = skipped = content_matches = 0
    for event in day:
        a, b = gated.evaluate(event), eager.evaluate(event)
        assert a.decision == b.decision, event.id
        assert {r.id for r in a.matched} - campaign_rules == {
            r.id for r in b.matched
        } - campaign_rules, event.id
        if event.type == "message":
            score = a.row["spam_score"]
            if score is None:
                skipped += 1
            else:
                assert score == b.row["spam_score"]
                scored += 1
            content_matches += any(r.id == "content-model-spam" for r in a.matched)
    assert content_matches > 50, "the score rule should match young accounts' spam"
    assert scored > 500
    assert skipped > 2 * scored, "established accounts' messages are not scored"


def test_streaming_and_backtest_gate_the_same_messages(day: list[Event]) -> None:
    pack = CompiledPack.load(default_pack_path())
    engine = DetectionEngine(pack)
    content = ("content-model-spam", "spam-campaign-across-accounts")
    streamed: dict[str, list[str]] = {rule: [] for rule in content}
    for event in day:
        for rule in engine.evaluate(event).matched:
            if rule.id in streamed:
                streamed[rule.id].append(event.id)
    report = run_backtest(pack, day, keep_event_ids=True)
    backtested = {r.rule_id: r.event_ids for r in report.rules if r.rule_id in streamed}
    assert all(streamed.values()), streamed.keys()
    assert backtested == streamed


LURE = "USPS: your parcel {c} is held, pay the £1.99 fee within 24h: https://usps-fee.com/p/{c}"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _shared_template() -> list[Event]:
    """Two established accounts and three young ones send one lure, in that order."""
    ages = {"old1": 3000, "old2": 2000, "young1": 2, "young2": 3, "young3": 1}
    events = [
        Event(f"s-{a}", "account", T0 - timedelta(hours=h), a, {"action": "signup"})
        for a, h in ages.items()
    ]
    for i in range(25):
        account = list(ages)[i // 5]
        data = {
            "message_id": f"m{i}",
            "channel": "sms",
            "direction": "outbound",
            "from": f"+1555010{i:04d}",
            "to": f"+1555020{i:04d}",
            "body": LURE.format(c=f"RX{4000 + i}"),
        }
        events.append(Event(f"e{i:02d}", "message", T0 + timedelta(minutes=i), account, data))
    return sorted(events, key=lambda e: (e.ts, e.id))


def test_the_campaign_index_holds_the_messages_its_gate_lets_in() -> None:
    pack = CompiledPack.load(default_pack_path())
    engine = DetectionEngine(pack)
    events = _shared_template()
    counts: dict[str, set[int | None]] = {}
    matched: list[str] = []
    for event in events:
        verdict = engine.evaluate(event)
        if event.type != "message":
            continue
        counts.setdefault(str(event.account_id), set()).add(verdict.row["campaign_accounts"])
        if any(r.id == "spam-campaign-across-accounts" for r in verdict.matched):
            matched.append(event.id)
    # The established senders' messages are neither scored nor indexed; the young accounts
    # count each other only, so the third one makes the campaign.
    assert counts["old1"] == counts["old2"] == {None}
    assert [counts[f"young{i}"] for i in (1, 2, 3)] == [{1}, {2}, {3}]
    assert matched == [f"e{i:02d}" for i in range(20, 25)]
    report = run_backtest(pack, events, keep_event_ids=True)
    by_rule = {r.rule_id: r.event_ids for r in report.rules}
    assert by_rule["spam-campaign-across-accounts"] == matched


def test_rules_explain_prints_the_gates(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from abusedesk.cli.main import app

    runner = CliRunner()
    shown = runner.invoke(app, ["rules", "explain", str(default_pack_path()), "--type", "message"])
    assert shown.exit_code == 0, shown.output
    assert "# spam_score: when (type = 'message') AND (direction = 'outbound')" in shown.output
    eager = runner.invoke(app, ["rules", "explain", str(_eager_playbook(tmp_path))])
    assert "# every message, before its features" in eager.output


CONJUNCTS = [
    "lower(country) = 'ng'",
    "length(body) > 10",
    "coalesce(country, 'x') = 'x'",
    "nullif(country, 'US') IS NULL",
    "abs(local_hour - 3) < 2",
    "greatest(local_hour, 5) > 5",
    "starts_with(body, 'Hi')",
    "contains(body, 'usps')",
    "list_contains(url_domains, 'x.com')",
    "regexp_matches(body, '[0-9]{4}')",
    "hour(ts) < 6",
    "CAST(local_hour AS DOUBLE) > 1.5",
    "country NOT IN ('US', 'GB')",
    "body ILIKE '%USPS%'",
    "local_hour BETWEEN 1 AND 5",
    "NOT is_quiet_hours",
    "(local_hour + 1) * 2 / 3 % 2 >= 0.5",
    "country = 'NG' OR country = 'GH'",
]
ROWS = [
    {
        "country": "NG",
        "body": "Hi usps 1234",
        "local_hour": 3,
        "is_quiet_hours": True,
        "url_domains": ["x.com"],
        "ts": T0,
    },
    {
        "country": "US",
        "body": "short",
        "local_hour": 9,
        "is_quiet_hours": False,
        "url_domains": [],
        "ts": T0 + timedelta(hours=20),
    },
    {
        "country": None,
        "body": None,
        "local_hour": None,
        "is_quiet_hours": None,
        "url_domains": None,
        "ts": T0,
    },
]


@pytest.mark.parametrize("conjunct", CONJUNCTS)
def test_a_precondition_reads_as_the_conjunct_it_was_cut_from(conjunct: str) -> None:
    """The gate is SQL regenerated from the parsed `when`: it compiles in the pack's namespace
    and gives each row the value the conjunct gives it."""
    from abusedesk.detection.rules.compile import compile_expression
    from abusedesk.detection.rules.names import pack_namespace
    from abusedesk.detection.rules.transpile import to_duckdb_sql

    when = f"spam_score >= 0.5 AND ({conjunct})"
    text = gate([when], SCORE, MODELS)
    assert text is not None
    names = pack_namespace([])
    cut, original = compile_expression(text, names), compile_expression(conjunct, names)
    assert [cut.evaluate(r) for r in ROWS] == [original.evaluate(r) for r in ROWS]
    assert to_duckdb_sql(text)
