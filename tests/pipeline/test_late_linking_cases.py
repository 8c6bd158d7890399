"""A complaint that reaches the desk before its message, without any account header, is linked
when the message arrives and lands on the account's case: the open one, or one it opens. Runs
on SQLite and PostgreSQL (marked `db` by the store it uses)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from abusedesk.cases.lifecycle import do_open_case
from abusedesk.cli.detect import link_late_complaints
from abusedesk.events.schema import validate_event
from abusedesk.lake.writer import LakeWriter
from abusedesk.pipeline.replay import replay
from abusedesk.sim.fbl import EarlyComplaint, write_mbox
from abusedesk.sim.timeutil import to_epoch
from abusedesk.storage.models import Case, PendingComplaint, Report, Signal
from abusedesk.workspace import Workspace

ACCOUNT = "ACfbl"
T0 = to_epoch(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
SENDS = 100
COMPLAINTS = 6  # 6 of 100 delivered mails: over the SES pause level (0.5 %, at least 5)


def message_id(i: int) -> str:
    return f"0100018e{i:08x}-5b7c-4d0e-9c1a-{i:012x}-000000"


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    """The feedback loop's ARF reports (no account header) and the later message log."""
    complaints = [
        EarlyComplaint(
            ts=T0 + 2 * 3600 + 60 * i,
            sent=T0 + 10 * i,
            message_id=message_id(i),
            sender="news@shop-fbl.example",
            recipient=f"person{i}@yahoo.com",
            subject="Last chance: 70 % off",
            source_ip="198.51.100.7",
            redacted=i % 2 == 0,
        )
        for i in range(COMPLAINTS)
    ]
    mbox = tmp_path / "complaints.mbox"
    with mbox.open("wb") as fh:
        assert write_mbox(fh, complaints) == COMPLAINTS
    lines = []
    for i in range(SENDS):
        lines.append(
            orjson.dumps(
                {
                    "id": f"msg-{i}",
                    "type": "message",
                    "ts": datetime.fromtimestamp(T0 + 10 * i, UTC).isoformat(),
                    "account_id": ACCOUNT,
                    "message_id": message_id(i),
                    "channel": "email",
                    "direction": "outbound",
                    "from": "news@shop-fbl.example",
                    "to": f"person{i}@yahoo.com",
                    "subject": "Last chance: 70 % off",
                }
            )
        )
    log = tmp_path / "messages.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    return mbox, log


def account_cases(ws: Workspace) -> list[tuple[int, str, int]]:
    with ws.store.engine.connect() as conn:
        rows = conn.execute(
            select(Case.id, Case.policy, Case.signal_count).where(Case.account_id == ACCOUNT)
        ).all()
    return [(r.id, r.policy, r.signal_count) for r in rows]


@pytest.mark.parametrize("case_already_open", [False, True], ids=["opens", "open-case"])
def test_early_complaints_link_and_land_on_the_accounts_case(
    workspace: Workspace, tmp_path: Path, case_already_open: bool
) -> None:
    mbox, log = write_inputs(tmp_path)
    before: int | None = None
    if case_already_open:
        before, _ = do_open_case(
            workspace.store,
            workspace.clock,
            workspace.desk,
            account_id=ACCOUNT,
            policy="email-complaint-rate",
            actor="lead",
            reason="customer warned by the mailbox provider",
        )
    consumer = workspace.detection_consumer()

    first = workspace.ingestor(consumers=[consumer]).ingest_paths([mbox])
    # Nobody can tell whose mail it was: each complaint is kept as a report, waiting.
    assert first.by_type == {"report": COMPLAINTS}
    assert first.quarantined == 0
    with workspace.store.engine.connect() as conn:
        waiting = conn.execute(select(PendingComplaint.account_id)).all()
    assert [w.account_id for w in waiting] == [None] * COMPLAINTS
    opened_before = account_cases(workspace)
    assert [c[2] for c in opened_before] == ([0] if case_already_open else [])

    later = workspace.ingestor(consumers=[consumer]).ingest_paths([log])
    assert later.by_type == {"message": SENDS, "complaint": COMPLAINTS}

    with workspace.store.engine.connect() as conn:
        linked = conn.execute(select(PendingComplaint.account_id)).all()
        reports = conn.execute(select(Report.account_id)).all()
        signals = conn.execute(
            select(Signal.rule_id, Signal.event_id, Signal.event_ts, Signal.case_id).where(
                Signal.account_id == ACCOUNT
            )
        ).all()
    assert [row.account_id for row in linked] == [ACCOUNT] * COMPLAINTS
    assert [row.account_id for row in reports] == [ACCOUNT] * COMPLAINTS

    cases = account_cases(workspace)
    complaint_cases = [c for c in cases if c[1] == "email-complaint-rate"]
    assert len(complaint_cases) == 1, cases
    case_id = complaint_cases[0][0]
    if before is not None:
        assert case_id == before  # the account's open case, not a second one
    rate_signals = [s for s in signals if s.rule_id.startswith("email-complaint-rate")]
    assert rate_signals, signals
    for signal in rate_signals:
        assert signal.event_id.endswith(":linked")
        assert signal.case_id == case_id
        # Counted at the complaint's own time (2 h after the mails), not at linking.
        ts = signal.event_ts if signal.event_ts.tzinfo else signal.event_ts.replace(tzinfo=UTC)
        assert to_epoch(ts) >= T0 + 2 * 3600


def test_detect_links_early_complaints_and_lands_them_on_a_case(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The message log reached the lake without ingest linking it (another path, or written
    before the complaints were kept): `abusedesk detect` links them, then replays the lake in
    time order, and the complaints open the account's case."""
    mbox, log = write_inputs(tmp_path)
    assert workspace.ingestor().ingest_paths([mbox]).by_type == {"report": COMPLAINTS}
    writer = LakeWriter(workspace.lake_dir)
    writer.add([validate_event(orjson.loads(line)) for line in log.read_bytes().splitlines()])
    writer.flush()

    assert link_late_complaints(workspace) == COMPLAINTS
    consumer = workspace.detection_consumer()
    with workspace.lake_reader() as reader:
        replay(consumer, reader)

    ((case_id, _policy, signal_count),) = [
        c for c in account_cases(workspace) if c[1] == "email-complaint-rate"
    ]
    assert signal_count >= 1
    with workspace.store.engine.connect() as conn:
        signals = conn.execute(
            select(Signal.event_id, Signal.case_id).where(
                Signal.account_id == ACCOUNT, Signal.rule_id.startswith("email-complaint-rate")
            )
        ).all()
    assert signals
    assert all(s.event_id.endswith(":linked") for s in signals)
    assert all(s.case_id == case_id for s in signals)
