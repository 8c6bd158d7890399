"""Personal data is masked by default; a reveal needs pii:read and a reason, and is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from abusedesk.auth.pii import disclose, mask, mask_address
from abusedesk.auth.roles import DEFAULT_PERMISSIONS
from abusedesk.auth.tokens import Principal
from abusedesk.errors import ForbiddenError, InputError
from abusedesk.storage.models import AuditEntry
from abusedesk.workspace import Workspace

ANALYST = Principal(name="user:ann", role="analyst", permissions=DEFAULT_PERMISSIONS["analyst"])
VIEWER = Principal(name="user:vic", role="viewer", permissions=DEFAULT_PERMISSIONS["viewer"])
DATA = {
    "account": {"account_id": "AC1", "email": "ops@customer.example"},
    "messages": [
        {"from": "+15550000001", "to": "+447400123456", "body": "Your code is 123456"},
        {"from": "news@shop.example", "to": "jane.doe@mail.example", "subject": "Hello"},
    ],
    "reports": [{"recipient": ["+33612345678", "x@y.example"]}],
}


def test_masking_keeps_what_investigations_need() -> None:
    assert mask_address("+447400123456") == "+4474••••••56"
    assert mask_address("jane.doe@mail.example") == "j•••@mail.example"
    masked = mask(DATA)
    first, second = masked["messages"]
    assert first == {
        "from": "+15550000001",
        "to": "+4474••••••56",
        "body": "[body masked: 19 chars]",
    }
    assert second["to"] == "j•••@mail.example"
    assert second["subject"] == "[subject masked: 5 chars]"
    assert masked["reports"][0]["recipient"] == ["+3361•••••78", "x•••@y.example"]
    # The customer's own data is not a third party's: it stays.
    assert masked["account"] == DATA["account"]


def _reveals(ws: Workspace) -> list[tuple[str, str, str, str | None]]:
    with ws.store.sessions() as session:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.action == "pii.reveal").order_by(AuditEntry.id)
        ).scalars()
        return [(r.actor, r.object_type, r.object_id, r.reason) for r in rows]


def test_reveal_is_audited_with_actor_and_reason(workspace: Workspace) -> None:
    ws = workspace
    common = {"store": ws.store, "clock": ws.clock, "object_type": "account", "object_id": "AC1"}
    assert disclose(DATA, principal=ANALYST, reveal=False, reason=None, **common) == mask(DATA)
    assert _reveals(ws) == []
    shown = disclose(DATA, principal=ANALYST, reveal=True, reason="case 12: smishing", **common)
    assert shown == DATA
    assert _reveals(ws) == [("user:ann", "account", "AC1", "case 12: smishing")]


def test_reveal_needs_the_permission_and_a_reason(workspace: Workspace) -> None:
    ws = workspace
    common = {"store": ws.store, "clock": ws.clock, "object_type": "account", "object_id": "AC1"}
    with pytest.raises(ForbiddenError, match="pii:read"):
        disclose(DATA, principal=VIEWER, reveal=True, reason="curious", **common)
    with pytest.raises(InputError, match="reason"):
        disclose(DATA, principal=ANALYST, reveal=True, reason="  ", **common)
    assert _reveals(ws) == []
