"""A paused account whose appeal was overturned, on probation under email-complaint-rate
(complaints below 0.1 %, bounces below 2 %, for 14 days, judged from 100 sends), with traffic
ingested into the lake at chosen times, and a real SMTP server for the notices."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from abusedesk.appeals.services import AppealView, do_decide_appeal, do_open_appeal
from abusedesk.clock import FixedClock
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.services import Enforcement, do_take_action
from abusedesk.settings import Settings
from abusedesk.storage.models import Account, Case
from abusedesk.workspace import Workspace

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = "email-complaint-rate"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def workspace(settings: Settings, clock: FixedClock) -> Iterator[Workspace]:
    """The workspace on the test's clock: ingest, enforcement and the sweep share one time."""
    ws = Workspace(settings, clock=clock)
    yield ws
    ws.close()


@pytest.fixture
def enf(workspace: Workspace) -> Enforcement:
    return workspace.enforcement()


def add_account_and_case(ws: Workspace, account_id: str, *, email_: str | None) -> int:
    with ws.store.transaction() as s:
        s.add(
            Account(
                account_id=account_id,
                first_seen=T0,
                last_seen=T0,
                event_count=1,
                status="active",
                email=email_,
                company="Customer Ltd",
            )
        )
        case = Case(
            account_id=account_id,
            policy=POLICY,
            queue="email",
            priority="P2",
            status="triage",
            title="complaints",
            rules=["complaint-rate"],
            severity="high",
            signal_count=1,
            opened_at=T0,
            updated_at=T0,
            first_signal_at=T0,
            last_signal_at=T0,
        )
        s.add(case)
        s.flush()
        return case.id


def overturned(ws: Workspace, enf: Enforcement, account_id: str = "AC123") -> AppealView:
    """Pause the account on its case, appeal, and have the lead overturn: probation starts."""
    case_id = add_account_and_case(ws, account_id, email_="admin@customer.example")
    taken = do_take_action(
        enf,
        ActionRequest(
            account_id=account_id,
            actor="ana",
            reason="complaints over 0.1 %",
            kind="pause",
            policy=POLICY,
            case_id=case_id,
            override_reason="second breach this month",
        ),
    )
    appeal = do_open_appeal(
        enf,
        action_id=int(taken.action["id"]),
        message="We moved to confirmed opt-in.",
        channel="api",
        actor="token:customer",
    )
    return do_decide_appeal(
        enf,
        ws.notice_renderer(),
        appeal_id=appeal.id,
        decision="overturn",
        actor="lead",
        reason="Confirmed opt-in is in place.",
    )


def email_traffic(
    account_id: str,
    start: datetime,
    *,
    sends: int,
    bounces: int = 0,
    complaints: int = 0,
    tag: str = "t",
) -> list[dict[str, Any]]:
    """`sends` outbound emails a minute apart, each with a receipt (the first `bounces` hard
    bounces, the rest delivered), and `complaints` FBL complaints on the first messages."""
    events: list[dict[str, Any]] = []
    for i in range(sends):
        ts = start + timedelta(minutes=i)
        stamp = ts.isoformat().replace("+00:00", "Z")
        mid = f"<{tag}{i}@customer.example>"
        events.append(
            {"id": f"{tag}m{i}", "type": "message", "ts": stamp, "account_id": account_id,
             "message_id": mid, "channel": "email", "from": "news@customer.example",
             "to": f"user{i}@mail.example", "subject": "News"}
        )  # fmt: skip
        receipt: dict[str, Any] = {
            "id": f"{tag}d{i}", "type": "delivery", "ts": stamp, "account_id": account_id,
            "message_id": mid, "status": "delivered", "recipient": f"user{i}@mail.example",
        }  # fmt: skip
        if i < bounces:
            receipt |= {"status": "bounced", "bounce_type": "permanent"}
        events.append(receipt)
    for i in range(complaints):
        stamp = (start + timedelta(minutes=i, seconds=30)).isoformat().replace("+00:00", "Z")
        events.append(
            {"id": f"{tag}c{i}", "type": "complaint", "ts": stamp, "account_id": account_id,
             "message_id": f"<{tag}{i}@customer.example>", "source": "fbl",
             "feedback_type": "abuse", "recipient": f"user{i}@mail.example"}
        )  # fmt: skip
    return events


def ingest(ws: Workspace, events: list[dict[str, Any]]) -> None:
    summary = ws.ingestor().ingest_objects(events, source="test")
    assert summary.quarantined == 0, summary


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    # aiosmtpd checks the port it was given by connecting to it, so it cannot take port 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
