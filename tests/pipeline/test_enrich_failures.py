"""An event enrichment fails on is logged (its id, not its content) and counted in the ingest
run's summary, its audit record and the CLI's summary line, instead of only in a counter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from abusedesk.cli.ingest import print_summary
from abusedesk.cli.output import out
from abusedesk.enrich import default_enricher
from abusedesk.logs import configure
from abusedesk.storage.models import AuditEntry
from abusedesk.workspace import Workspace

BODY = "your secret code is 4711"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure() changes the process's "abusedesk" logger; put it back for other tests."""
    logger = logging.getLogger("abusedesk")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def messages(n: int, first: int = 0) -> bytes:
    return b"\n".join(
        orjson.dumps(
            {
                "id": f"m{i}",
                "type": "message",
                "ts": "2026-03-01T10:00:00Z",
                "account_id": "A",
                "message_id": f"SM{i}",
                "channel": "sms",
                "from": "+15550001111",
                "to": "+37122345678",
                "body": BODY,
            }
        )
        for i in range(first, first + n)
    )


@pytest.fixture
def broken_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the enrichment of messages (the shipped code has none to trigger)."""
    enricher = default_enricher()

    def broken(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(enricher, "_handlers", {**enricher._handlers, "message": broken})


@pytest.mark.usefixtures("broken_messages")
def test_failures_are_counted_in_the_run_and_logged(workspace: Workspace, tmp_path: Path) -> None:
    log = io.StringIO()
    configure("WARNING", log)
    path = tmp_path / "m.jsonl"
    path.write_bytes(messages(3))
    consumer = workspace.detection_consumer()
    summary = workspace.ingestor(consumers=[consumer]).ingest_paths([path])
    assert summary.accepted == 3
    assert summary.enrich_failures == 3
    assert summary.to_dict()["enrich_failures"] == 3
    assert consumer.stats.enrich_failures == 3
    with workspace.store.sessions() as session:
        audit = session.execute(
            select(AuditEntry).where(AuditEntry.object_id == str(summary.run_id))
        ).scalar_one()
    assert audit.after is not None
    assert audit.after["enrich_failures"] == 3
    lines = [orjson.loads(line) for line in log.getvalue().splitlines()]
    failed = [line for line in lines if line["event"] == "enrich.failed"]
    assert [line["event_id"] for line in failed] == ["m0", "m1", "m2"]
    assert {line["error"] for line in failed} == {"RuntimeError"}
    assert BODY not in log.getvalue()
    with out.capture() as captured:
        print_summary(summary)
    assert "3 event(s) could not be enriched" in captured.get()


def test_a_clean_run_counts_none(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(messages(2))
    consumer = workspace.detection_consumer()
    summary = workspace.ingestor(consumers=[consumer]).ingest_paths([path])
    assert summary.accepted == 2
    assert summary.enrich_failures == 0
    with out.capture() as captured:
        print_summary(summary)
    assert "enriched" not in captured.get()


@pytest.mark.usefixtures("broken_messages")
def test_a_consumer_shared_by_runs_gives_each_run_its_own_count(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The API's detection consumer lives as long as the server; each run counts its own."""
    consumer = workspace.detection_consumer()
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    first.write_bytes(messages(3))
    second.write_bytes(messages(2, first=3))
    runs = [workspace.ingestor(consumers=[consumer]).ingest_paths([p]) for p in (first, second)]
    assert [run.enrich_failures for run in runs] == [3, 2]
    assert consumer.stats.enrich_failures == 5


@pytest.mark.usefixtures("broken_messages")
def test_the_api_health_counts_failures_of_decisions(workspace: Workspace) -> None:
    """A decision evaluated without the fields enrichment could not compute still answers; the
    failure shows in /v1/health (and the log), not only in a counter nothing reads."""
    from fastapi.testclient import TestClient

    from abusedesk.api.app import create_app
    from abusedesk.auth.tokens import do_create_token

    value, _ = do_create_token(
        workspace.store, workspace.clock, name="send-path", role="ingest", actor="test"
    )
    with TestClient(create_app(workspace)) as client:
        before = client.get("/v1/health").json()["enrich_failures"]
        answer = client.post(
            "/v1/decisions",
            content=messages(1),
            headers={"Authorization": f"Bearer {value}"},
        )
        assert answer.status_code == 200, answer.text
        health = client.get("/v1/health").json()
    assert health["enrich_failures"] == before + 1
    assert health["signal_write_failures"] == 0
