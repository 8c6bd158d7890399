"""Personal data in what the desk shows: masked by default, revealed on request (audited).

Recipients' numbers and addresses and message bodies belong to people who are not the desk's
customers. Every read path (API and CLI) passes its result through `disclose`, the one place
that decides: masked unless the caller asked to reveal, holds `pii:read` and gave a reason; a
reveal writes an audit row (`do_record_reveal`) before the data leaves.

Masking keeps what an investigation needs without the person: a number keeps its country code
and prefix and last two digits (`+4477•••••23`), an address its domain (`a•••@example.com`), a
body its length (`[body masked: 142 chars]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from abusedesk.auth.roles import PII_READ
from abusedesk.auth.tokens import Principal
from abusedesk.clock import Clock
from abusedesk.errors import ForbiddenError, InputError
from abusedesk.storage.audit import write_audit
from abusedesk.storage.db import Store

# Keys whose values are a recipient or a body, wherever they appear in a result.
ADDRESS_KEYS: Final = frozenset({"to", "recipient", "recipients"})
TEXT_KEYS: Final = frozenset({"body", "subject"})
PII_KEYS: Final = ADDRESS_KEYS | TEXT_KEYS
_DOT: Final = "•"


def mask_address(value: str) -> str:
    """A number keeps country code, prefix and its last two digits; an address its domain."""
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return (local[:1] + _DOT * 3 if local else "") + "@" + domain
    prefix = value[:5] if value.startswith("+") else value[:3]
    tail = value[-2:] if len(value) > len(prefix) + 2 else ""
    hidden = max(len(value) - len(prefix) - len(tail), 1)
    return prefix + _DOT * hidden + tail


def mask_text(key: str, value: str) -> str:
    return f"[{key} masked: {len(value)} chars]"


def mask(data: Any) -> Any:
    """A copy of `data` (dicts, lists, scalars) with every PII key's value masked."""
    if isinstance(data, Mapping):
        return {k: _mask_item(str(k), v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mask(item) for item in data]
    return data


def _mask_item(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in ADDRESS_KEYS:
        if isinstance(value, str):
            return mask_address(value)
        if isinstance(value, list):
            return [mask_address(v) if isinstance(v, str) else v for v in value]
    if key in TEXT_KEYS and isinstance(value, str):
        return mask_text(key, value)
    return mask(value)


def do_record_reveal(
    store: Store, clock: Clock, *, actor: str, object_type: str, object_id: str, reason: str
) -> None:
    """The audit row of one reveal: who saw whose personal data and why."""
    with store.transaction() as session:
        write_audit(
            session,
            clock,
            actor=actor,
            action="pii.reveal",
            object_type=object_type,
            object_id=object_id,
            reason=reason,
        )


def disclose(
    data: Any,
    *,
    store: Store,
    clock: Clock,
    principal: Principal,
    reveal: bool,
    reason: str | None,
    object_type: str,
    object_id: str,
) -> Any:
    """`data` as the principal may see it: masked, or revealed and audited.

    Revealing needs `pii:read` (ForbiddenError otherwise) and a reason (InputError), so every
    reveal in the audit log says why."""
    if not reveal:
        return mask(data)
    if not principal.can(PII_READ):
        raise ForbiddenError(
            f"role {principal.role!r} may not reveal personal data (needs pii:read)"
        )
    reason = (reason or "").strip()
    if not reason:
        raise InputError("a reveal needs a reason (it is written to the audit log)")
    do_record_reveal(
        store,
        clock,
        actor=principal.name,
        object_type=object_type,
        object_id=object_id,
        reason=reason[:1000],
    )
    return data
