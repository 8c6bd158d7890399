"""JSON text in and out of the event path, with integers of any size kept exact.

orjson, the fast parser used everywhere else, reads an integer beyond 64 bits as a float
(123456789012345678901234567890 -> 1.2345678901234568e+29) and refuses to write one. An unknown
field is kept as it came (in `attrs`, then in the lake's JSON text), so both would change what a
sender sent. `loads` parses with orjson, and only when the text holds a run of 19 or more
digits (no 64-bit integer has more) parses it again with msgspec, which keeps big integers as
Python ints; `dumps` falls back to msgspec when orjson refuses a value. orjson stays the one
judge of what is valid JSON (its errors and messages), so callers catch orjson.JSONDecodeError
as before, and the common line pays one regex scan.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec
import orjson

_LONG_DIGITS_BYTES: Final = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_TEXT: Final = re.compile(r"[0-9]{19}")


def loads(data: bytes | str) -> Any:
    """Parse one JSON document; raise orjson.JSONDecodeError when it is not valid JSON."""
    value = orjson.loads(data)
    found = (
        _LONG_DIGITS_TEXT.search(data) if isinstance(data, str) else _LONG_DIGITS_BYTES.search(data)
    )
    if found is None:
        return value
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):  # orjson took it: keep orjson's reading
        return value


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """JSON text of `value`; integers beyond 64 bits are written as they are. The text of a
    value orjson can write is orjson's, byte for byte (content digests depend on it)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except orjson.JSONEncodeError as exc:
        try:
            return msgspec.json.encode(value, order="sorted" if sort_keys else None)
        except (TypeError, msgspec.EncodeError, RecursionError):
            raise exc from None
