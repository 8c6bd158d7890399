"""Delivery outcomes: failure, hard bounce, and the family of a carrier or SMTP error code.

Twilio codes follow DOMAIN.md 2.6 (signals S2-S7 count by these families). SMTP enhanced status
codes (RFC 3463, "5.1.1" or a diagnostic such as "smtp; 550 5.1.1 <a@b>... User unknown") map
where the meaning is the same across channels, so one rule can count both:
  5.1.x  addressing (bad mailbox, bad domain, bad syntax)  -> invalid_number: the destination
         does not exist, the list-hygiene signal 30005/30006/21614 give on SMS
  x.7.x  security or policy (blocked, DMARC/SPF/DKIM refusal, "421 4.7.0" low reputation)
         -> blocked, except 4.7.28, Gmail's unsolicited-rate limit -> rate_limited
  other  (mailbox full, message too big, network) -> other
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

FAILED_STATUSES: Final = frozenset({"failed", "undelivered", "bounced"})

ERROR_CLASSES: Final[dict[str, str]] = {
    **dict.fromkeys(("30007", "30038"), "filtered"),
    "21610": "opted_out",
    **dict.fromkeys(("30005", "30006", "21614"), "invalid_number"),
    "30003": "unreachable",
    **dict.fromkeys(("30032", "30034", "30040", "30041", "30024"), "unregistered"),
    **dict.fromkeys(("30004", "21408", "30450", "60410", "60605"), "blocked"),
    **dict.fromkeys(("30022", "30026", "30027", "30454", "21611", "30001"), "rate_limited"),
}
_CACHED_LENGTH: Final = 32
_SMTP_ENHANCED: Final = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")


def error_class(code: str) -> str | None:
    """Family of an error code; None for an empty code."""
    text = code.strip()
    if not text:
        return None
    known = ERROR_CLASSES.get(text)
    if known is not None:
        return known
    smtp = _SMTP_ENHANCED.search(text[:512])
    if smtp is not None:
        klass, subject = smtp.group(1), smtp.group(2)
        if subject == "1" and klass == "5":
            return "invalid_number"
        if subject == "7" and klass in "45":
            return "rate_limited" if (klass, smtp.group(3)) == ("4", "28") else "blocked"
    return "other"


def is_permanent_smtp(code: str) -> bool:
    smtp = _SMTP_ENHANCED.search(code[:512])
    return smtp is not None and smtp.group(1) == "5"


def delivery_fields(status: Any, error_code: Any, bounce_type: Any) -> dict[str, Any]:
    """is_failure, error_class, and is_hard_bounce for email outcomes (a bounce_type, a
    'bounced' status or an SMTP code says it is email). Shared: do not mutate."""
    if (
        (status is None or (type(status) is str and len(status) <= _CACHED_LENGTH))
        and (error_code is None or (type(error_code) is str and len(error_code) <= _CACHED_LENGTH))
        and (
            bounce_type is None or (type(bounce_type) is str and len(bounce_type) <= _CACHED_LENGTH)
        )
    ):  # each a short string or None (checked inline: three calls fewer a delivery)
        # A handful of combinations make up nearly all outcomes ("delivered" without a code
        # is nine in ten). Other JSON values may be unhashable, and a long SMTP diagnostic
        # names its recipient: those are computed each time.
        return _cached_fields(status, error_code, bounce_type)
    return _fields(status, error_code, bounce_type)


@lru_cache(maxsize=4096)
def _cached_fields(
    status: str | None, error_code: str | None, bounce_type: str | None
) -> dict[str, Any]:
    return _fields(status, error_code, bounce_type)


def _fields(status: Any, error_code: Any, bounce_type: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(status, str):
        fields["is_failure"] = status in FAILED_STATUSES
    code = error_code if isinstance(error_code, str) else ""
    klass = error_class(code)
    if klass is not None:
        fields["error_class"] = klass
    if isinstance(bounce_type, str):
        fields["is_hard_bounce"] = bounce_type == "permanent"
    elif status == "bounced" or _SMTP_ENHANCED.search(code[:512]):
        # No bounce_type: RFC 3463 class 5 is a permanent failure, 4 a transient one.
        fields["is_hard_bounce"] = status == "bounced" and is_permanent_smtp(code)
    return fields
