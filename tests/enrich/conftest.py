"""Helpers for enrichment tests: events built the way ingest builds them (validate_event)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from abusedesk.enrich import Enricher, default_enricher
from abusedesk.events.schema import Event, validate_event
from abusedesk.sim.generator import generate


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    return default_enricher()


def event(type_: str, ts: str = "2026-03-01T12:00:00Z", **fields: Any) -> Event:
    raw: dict[str, Any] = {"id": "e1", "type": type_, "ts": ts, "account_id": "AC1", **fields}
    if "from_" in raw:
        raw["from"] = raw.pop("from_")
    return validate_event(raw)


def unvalidated(type_: str, **data: Any) -> Event:
    """An event built directly, without validate_event: for odd strings the validator would
    refuse or clean, that enrichment must still handle as its reference does."""
    return Event("e1", type_, datetime(2024, 5, 1, 12, tzinfo=UTC), "A1", data)


def sms(to: str, body: str = "hello", from_: str = "+15005550006", **fields: Any) -> Event:
    return event(
        "message", message_id="SM1", channel="sms", from_=from_, to=to, body=body, **fields
    )


@pytest.fixture(scope="session")
def sim_traffic(tmp_path_factory: pytest.TempPathFactory) -> list[Event]:
    """A day of the simulator's traffic (~50,000 events): the numbers, addresses, senders,
    hosts and websites fast paths are held to their references on."""
    folder = tmp_path_factory.mktemp("sim")
    generate(folder, days=1, scale=0.3, seed=11)
    with (folder / "events.jsonl").open("rb") as lines:
        return [validate_event(orjson.loads(line)) for line in lines]
