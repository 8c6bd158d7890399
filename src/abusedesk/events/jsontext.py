"""JSON text in and out of the event path, with integers of any size kept exact.

orjson, the fast parser used everywhere else, reads an integer beyond 64 bits as a float
(123456789012345678901234567890 -> 1.2345678901234568e+29) and refuses to write one. An unknown
field is kept as it came (in `attrs`, then in the lake's JSON text), so both would change what a
sender sent. `loads` parses with orjson, and only when the result holds a float of magnitude
2**63 or more (what orjson makes of every integer outside [-2**63, 2**64)) parses it again with
msgspec, which keeps big integers as Python ints; `dumps` falls back to msgspec when orjson
refuses a value. orjson stays the one judge of what is valid JSON (its errors and messages), so
callers catch orjson.JSONDecodeError as before, and the common line pays one walk over its
values (about 1 µs for an event, where a regex scan of a 2 KB line for long digit runs took 70).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
import orjson

# orjson reads an integer below -2**63 or above 2**64 - 1 as a float at least this large.
_BEYOND_64_BITS: Final = float(2**63)


def loads(data: bytes | str) -> Any:
    """Parse one JSON document; raise orjson.JSONDecodeError when it is not valid JSON."""
    value = orjson.loads(data)
    if not _may_hold_big_integer(value):
        return value
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):  # orjson took it: keep orjson's reading
        return value


def _may_hold_big_integer(value: Any) -> bool:
    """Whether orjson's reading holds a float as large as an integer beyond 64 bits becomes.
    A written float that large (1e20) also answers yes; reparsing it changes nothing."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if abs(item) >= _BEYOND_64_BITS:
                return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


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
