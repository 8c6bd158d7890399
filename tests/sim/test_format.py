"""Every line is a canonical event, ids are unique, and the ground truth matches the events."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import orjson

from abusedesk.events.schema import validate_event

from .conftest import Run
from .signals import Measured


def test_every_line_passes_the_contract_and_ids_are_unique(small_run: Run) -> None:
    ids: set[str] = set()
    platform_ids: Counter[str] = Counter()
    last = None
    lines = 0
    with (small_run.out_dir / "events.jsonl").open("rb") as fh:
        for line in fh:
            event = validate_event(orjson.loads(line))
            lines += 1
            ids.add(event.id)
            for field in ("message_id", "verification_id", "call_id", "report_id"):
                # A delivery or check repeats its message's / flow's id; the first use is unique.
                if field in event.data and event.type in ("message", "call", "report"):
                    platform_ids[event.data[field]] += 1
                if field == "verification_id" and event.get("stage") == "start":
                    platform_ids[event.data[field]] += 1
            assert last is None or event.ts >= last, "events must be sorted by ts"
            last = event.ts
    assert lines == small_run.summary.events
    assert len(ids) == lines
    assert not [k for k, n in platform_ids.items() if n > 1]


def test_summary_counts_match_the_file(small_run: Run) -> None:
    counts: Counter[str] = Counter()
    with (small_run.out_dir / "events.jsonl").open("rb") as fh:
        for line in fh:
            counts[orjson.loads(line)["type"]] += 1
    assert dict(counts) == small_run.summary.events_by_type
    labels = orjson.loads((small_run.out_dir / "labels.json").read_bytes())
    assert sum(small_run.summary.accounts_by_label.values()) == len(labels)
    assert {p.name for p in small_run.summary.files} == {
        "events.jsonl",
        "complaints.mbox",
        "labels.json",
        "truth.json",
    }


def test_account_ids_are_twilio_shaped(measured: Measured) -> None:
    for account in measured.labels:
        assert account.startswith("AC")
        assert len(account) == 34
        int(account[2:], 16)


def test_labels_and_truth_cover_every_account(measured: Measured) -> None:
    assert set(measured.labels) == set(measured.truth)
    assert set(measured.accounts) == set(measured.labels)  # every event's account is labelled
    for account, record in measured.truth.items():
        assert record["label"] == measured.labels[account]
        assert set(record) == {"label", "kind", "abuse_start", "notes"}
        assert record["notes"]


def test_abuse_start_is_the_first_abusive_event(measured: Measured, default_run: Run) -> None:
    window = (default_run.summary.start, default_run.summary.end)
    for account, record in measured.truth.items():
        if record["label"] == "legit":
            assert record["abuse_start"] is None, account
            continue
        start = datetime.fromisoformat(record["abuse_start"]).astimezone(UTC)
        assert window[0] <= start < window[1], account
        assert start in measured.event_times[account], f"{account}: no event at abuse_start"
        stats = measured.accounts[account]
        assert stats.signup_at is not None
        assert stats.signup_at < start


def test_every_account_has_ordinary_events(measured: Measured) -> None:
    """Abuse must not be separable by which event types an account has."""
    for account, stats in measured.accounts.items():
        assert stats.signup_at is not None, account
        assert stats.payments, account
        assert stats.types["account"] >= 3, account
        if stats.label != "legit":
            sends = stats.sms_out + stats.email_out + stats.calls
            assert sends > 0, account
            assert stats.sms_delivered + stats.email_delivered + stats.calls > 0, account


def test_long_standing_accounts_signed_up_long_before(measured: Measured, default_run: Run) -> None:
    start = default_run.summary.start
    old = [s for s in measured.accounts.values() if s.label == "legit" and s.signup_at < start]
    assert len(old) >= 0.8 * len(measured.by_label("legit"))
    for stats in old:
        assert stats.signup_at is not None
        assert 200 <= (start - stats.signup_at).days <= 901


def test_memory_is_one_slice_not_the_run(default_run: Run) -> None:
    """The engine never holds more than a small share of the run (the flash-sale hour is the
    largest slice)."""
    assert default_run.max_pending < 0.08 * default_run.summary.events
