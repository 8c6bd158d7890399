"""Sending what the outbox holds: claim what is due, send it, log the attempt, and retry with
backoff until delivered or dead.

A claim moves `next_attempt_at` forward (a lease) in one conditional UPDATE … RETURNING, so two
workers never send the same item at once. Delivery is at least once: if the process dies after
the receiver answered and before the result is written, the item is sent again when the lease
ends, under the same delivery id, which receivers use to drop the repeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from abusedesk.clock import Clock
from abusedesk.enforcement.signing import (
    HEADER_DELIVERY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    sign,
)
from abusedesk.storage.db import Store
from abusedesk.storage.models import Notice, OutboxAttempt, OutboxItem

log = logging.getLogger("abusedesk.outbox")
LEASE = timedelta(minutes=5)
MAX_BACKOFF_S = 3600.0


@dataclass(frozen=True)
class Due:
    id: int
    delivery_id: str
    channel: str
    destination: str
    payload: dict[str, Any]
    attempts: int
    notice_id: int | None = None


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    permanent: bool = False  # the receiver refused it: retrying cannot help
    duration_ms: int = 0


class Channel(Protocol):
    """One way out of the outbox: webhook here; email and Zendesk in notices/channels/."""

    def send(self, item: Due) -> SendResult: ...


@dataclass
class DeliveryStats:
    sent: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    def add(self, other: DeliveryStats) -> None:
        self.sent += other.sent
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.dead += other.dead


class WebhookChannel:
    """POSTs the payload as JSON, signed (signing.py), over one keep-alive connection pool."""

    def __init__(self, secret: str, clock: Clock, *, timeout_s: float = 10.0) -> None:
        self.secret = secret
        self.clock = clock
        self.client = httpx.Client(
            timeout=timeout_s, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)
        )

    def send(self, item: Due) -> SendResult:
        body = orjson.dumps(item.payload)
        ts = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            HEADER_DELIVERY: item.delivery_id,
            HEADER_TIMESTAMP: str(ts),
            HEADER_SIGNATURE: sign(self.secret, ts, body),
        }
        started = time.perf_counter()
        try:
            response = self.client.post(item.destination, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}", duration_ms=_ms(started))
        return result_of_http(response.status_code, response.headers, response.text, started)

    def close(self) -> None:
        self.client.close()


def result_of_http(
    status: int, headers: Mapping[str, str], text: str, started: float
) -> SendResult:
    if 200 <= status < 300:
        return SendResult(True, status, duration_ms=_ms(started))
    retry_after = _retry_after(headers.get("retry-after"))
    permanent = 400 <= status < 500 and status not in (408, 409, 425, 429)
    return SendResult(
        False,
        status,
        error=f"HTTP {status}: {text[:200]}",
        retry_after_s=retry_after,
        permanent=permanent,
        duration_ms=_ms(started),
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def backoff(attempts: int, base_s: float, retry_after_s: float | None) -> float:
    """Wait before attempt `attempts + 1`: base, 2×base, 4×base … up to an hour; never less
    than the receiver's Retry-After."""
    wait = min(base_s * 2.0 ** max(0, attempts - 1), MAX_BACKOFF_S)
    return max(wait, retry_after_s or 0.0)


@dataclass
class Outbox:
    """The worker: `deliver_due` sends one round; `run` loops."""

    store: Store
    clock: Clock
    channels: dict[str, Channel]
    max_attempts: int = 8
    backoff_s: float = 5.0
    concurrency: int = 16
    batch: int = 500
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    def _claim(self, now: datetime) -> list[Due]:
        with self.store.transaction() as session:
            ids = list(
                session.execute(
                    select(OutboxItem.id)
                    .where(
                        OutboxItem.status == "pending",
                        OutboxItem.next_attempt_at <= now,
                        OutboxItem.channel.in_(list(self.channels)),
                    )
                    .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                    .limit(self.batch)
                ).scalars()
            )
            if not ids:
                return []
            claimed = session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id.in_(ids),
                    OutboxItem.status == "pending",
                    OutboxItem.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + LEASE)
                .returning(
                    OutboxItem.id,
                    OutboxItem.delivery_id,
                    OutboxItem.channel,
                    OutboxItem.destination,
                    OutboxItem.payload,
                    OutboxItem.attempts,
                    OutboxItem.notice_id,
                )
            ).all()
        return sorted((Due(*row) for row in claimed), key=lambda d: d.id)

    def deliver_due(self) -> DeliveryStats:
        now = self.clock.now()
        due = self._claim(now)
        stats = DeliveryStats()
        if not due:
            return stats
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox")
        results = list(self._pool.map(self._send_one, due))
        self._record(due, results, stats)
        return stats

    def _send_one(self, item: Due) -> SendResult:
        try:
            return self.channels[item.channel].send(item)
        except Exception as exc:  # a broken channel must not lose the item: log and retry
            log.exception("sending outbox item %s failed", item.id)
            return SendResult(False, error=f"{type(exc).__name__}: {exc}")

    def _record(self, due: list[Due], results: list[SendResult], stats: DeliveryStats) -> None:
        """One transaction for the round: the attempts, then the items and their notices.
        Delivered and dead items are updated in one statement each (a bulk job's round is
        hundreds of deliveries); an item to retry gets its own backoff."""
        now = self.clock.now()
        delivered: list[Due] = []
        dead: list[tuple[Due, str | None]] = []
        retries: list[tuple[Due, SendResult]] = []
        for item, result in zip(due, results, strict=True):
            stats.sent += 1
            if result.ok:
                delivered.append(item)
            elif result.permanent or item.attempts + 1 >= self.max_attempts:
                dead.append((item, result.error))
            else:
                retries.append((item, result))
        stats.delivered += len(delivered)
        stats.dead += len(dead)
        stats.retrying += len(retries)
        attempt_rows = [
            {
                "outbox_id": item.id,
                "ts": now,
                "ok": result.ok,
                "status_code": result.status_code,
                "error": result.error,
                "duration_ms": result.duration_ms,
            }
            for item, result in zip(due, results, strict=True)
        ]
        with self.store.transaction() as session:
            session.execute(insert(OutboxAttempt), attempt_rows)
            if delivered:
                session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id.in_([item.id for item in delivered]))
                    .values(
                        attempts=OutboxItem.attempts + 1,
                        status="delivered",
                        delivered_at=now,
                        last_error=None,
                    )
                )
                _set_notices(session, delivered, status="sent", sent_at=now)
            for item, error in dead:  # each keeps its own last error
                session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id == item.id)
                    .values(attempts=item.attempts + 1, status="dead", last_error=error)
                )
            if dead:
                _set_notices(session, [item for item, _ in dead], status="failed")
            for item, result in retries:
                attempts = item.attempts + 1
                wait = backoff(attempts, self.backoff_s, result.retry_after_s)
                session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id == item.id)
                    .values(
                        attempts=attempts,
                        next_attempt_at=now + timedelta(seconds=wait),
                        last_error=result.error,
                    )
                )

    def drain(self, *, until: Callable[[], bool] | None = None) -> DeliveryStats:
        """Deliver rounds until nothing is due now (or `until` says stop)."""
        total = DeliveryStats()
        while until is None or not until():
            stats = self.deliver_due()
            total.add(stats)
            if stats.sent == 0:
                break
        return total

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for channel in self.channels.values():
            closer = getattr(channel, "close", None)
            if closer is not None:
                closer()


def _set_notices(session: Session, items: list[Due], **values: Any) -> None:
    """The notices these deliveries carried follow their outcome."""
    ids = [item.notice_id for item in items if item.notice_id is not None]
    if ids:
        session.execute(update(Notice).where(Notice.id.in_(ids)).values(**values))


class Worker:
    """The loop inside `abusedesk serve` and `abusedesk outbox run`: lift expired actions, then
    deliver what is due, every `every_s` seconds, until stopped."""

    def __init__(self, tick: Callable[[], object], *, every_s: float) -> None:
        self.tick = tick
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the loop outlives one bad round; the log has it
                log.exception("outbox round failed")
            self._stop.wait(self.every_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
