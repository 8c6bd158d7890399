"""Cursor pagination: lists answer {"items", "next_cursor"}; pass next_cursor back as ?cursor=
for the next page. A cursor is opaque to clients (base64 of the position), so its shape may
change without breaking them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from abusedesk.errors import InputError


def encode(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise InputError("cursor is not one this API gave out") from None
    if not isinstance(value, dict):
        raise InputError("cursor is not one this API gave out")
    return value


def page(items: list[Any], next_position: dict[str, Any] | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": None if next_position is None else encode(next_position)}
