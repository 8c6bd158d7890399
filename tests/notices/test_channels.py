"""Notices delivered for real: to an aiosmtpd SMTP server and to a local server implementing
the part of the Zendesk Tickets API we use (create, find by external id, 429 + Retry-After).
Every notice is on the case timeline and marked sent once delivered."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from abusedesk.clock import FixedClock
from abusedesk.enforcement.delivery import Outbox
from abusedesk.enforcement.services import Enforcement
from abusedesk.notices.channels.smtp import SmtpChannel
from abusedesk.notices.channels.zendesk import ZendeskChannel
from abusedesk.notices.render import NoticeRenderer
from abusedesk.notices.services import do_send_notice
from abusedesk.storage.models import CaseEvent, Notice
from abusedesk.workspace import Workspace

FILLS = {"threshold": "0.1 %"}


class Inbox:
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


def test_notice_by_email_reaches_the_smtp_server(
    workspace: Workspace,
    enf: Enforcement,
    clock: FixedClock,
    paused: int,
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    sent = do_send_notice(enf, NoticeRenderer(), action_id=paused, actor="ana", fills=FILLS)
    box = Outbox(
        workspace.store, clock, {"email": SmtpChannel("127.0.0.1", port, "ts@desk.example")}
    )
    assert box.drain().delivered == 1
    box.close()
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "admin@customer.example"
    assert message["Subject"].startswith("Action required: sending paused on account AC123")
    assert message["X-Abusedesk-Delivery"] == f"notice-{sent['id']}"
    parts = {p.get_content_type(): p.get_payload(decode=True) for p in message.walk()}
    assert b"complaint_rate_24h" in parts["text/plain"]
    assert b"<h3>What to fix</h3>" in parts["text/html"]
    with workspace.store.sessions() as s:
        notice = s.get(Notice, sent["id"])
        assert notice is not None
        assert notice.status == "sent"
        kinds = list(s.execute(select(CaseEvent.kind).order_by(CaseEvent.id)).scalars())
    assert kinds == ["action.taken", "notice.queued"]


class FakeZendesk:
    """POST and GET /api/v2/tickets.json as Zendesk answers them, with a rate limit that
    answers the first `limit_first` requests with 429 and Retry-After."""

    def __init__(self, limit_first: int = 0) -> None:
        self.tickets: list[dict[str, Any]] = []
        self.requests = 0
        self.limit_first = limit_first
        self.auth: list[str] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict[str, Any], **headers: str) -> None:
                data = orjson.dumps(body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key.replace("_", "-"), value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _limited(self) -> bool:
                with fake._lock:
                    fake.requests += 1
                    fake.auth.append(self.headers.get("Authorization", ""))
                    limited = fake.requests <= fake.limit_first
                if limited:
                    self._answer(429, {"error": "RateLimited"}, Retry_After="30")
                return limited

            def do_GET(self) -> None:
                if self._limited():
                    return
                wanted = self.path.split("external_id=", 1)[-1]
                found = [t for t in fake.tickets if t["external_id"] == wanted]
                self._answer(200, {"tickets": found, "count": len(found)})

            def do_POST(self) -> None:
                if self._limited():
                    return
                body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ticket = body["ticket"]
                missing = {"subject", "comment", "requester", "external_id"} - set(ticket)
                if missing:
                    self._answer(422, {"error": "RecordInvalid", "missing": sorted(missing)})
                    return
                with fake._lock:
                    ticket = {**ticket, "id": len(fake.tickets) + 1}
                    fake.tickets.append(ticket)
                self._answer(201, {"ticket": ticket})

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeZendesk:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_notice_as_zendesk_ticket_with_429_honoured(
    workspace: Workspace, enf: Enforcement, clock: FixedClock, paused: int
) -> None:
    with FakeZendesk(limit_first=1) as zendesk:
        sent = do_send_notice(
            enf, NoticeRenderer(), action_id=paused, actor="ana", channel="zendesk", fills=FILLS
        )
        channel = ZendeskChannel(zendesk.url, "agent@desk.example", "tok")
        box = Outbox(workspace.store, clock, {"zendesk": channel})
        first = box.drain()
        assert (first.sent, first.retrying) == (1, 1)
        clock.advance(timedelta(seconds=29))
        assert box.drain().sent == 0  # Retry-After: 30 is honoured
        clock.advance(timedelta(seconds=1))
        assert box.drain().delivered == 1
        # A repeat of the same delivery (our result lost) finds the ticket, opens no second one.
        with workspace.store.transaction() as s:
            from abusedesk.storage.models import OutboxItem

            for item in s.execute(select(OutboxItem)).scalars():
                item.status, item.next_attempt_at = "pending", clock.now()
        assert box.drain().delivered == 1
        box.close()
    assert len(zendesk.tickets) == 1
    ticket = zendesk.tickets[0]
    assert ticket["requester"] == {"email": "admin@customer.example"}
    assert ticket["external_id"] == f"enf-{paused}-notice-{sent['id']}"
    assert ticket["comment"]["public"] is True
    assert "ts_enforcement" in ticket["tags"]
    assert "action_pause" in ticket["tags"]
    assert ticket["subject"].startswith("Action required")
    assert zendesk.auth[0].startswith("Basic ")
