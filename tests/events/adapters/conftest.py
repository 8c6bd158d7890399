"""Shared fixtures for the format adapter tests: parsing helpers, the sample files of every
adapter (for the sniff matrix), a battery of hostile inputs and a type-swapping mutator."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from abusedesk.events.adapters.base import Item, Limits, Record, Rejected
from abusedesk.events.adapters.jsondoc import INTERNAL_ERROR
from abusedesk.events.schema import validate_event

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SES_FIXTURES = HERE.parent / "fixtures" / "ses"

# Whole sample inputs of each adapter (the SES fragments are objects, not inputs).
SAMPLES: dict[str, list[Path]] = {
    "ses": sorted(p for p in SES_FIXTURES.glob("*.*json") if "fragment" not in p.name),
    "sendgrid": sorted((FIXTURES / "sendgrid").iterdir()),
    "mailgun": sorted((FIXTURES / "mailgun").iterdir()),
    "twilio-csv": sorted((FIXTURES / "twilio").iterdir()),
}


@dataclass
class Parsed:
    items: list[Item]

    @property
    def records(self) -> list[Record]:
        return [item for item in self.items if isinstance(item, Record)]

    @property
    def rejected(self) -> list[Rejected]:
        return [item for item in self.items if isinstance(item, Rejected)]

    @property
    def events(self) -> list[dict[str, Any]]:
        """Each record as the pipeline takes it in when nothing better is found for an event
        without an account: its fallback (the adapter's fallback account, or unattributed)."""
        return [
            record.raw if "account_id" in record.raw or record.fallback is None else record.fallback
            for record in self.records
        ]

    @property
    def ids(self) -> list[str]:
        return [event["id"] for event in self.events]


def parse_bytes(adapter: Any, data: bytes, limits: Limits | None = None) -> Parsed:
    """Parse, and check the contract on the way: every record is a valid canonical event."""
    parsed = Parsed(list(adapter.parse(io.BytesIO(data), "input", limits or Limits())))
    for record in parsed.records:
        # An event that names no account carries its fallback (the same event, unattributed,
        # or a report for ARF): valid once the pipeline fills in an account, and as it is.
        if record.fallback is not None and "account_id" not in record.raw:
            validate_event(record.raw | {"account_id": "probe"})
            validate_event(record.fallback)
        else:
            validate_event(record.raw)
    for rejected in parsed.rejected:
        assert rejected.reason
        assert "\n" not in rejected.reason
        assert INTERNAL_ERROR not in rejected.reason, rejected.reason  # a bug, not bad input
    return parsed


@pytest.fixture(name="parse")
def parse_fixture() -> Callable[..., Parsed]:
    return parse_bytes


@pytest.fixture(name="samples")
def samples_fixture() -> dict[str, list[Path]]:
    return SAMPLES


@pytest.fixture(name="ses_fixtures")
def ses_fixtures_fixture() -> Path:
    return SES_FIXTURES


@pytest.fixture(name="fixtures")
def fixtures_fixture() -> Path:
    return FIXTURES


# --- hostile inputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One kind of hostile input, built around `good`: one NDJSON line that gives events."""

    name: str

    def check(self, factory: Callable[[], Any], good: bytes) -> None:
        getattr(self, "_" + self.name.replace("-", "_"))(factory, good)

    @staticmethod
    def _baseline(factory: Callable[[], Any], good: bytes) -> int:
        count = len(parse_bytes(factory(), good).records)
        assert count > 0, "the good line must give events"
        return count

    def _sandwich(self, factory: Callable[[], Any], good: bytes, bad: bytes, **limits: int) -> None:
        """good, bad, good: the bad line is rejected with its number, both good ones go in."""
        per_line = self._baseline(factory, good)
        data = good + b"\n" + bad + b"\n" + good + b"\n"
        parsed = parse_bytes(factory(), data, Limits(**limits))
        assert len(parsed.records) == 2 * per_line
        assert [r.where.line for r in parsed.rejected] == [2]
        assert [r.where.line for r in parsed.records] == [1] * per_line + [3] * per_line

    def _truncated_line(self, factory: Callable[[], Any], good: bytes) -> None:
        self._sandwich(factory, good, good[: len(good) // 2])

    def _truncated_document(self, factory: Callable[[], Any], good: bytes) -> None:
        pretty = orjson.dumps(orjson.loads(good), option=orjson.OPT_INDENT_2)
        parsed = parse_bytes(factory(), pretty[: len(pretty) - 20])
        assert not parsed.records
        assert len(parsed.rejected) == 1
        assert "not valid JSON" in parsed.rejected[0].reason

    def _bad_first_line(self, factory: Callable[[], Any], good: bytes) -> None:
        per_line = self._baseline(factory, good)
        parsed = parse_bytes(factory(), good[:-5] + b"\n" + good + b"\n" + good)
        assert [r.where.line for r in parsed.rejected] == [1]
        assert len(parsed.records) == 2 * per_line

    def _invalid_utf8(self, factory: Callable[[], Any], good: bytes) -> None:
        assert b"@" in good
        self._sandwich(factory, good, good.replace(b"@", b"\xff\xfe@", 1))

    def _deep_nesting(self, factory: Callable[[], Any], good: bytes) -> None:
        deep = b"[" * 100_000 + b"]" * 100_000
        self._sandwich(factory, good, deep)
        alone = parse_bytes(factory(), deep)
        assert not alone.records
        assert len(alone.rejected) == 1
        nested_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
        assert len(parse_bytes(factory(), nested_object).rejected) == 1

    def _long_line(self, factory: Callable[[], Any], good: bytes) -> None:
        long = b'{"x":"' + b"a" * (len(good) + 100) + b'"}'
        self._sandwich(factory, good, long, max_line_bytes=len(good) + 10)

    def _huge_document(self, factory: Callable[[], Any], good: bytes) -> None:
        pretty = orjson.dumps([orjson.loads(good)] * 50, option=orjson.OPT_INDENT_2)
        limit = len(pretty) // 3
        stream = io.BytesIO(pretty)
        items = list(factory().parse(stream, "input", Limits(max_message_bytes=limit)))
        assert len(items) == 1
        assert isinstance(items[0], Rejected)
        assert f"larger than {limit} bytes" in items[0].reason
        assert stream.tell() <= limit + 1, "read past the bound"

    def _empty(self, factory: Callable[[], Any], good: bytes) -> None:
        for data in (b"", b"\n\n  \n", b"\xef\xbb\xbf"):
            assert parse_bytes(factory(), data).items == []

    def _not_objects(self, factory: Callable[[], Any], good: bytes) -> None:
        per_line = self._baseline(factory, good)
        data = b"\n".join([good, b"42", b'"text"', b"null", b"[1, true]", good])
        parsed = parse_bytes(factory(), data)
        assert len(parsed.records) == 2 * per_line
        assert [r.where.line for r in parsed.rejected] == [2, 3, 4, 5, 5]


HOSTILE = [
    "truncated-line",
    "truncated-document",
    "bad-first-line",
    "invalid-utf8",
    "deep-nesting",
    "long-line",
    "huge-document",
    "empty",
    "not-objects",
]


@pytest.fixture(name="hostile", params=HOSTILE)
def hostile_fixture(request: pytest.FixtureRequest) -> Hostile:
    return Hostile(request.param)


# --- type swapping -----------------------------------------------------------------------------

# Values of every JSON type, plus strings that look like timestamps but are not.
_SWAPS: list[Any] = [None, 0, -1, 1.5, 10**30, True, "", "x", "2026-13-45T99:99:99Z", [], [1], {}]
_SWAPS.append({"a": {"b": [None]}})


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        items: Iterator[tuple[Any, Any]] = iter(value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def mutations(value: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, copy of value with the node at path replaced) for every node and every swap."""
    for path in _paths(value):
        for swap in _SWAPS:
            mutated = copy.deepcopy(value)
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = swap
            yield path, mutated


@pytest.fixture(name="mutations")
def mutations_fixture() -> Callable[[Any], Iterator[tuple[tuple[Any, ...], Any]]]:
    return mutations
