"""Webhooks against a real local HTTP receiver: signed, retried with backoff while it fails,
delivered once it recovers; nothing lost, nothing doubled; dead letters visible and retryable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from abusedesk.clock import FixedClock
from abusedesk.enforcement.delivery import Outbox, WebhookChannel, backoff
from abusedesk.enforcement.kinds import ActionRequest
from abusedesk.enforcement.outbox import delivery_log, do_retry_delivery, list_outbox
from abusedesk.enforcement.receiver import WebhookReceiver
from abusedesk.enforcement.services import Enforcement, do_take_action
from abusedesk.enforcement.signing import sign, verify
from abusedesk.errors import ConflictError
from abusedesk.storage.models import OutboxAttempt, OutboxItem
from abusedesk.workspace import Workspace

SECRET = "s3cret-for-tests"


def outbox(ws: Workspace, clock: FixedClock, *, max_attempts: int = 8) -> Outbox:
    return Outbox(
        ws.store,
        clock,
        {"webhook": WebhookChannel(SECRET, clock)},
        max_attempts=max_attempts,
        backoff_s=5.0,
        concurrency=4,
    )


def take_many(ws: Workspace, clock: FixedClock, url: str, n: int) -> list[int]:
    enf = Enforcement(ws.store, clock, ws.catalogue, url)
    return [
        do_take_action(
            enf, ActionRequest(account_id=f"AC{i}", actor="ana", reason="r", kind="suspend")
        ).action["id"]
        for i in range(n)
    ]


def test_signature_round_trip() -> None:
    signature = sign(SECRET, 1_700_000_000, b'{"a":1}')
    assert verify(SECRET, "1700000000", b'{"a":1}', signature, now=1_700_000_100)
    assert not verify(SECRET, "1700000000", b'{"a":2}', signature, now=1_700_000_100)
    assert not verify("other", "1700000000", b'{"a":1}', signature, now=1_700_000_100)
    # A replay ten minutes later is refused even with a valid signature.
    assert not verify(SECRET, "1700000000", b'{"a":1}', signature, now=1_700_000_600)


def test_receiver_fails_then_recovers_nothing_lost_nothing_doubled(
    workspace: Workspace, clock: FixedClock
) -> None:
    # Every delivery fails twice (503), then succeeds.
    def failures(_delivery: str, nth: int) -> tuple[int, dict[str, str]] | None:
        return (503, {}) if nth <= 2 else None

    with WebhookReceiver(SECRET, now=lambda: clock.now().timestamp(), failures=failures) as rx:
        ids = take_many(workspace, clock, rx.url, 12)
        box = outbox(workspace, clock)
        first = box.drain()
        assert (first.sent, first.delivered, first.retrying) == (12, 0, 12)
        assert box.drain().sent == 0  # nothing is due before the backoff
        clock.advance(timedelta(seconds=5))
        second = box.drain()
        assert (second.sent, second.retrying) == (12, 12)
        clock.advance(timedelta(seconds=9))
        assert box.drain().sent == 0  # the second wait is 10 s
        clock.advance(timedelta(seconds=1))
        third = box.drain()
        assert (third.sent, third.delivered) == (12, 12)
        assert box.drain().sent == 0
        box.close()
    expected = {f"action.taken-{i}" for i in ids}
    assert set(rx.accepted) == expected
    assert rx.duplicates == 0
    assert rx.rejected == 0
    assert dict(rx.received) == dict.fromkeys(expected, 3)
    assert {p["action"]["id"] for p in rx.accepted.values()} == set(ids)
    assert {r.status for r in list_outbox(workspace.store)} == {"delivered"}
    with workspace.store.sessions() as s:
        assert s.execute(select(func.count()).select_from(OutboxAttempt)).scalar_one() == 36
    log = delivery_log(workspace.store, list_outbox(workspace.store)[0].id)
    assert [(a.ok, a.status_code) for a in log] == [(False, 503), (False, 503), (True, 200)]


def test_a_repeat_after_a_lost_answer_is_dropped_by_the_receiver(
    workspace: Workspace, clock: FixedClock
) -> None:
    """The receiver stored the delivery but its answer was lost (here: a 500 after storing)."""

    with WebhookReceiver(SECRET, now=lambda: clock.now().timestamp()) as rx:
        take_many(workspace, clock, rx.url, 3)
        box = outbox(workspace, clock)
        box.drain()
        # Put every item back as if our result write had been lost; they go out again.
        with workspace.store.transaction() as s:
            s.execute(
                OutboxAttempt.__table__.delete()  # the log of the first round is lost too
            )
        with workspace.store.transaction() as s:
            for item in s.execute(select(OutboxItem)).scalars():
                item.status = "pending"
                item.attempts = 0
                item.next_attempt_at = clock.now()
        box.drain()
        box.close()
    assert len(rx.accepted) == 3
    assert rx.duplicates == 3  # received twice, applied once
    assert set(rx.received.values()) == {2}


def test_dead_letter_after_n_attempts_then_retry(workspace: Workspace, clock: FixedClock) -> None:
    healthy = {"up": False}

    def failures(_delivery: str, _nth: int) -> tuple[int, dict[str, str]] | None:
        return None if healthy["up"] else (500, {})

    with WebhookReceiver(SECRET, now=lambda: clock.now().timestamp(), failures=failures) as rx:
        take_many(workspace, clock, rx.url, 2)
        box = outbox(workspace, clock, max_attempts=3)
        for _ in range(3):
            box.drain()
            clock.advance(timedelta(hours=1))
        dead = list_outbox(workspace.store, status="dead")
        assert len(dead) == 2
        assert dead[0].attempts == 3
        assert dead[0].last_error is not None
        assert "HTTP 500" in dead[0].last_error
        assert box.drain().sent == 0  # the dead stay dead until someone retries them
        healthy["up"] = True
        for row in dead:
            do_retry_delivery(workspace.store, clock, outbox_id=row.id, actor="lead")
        assert box.drain().delivered == 2
        box.close()
        with pytest.raises(ConflictError, match="only dead ones"):
            do_retry_delivery(workspace.store, clock, outbox_id=dead[0].id, actor="lead")
    assert len(rx.accepted) == 2
    assert rx.duplicates == 0


def test_retry_after_is_honoured(workspace: Workspace, clock: FixedClock) -> None:
    def failures(_delivery: str, nth: int) -> tuple[int, dict[str, str]] | None:
        return (429, {"Retry-After": "120"}) if nth == 1 else None

    with WebhookReceiver(SECRET, now=lambda: clock.now().timestamp(), failures=failures) as rx:
        take_many(workspace, clock, rx.url, 1)
        box = outbox(workspace, clock)
        box.drain()
        row = list_outbox(workspace.store)[0]
        assert row.next_attempt_at == clock.now() + timedelta(seconds=120)
        clock.advance(timedelta(seconds=119))
        assert box.drain().sent == 0
        clock.advance(timedelta(seconds=1))
        assert box.drain().delivered == 1
        box.close()
    assert len(rx.accepted) == 1


def test_a_wrong_secret_is_refused_and_goes_dead_at_once(
    workspace: Workspace, clock: FixedClock
) -> None:
    with WebhookReceiver("another secret", now=lambda: clock.now().timestamp()) as rx:
        take_many(workspace, clock, rx.url, 1)
        box = outbox(workspace, clock)
        stats = box.drain()
        box.close()
    assert stats.dead == 1
    assert rx.rejected == 1
    assert rx.accepted == {}


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 5.0, None) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert backoff(30, 5.0, None) == 3600.0
    assert backoff(1, 5.0, 60.0) == 60.0
