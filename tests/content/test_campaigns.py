"""Campaigns: one template from many accounts grouped, unrelated senders kept apart; the rules'
`campaign_accounts` and `spam_score` are the same in streaming and in backtests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from abusedesk.content.campaigns import (
    NUM_PERM,
    CampaignIndex,
    _Sketches,
    campaign_accounts,
    group_campaigns,
    shingles,
)
from abusedesk.content.normalize import normalize
from abusedesk.detection.backtest import run_backtest
from abusedesk.detection.engine import DetectionEngine
from abusedesk.detection.rules.pack import CompiledPack
from abusedesk.events.schema import Event

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def message(i: int, account: str, body: str, sender: str | None = None) -> dict[str, object]:
    return {
        "account_id": account,
        "ts": T0 + timedelta(minutes=i),
        "from": sender or "+1555" + str(int(hashlib.sha256(account.encode()).hexdigest(), 16))[:7],
        "body": body,
        "channel": "sms",
        "direction": "outbound",
    }


LURE = "USPS: Your package {c} is on hold due to an incomplete address. Update within 24h: https://usps-redeliver{d}.com/x"


def traffic() -> list[dict[str, object]]:
    out = []
    for i in range(40):
        account = f"ring{i % 4:02d}"  # a ring of four accounts, one lure, rotating domains
        out.append(message(i, account, LURE.format(c=f"Q{1000 + i}X", d=i % 7)))
    for i in range(40):  # a snowshoe: different words, one registered domain
        account = f"shoe{i % 5:02d}"
        text = ["Hi {n}, you're pre-approved for ${a}. Claim: https://{s}.approvedfunds.co/p",
                "{n}, bad credit OK! Up to ${a} today https://{s}.approvedfunds.co/q"][i % 2]  # fmt: skip
        out.append(
            message(100 + i, account, text.format(n=["Max", "Pat"][i % 2], a=100 + i, s=f"x{i}"))
        )
    for i, brand in enumerate(["Silvermarket", "Cedarbooks", "Peakhealth"]):  # legit senders
        for j in range(10):
            body = f"Your {brand} order {j}{j}{j} has shipped. Track it at https://{brand.lower()}.com/t/{j}"
            out.append(message(200 + 10 * i + j, f"legit{i:02d}", body))
    out.append(message(300, "legit00", "STOP"))
    return out


def test_rings_and_snowshoes_group_and_legitimate_senders_stay_apart() -> None:
    campaigns = group_campaigns(traffic())
    groups = sorted(sorted(c.accounts) for c in campaigns)
    assert groups == [
        ["ring00", "ring01", "ring02", "ring03"],
        ["shoe00", "shoe01", "shoe02", "shoe03", "shoe04"],
    ]
    ring = next(c for c in campaigns if "ring00" in c.accounts)
    assert ring.messages == 40
    assert ring.samples
    assert ring.first == T0
    assert len(ring.domains) == 7


def test_campaign_accounts_counts_accounts_seen_so_far() -> None:
    index = CampaignIndex()
    counts = [campaign_accounts(index, str(m["account_id"]), m) for m in traffic()[:8]]
    assert counts == [1, 2, 3, 4, 4, 4, 4, 4]
    assert campaign_accounts(index, "x", {"body": "hi", "direction": "inbound"}) is None


def test_a_message_seen_before_counts_the_campaign_it_merged_into_since() -> None:
    index = CampaignIndex()
    template = "Your parcel is waiting at the depot, book a slot today"
    other = "Reminder: your appointment with our clinic is tomorrow morning"
    seen = [
        ("a", template, "s1", ()),
        ("b", other, "s2", ("clinic.example",)),
        ("c", template, "s1", ()),  # as the first: nothing merged, one more account
        ("d", template, "s3", ("clinic.example",)),  # joins both campaigns
        ("e", template, "s1", ()),  # as the first again, after the merge
        ("f", other, "s2", ("clinic.example",)),
    ]
    counts = [
        campaign_accounts(index, account, {"body": body, "from": sender}, domains)
        for account, body, sender, domains in seen
    ]
    assert counts == [1, 1, 2, 4, 5, 6]


def test_sketches_join_what_datasketch_minhash_lsh_proposes_and_estimates() -> None:
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    texts = sorted({normalize(str(m["body"])) for m in traffic()} | set(NEAR))
    sketches = _Sketches(0.8)
    lsh = MinHashLSH(threshold=0.8, num_perm=NUM_PERM)
    kept: dict[str, LeanMinHash] = {}
    for i, text in enumerate(texts):
        minhash = MinHash(num_perm=NUM_PERM)
        minhash.update_batch(list(shingles(text)))
        lean = LeanMinHash(minhash)
        expected = {o for o in lsh.query(lean) if lean.jaccard(kept[o]) >= 0.8}
        assert set(sketches.add(str(i), shingles(text))) == expected
        lsh.insert(str(i), lean)
        kept[str(i)] = lean
    assert any(sketches.add(f"again{i}", shingles(t)) for i, t in enumerate(NEAR))


NEAR = [
    "hi maria your parcel is held at the depot pay the fee today to release it now",
    "hi tom your parcel is held at the depot pay the fee today to release it now",
    "hello sam your parcel is held at the depot pay the fee today to release it now",
]


PACK = """
features:
  spammy_24h: {count: message, where: "spam_score >= 0.5", by: [account_id], window: 24h}
  enforced_seen_24h: {count: message, where: "campaign_enforced_accounts >= 1", by: [account_id], window: 24h}
rules:
  - id: campaign-spam
    description: spam from a campaign of several accounts
    policy: spam
    severity: medium
    when: type = 'message' AND spam_score >= 0.5 AND campaign_accounts >= 3 AND spammy_24h >= 2
    verdict: hold
    case: none
  - id: known-bad
    description: two accounts already known; their live high matches flag them
    policy: spam
    severity: high
    when: type = 'message' AND account_id IN ('ring00', 'shoe01')
    verdict: hold
    case: none
  - id: campaign-of-the-flagged
    description: a campaign one of whose other accounts detection flagged
    policy: spam
    severity: critical
    when: type = 'message' AND campaign_enforced_accounts >= 1
    verdict: hold
    case: none
  - id: twice-in-a-flagged-campaign
    description: through a feature that reads the name
    policy: spam
    severity: low
    when: type = 'message' AND enforced_seen_24h >= 2
    verdict: review
    case: none
"""


def test_streaming_and_backtest_read_the_same_scores(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pack.yaml").write_text(PACK)
    pack = CompiledPack.load(tmp_path / "pack.yaml")
    events = []
    for i, m in enumerate(traffic()):
        data = {k: v for k, v in m.items() if k not in ("account_id", "ts")}
        data.update({"message_id": f"m{i}", "to": "+447700900123"})
        events.append(Event(f"e{i}", "message", m["ts"], str(m["account_id"]), data))  # type: ignore[arg-type]
    events.sort(key=lambda e: (e.ts, e.id))
    engine = DetectionEngine(pack)
    streamed: dict[str, list[str]] = {rule.spec.id: [] for rule in pack.rules}
    enforced: dict[str, set[int]] = {}
    for event in events:
        verdict = engine.evaluate(event)
        for rule in verdict.matched:
            streamed[rule.id].append(event.id)
        value = verdict.to_api()["features"]["campaign_enforced_accounts"]  # as the API answers
        enforced.setdefault(str(event.account_id), set()).add(value)
    rows = [engine.row(events[0])]
    assert rows[0]["spam_score"] is not None
    report = run_backtest(pack, events, keep_event_ids=True)
    assert streamed["campaign-spam"], "the ring's lures should match"
    assert streamed["campaign-of-the-flagged"]
    assert streamed["twice-in-a-flagged-campaign"]
    assert {r.rule_id: r.event_ids for r in report.rules} == streamed
    # Flagged by known-bad: ring00 and shoe01. Their own messages count the other flagged
    # accounts only, and campaign-of-the-flagged (critical, but it reads the name) flags nobody.
    assert enforced["ring00"] == {0}
    assert enforced["ring01"] == {1}  # ring00 flagged at its first message, before ring01's
    assert enforced["shoe01"] == {0}
    assert enforced["shoe00"] == {0, 1}  # its first message came before shoe01's
    assert enforced["legit00"] == {0}
    matched = {e.account_id for e in events if e.id in streamed["campaign-of-the-flagged"]}
    assert matched == {"ring01", "ring02", "ring03", "shoe00", "shoe02", "shoe03", "shoe04"}
