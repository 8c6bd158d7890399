"""The canonical event contract (docs/events.md): what is accepted and what is refused, and why."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from abusedesk.events.schema import EventInvalid, validate_event

EVENTS_MD = Path(__file__).parents[2] / "docs" / "events.md"


def contract_examples() -> list[dict[str, object]]:
    text = EVENTS_MD.read_text()
    block = re.search(r"## Example\n```json\n(.*?)```", text, re.S)
    assert block, "docs/events.md lost its example block"
    return [orjson.loads(line) for line in block.group(1).splitlines() if line.strip()]


def test_every_example_of_the_contract_is_accepted() -> None:
    examples = contract_examples()
    assert len(examples) >= 5
    for example in examples:
        event = validate_event(example)
        assert event.id == example["id"]


def test_timestamps_become_aware_utc() -> None:
    event = validate_event(
        {
            "id": "a",
            "type": "opt_out",
            "ts": "2026-03-01T14:00:00+02:00",
            "account_id": "AC1",
            "recipient": "+15550001111",
        }
    )
    assert event.ts == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_unknown_fields_are_kept_not_refused() -> None:
    event = validate_event(
        {
            "id": "a",
            "type": "opt_out",
            "ts": "2026-03-01T12:00:00Z",
            "account_id": "AC1",
            "recipient": "+15550001111",
            "carrier": "Vodafone",
            "mcc": 262,
        }
    )
    assert event.attrs == {"carrier": "Vodafone", "mcc": 262}


def test_a_report_needs_no_account_but_other_types_do() -> None:
    validate_event(
        {
            "id": "r",
            "type": "report",
            "ts": "2026-03-01T12:00:00Z",
            "reporter": "user",
            "category": "spam",
            "report_id": "R1",
        }
    )
    with pytest.raises(EventInvalid, match="missing required field 'account_id'"):
        validate_event(
            {
                "id": "o",
                "type": "opt_out",
                "ts": "2026-03-01T12:00:00Z",
                "recipient": "+15550001111",
            }
        )


def test_a_report_without_report_id_uses_its_event_id() -> None:
    event = validate_event(
        {
            "id": "r9",
            "type": "report",
            "ts": "2026-03-01T12:00:00Z",
            "reporter": "carrier",
            "category": "phishing",
        }
    )
    assert event.data["report_id"] == "r9"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "missing required field 'id'"),
        ({"id": 7}, "field 'id' must be a non-empty string, got integer"),
        ({"type": "sms"}, "unknown type 'sms'"),
        ({"ts": "2026-03-01 12:00:00"}, "no UTC offset"),
        ({"ts": "2026-03-01"}, "no UTC offset"),
        ({"ts": 1772366400}, "must be an RFC 3339 string, got integer"),
        ({"ts": "tomorrow"}, "not an RFC 3339 timestamp"),
        ({"channel": "pigeon"}, "field 'channel' is 'pigeon'; expected one of"),
        ({"segments": "2"}, "field 'segments' must be an integer, got string"),
        ({"segments": True}, "field 'segments' must be an integer, got boolean"),
        # The lake stores 64-bit integers: a larger one would fail its whole batch.
        ({"segments": 2**63}, "field 'segments' is out of range (a 64-bit signed integer)"),
        ({"segments": 1e19}, "field 'segments' is out of range (a 64-bit signed integer)"),
        ({"price": "0.01"}, "field 'price' must be a number, got string"),
        ({"headers": ["a"]}, "field 'headers' must be an object, got array"),
        ({"to": None}, "missing required field 'to' for type message"),
        ({"body": 5}, "field 'body' must be a string, got integer"),
    ],
)
def test_bad_events_are_refused_with_the_reason(change: dict[str, object], reason: str) -> None:
    base: dict[str, object] = {
        "id": "m1",
        "type": "message",
        "ts": "2026-03-01T12:00:00Z",
        "account_id": "AC1",
        "message_id": "SM1",
        "channel": "sms",
        "from": "+15005550006",
        "to": "+37122345678",
    }
    for key, value in change.items():
        if value is None:
            base.pop(key)
        else:
            base[key] = value
    with pytest.raises(EventInvalid, match=re.escape(reason)):
        validate_event(base)


def test_to_json_dict_round_trips() -> None:
    raw = {
        "id": "v",
        "type": "verification",
        "ts": "2026-03-01T12:00:00Z",
        "account_id": "AC1",
        "verification_id": "VE1",
        "stage": "check",
        "to": "+37122345678",
        "success": True,
        "extra": [1, 2],
    }
    assert validate_event(validate_event(raw).to_json_dict()) == validate_event(raw)
