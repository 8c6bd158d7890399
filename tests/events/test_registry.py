"""The registry batch: its per-sender shortcut for messages gives exactly the links that adding
each event's entities one by one gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from abusedesk.events.registry import RegistryBatch, entities_of
from abusedesk.events.schema import validate_event
from abusedesk.sim.generator import generate
from abusedesk.storage.bulk import clean_text


def one_by_one(events: list[Any]) -> dict[tuple[str, str, str], list[Any]]:
    links: dict[tuple[str, str, str], list[Any]] = {}
    for event in events:
        if event.account_id is None:
            continue
        for kind, value in entities_of(event):
            if len(value) > 512:
                continue
            key = (event.account_id, kind, clean_text(value) or "")
            agg = links.setdefault(key, [event.ts, event.ts, 0])
            agg[0], agg[1], agg[2] = min(agg[0], event.ts), max(agg[1], event.ts), agg[2] + 1
    return links


def test_batched_links_equal_the_event_by_event_links(tmp_path: Path) -> None:
    generate(tmp_path, days=1, scale=0.05, seed=11)
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    events = [validate_event(orjson.loads(line)) for line in lines]
    # Out of order too: first and last seen must not depend on arrival order.
    events = events[1::2] + events[::2]
    extra = {"id": "x1", "type": "message", "ts": "2026-03-01T00:00:00Z", "account_id": "AC9",
             "message_id": "m", "channel": "email", "to": "a@b.example",
             "from": "News <Ops@Shop.Example>", "body": "see https://www.shop.example/x and www.b.example",
             "sender_ip": "a\x00b"}  # fmt: skip
    events.append(validate_event(extra))
    batch = RegistryBatch()
    batch.add_all(events[:-1])
    batch.add(events[-1])
    assert batch.senders  # the shortcut was taken
    expected = one_by_one(events)
    batch.expand_senders()
    assert batch.links == expected
    assert ("AC9", "ip", "a\ufffdb") in batch.links
    assert ("AC9", "domain", "shop.example") in batch.links
    assert not batch.senders
