"""Key and member encoding for stores that need strings (Redis).

In memory a key is the `by` value itself (or a tuple of them) and Python equality decides what
is the same key. A string encoding must draw the same lines: "1" and 1 differ, 1, 1.0 and True
are one value (they are equal and hash alike in a dict). Each value is tagged with its type,
strings are escaped so the separator cannot occur inside one, and the joined key is hashed to
a fixed-length token so Redis key names stay short whatever the values.
"""

from __future__ import annotations

from hashlib import blake2b
from typing import Any

_SEP = "\x1f"


def encode_value(value: Any) -> str:
    """A string that is equal for two values exactly when the values are equal in Python."""
    if isinstance(value, str):
        return "s" + value
    if isinstance(value, bool | int):
        return f"n{int(value)}"
    if isinstance(value, float):
        return f"n{int(value)}" if value.is_integer() else f"n{value!r}"
    if isinstance(value, tuple):
        return "t(" + join(value) + ")"
    return "r" + repr(value)


def join(values: tuple[Any, ...]) -> str:
    return _SEP.join(encode_value(v).replace("\\", "\\\\").replace(_SEP, "\\x1f") for v in values)


def key_token(key: Any) -> str:
    """Fixed-length token for a key: a one-column key is its value, several are a tuple."""
    text = join(key) if isinstance(key, tuple) else encode_value(key)
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
