"""The webhook signature: HMAC-SHA256 over "<timestamp>.<body>" with the shared secret.

Headers on every delivery:
    Abusedesk-Delivery:  the delivery id (the same on every retry: receivers drop repeats)
    Abusedesk-Timestamp: Unix seconds when this attempt was signed
    Abusedesk-Signature: v1=<hex digest>
The timestamp is inside the signed text, so a captured request cannot be replayed later with a
new timestamp; receivers reject timestamps older than a few minutes (docs/enforcement.md).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER_DELIVERY = "Abusedesk-Delivery"
HEADER_TIMESTAMP = "Abusedesk-Timestamp"
HEADER_SIGNATURE = "Abusedesk-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: int, tolerance_s: int = 300
) -> bool:
    """What a receiver does; used by the tests' receiver exactly as docs/enforcement.md shows."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)
