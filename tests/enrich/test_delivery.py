"""Delivery outcomes: failures, hard bounces, error families (DOMAIN.md 2.6, RFC 3463)."""

from __future__ import annotations

from typing import Any

import pytest

from abusedesk.enrich.delivery import ERROR_CLASSES, delivery_fields, error_class


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("30007", "filtered"),
        ("30038", "filtered"),
        ("21610", "opted_out"),
        ("30005", "invalid_number"),
        ("30006", "invalid_number"),
        ("21614", "invalid_number"),
        ("30003", "unreachable"),
        ("30032", "unregistered"),
        ("30034", "unregistered"),
        ("30040", "unregistered"),
        ("30041", "unregistered"),
        ("30024", "unregistered"),
        ("30004", "blocked"),
        ("21408", "blocked"),
        ("30450", "blocked"),
        ("60410", "blocked"),
        ("60605", "blocked"),
        ("30022", "rate_limited"),
        ("30026", "rate_limited"),
        ("30027", "rate_limited"),
        ("30454", "rate_limited"),
        ("21611", "rate_limited"),
        ("30001", "rate_limited"),
        ("30008", "other"),
        ("30002", "other"),
        (" 30007 ", "filtered"),
    ],
)
def test_twilio_codes(code: str, family: str) -> None:
    assert error_class(code) == family


def test_every_listed_code_has_a_documented_family() -> None:
    families = {"filtered", "opted_out", "invalid_number", "unreachable", "unregistered",
                "blocked", "rate_limited"}  # fmt: skip
    assert set(ERROR_CLASSES.values()) == families


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("5.1.1", "invalid_number"),
        ("smtp; 550 5.1.1 <jane@example.com>... User unknown", "invalid_number"),
        ("550 5.7.26 Unauthenticated email is not accepted", "blocked"),
        ("421 4.7.28 unsolicited mail rate limited", "rate_limited"),
        ("552 5.2.2 mailbox full", "other"),
        ("4.4.1", "other"),
        ("421 4.7.0 low reputation", "blocked"),
        ("", None),
        ("   ", None),
    ],
)
def test_smtp_codes(code: str, family: str | None) -> None:
    assert error_class(code) == family


@pytest.mark.parametrize(
    ("status", "code", "bounce", "expected"),
    [
        ("delivered", None, None, {"is_failure": False}),
        ("undelivered", "30007", None, {"is_failure": True, "error_class": "filtered"}),
        ("failed", "", None, {"is_failure": True}),
        ("bounced", None, "permanent", {"is_failure": True, "is_hard_bounce": True}),
        ("bounced", None, "transient", {"is_failure": True, "is_hard_bounce": False}),
        ("bounced", "5.1.1", None,
         {"is_failure": True, "is_hard_bounce": True, "error_class": "invalid_number"}),
        ("bounced", "4.2.2", None, {"is_failure": True, "is_hard_bounce": False, "error_class": "other"}),
        ("deferred", "421 4.7.0 try later", None,
         {"is_failure": False, "is_hard_bounce": False, "error_class": "blocked"}),
        (None, 30007, 7, {}),  # wrong types from a hand-built event: nothing, no error
    ],
)  # fmt: skip
def test_delivery_fields(status: Any, code: Any, bounce: Any, expected: dict[str, Any]) -> None:
    assert delivery_fields(status, code, bounce) == expected
