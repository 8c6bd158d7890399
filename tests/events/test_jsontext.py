"""events/jsontext.loads: orjson's reading, except that integers beyond 64 bits stay exact."""

from __future__ import annotations

import msgspec
import orjson
import pytest

from abusedesk.events import jsontext

EDGES = [
    2**64 - 1,  # the largest integer orjson keeps
    2**64,  # the smallest it turns into a float
    -(2**63),
    -(2**63) - 1,
    123456789012345678901234567890,
    -(10**40),
]


@pytest.mark.parametrize("number", EDGES)
@pytest.mark.parametrize(
    "shape", ["{n}", "[1, {n}]", '{{"a": {{"b": [0.5, {{"c": {n}}}]}}}}', "[[[[[{n}]]]]]"]
)
def test_integers_of_any_size_are_read_exact_at_any_depth(number: int, shape: str) -> None:
    text = shape.format(n=number).encode()
    value = jsontext.loads(text)
    assert value == msgspec.json.decode(text)
    assert str(number) in repr(value)  # an int, not a float's rounding
    assert jsontext.loads(text.decode()) == value


@pytest.mark.parametrize(
    "text",
    [
        b'{"body": "call 12345678901234567890123 now", "n": 5}',  # digits in a string
        b"[1e20, -3e19, 0.1234567890123456789]",  # large written floats stay floats
        b'{"a": [1, 2.5, null, true, "x"]}',
    ],
)
def test_everything_else_is_orjsons_reading(text: bytes) -> None:
    value = jsontext.loads(text)
    assert value == orjson.loads(text)
    assert repr(value) == repr(orjson.loads(text))


def test_invalid_json_raises_orjsons_error() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        jsontext.loads(b'{"a": 1,}')
