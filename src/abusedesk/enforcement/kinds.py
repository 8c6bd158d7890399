"""What an action may be: kinds, the scopes each accepts, and the checks on a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from abusedesk.errors import InputError

# Sending scopes a pause or a throttle may cover.
SEND_SCOPES = ("account", "sender", "domain", "campaign", "country")
# Entities a block may name; a block applies to the entity platform-wide.
BLOCK_SCOPES = ("number", "domain", "url", "ip")

SCOPES: dict[str, tuple[str, ...]] = {
    "warn": ("account",),
    "throttle": SEND_SCOPES,
    "pause": SEND_SCOPES,
    "suspend": ("account",),
    "terminate": ("account",),
    "block": BLOCK_SCOPES,
    "require_verification": ("account",),
    "reinstate": ("account",),
}
KINDS = tuple(SCOPES)
# Kinds that stay in force until they expire or are reversed; the others are one-shot.
LASTING = frozenset({"throttle", "pause", "suspend", "terminate", "block", "require_verification"})
# Kinds that stop sending in their scope (the decision API answers block).
BLOCKING = frozenset({"pause", "suspend", "terminate", "block"})


@dataclass
class ActionRequest:
    """What a person (or a bulk job) asks for. `kind=None` takes the ladder's proposal."""

    account_id: str
    actor: str
    reason: str
    kind: str | None = None
    policy: str | None = None
    case_id: int | None = None
    scope: str = "account"
    target: str | None = None
    rate_per_min: float | None = None
    duration: timedelta | None = None
    override_reason: str | None = None
    idempotency_key: str | None = None
    bulk_job_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_request(request: ActionRequest, kind: str) -> None:
    if not request.account_id or len(request.account_id) > 128:
        raise InputError("account_id must be 1 to 128 characters")
    if not request.reason.strip():
        raise InputError("a reason is required; it is kept in the audit log")
    scopes = SCOPES.get(kind)
    if scopes is None:
        raise InputError(f"unknown action kind {kind!r}; expected one of {', '.join(KINDS)}")
    if request.scope not in scopes:
        raise InputError(f"{kind} takes scope {' or '.join(scopes)}, not {request.scope!r}")
    if request.scope != "account" and not request.target:
        raise InputError(f"scope {request.scope!r} needs a target (the {request.scope} it covers)")
    if request.scope == "account" and request.target:
        raise InputError("an account-wide action takes no target")
    if kind == "throttle" and (request.rate_per_min is None or request.rate_per_min <= 0):
        raise InputError("throttle needs a positive rate (messages per minute)")
    if kind != "throttle" and request.rate_per_min is not None:
        raise InputError("only throttle takes a rate")
    if request.duration is not None:
        if kind not in LASTING:
            raise InputError(f"{kind} is one-shot and takes no duration")
        if request.duration <= timedelta(0):
            raise InputError("a duration must be positive")
    if request.scope == "country" and request.target and len(request.target) != 2:
        raise InputError("a country scope takes an ISO 3166 alpha-2 code, e.g. NG")
