"""The enforcement loop of a long-running process: lift expired actions, then deliver the
outbox. `abusedesk serve` runs it in a thread; `abusedesk outbox run` runs it in the foreground."""

from __future__ import annotations

import logging
from collections.abc import Callable

from abusedesk.enforcement.delivery import DeliveryStats, Outbox, Worker
from abusedesk.enforcement.services import Enforcement, do_expire_actions

log = logging.getLogger("abusedesk.enforcement")


def enforcement_round(
    make_enforcement: Callable[[], Enforcement], make_outbox: Callable[[], Outbox]
) -> tuple[list[int], DeliveryStats]:
    """One round: expire, then drain what is due. The outbox is built per round so a channel's
    connections do not outlive it."""
    expired = do_expire_actions(make_enforcement())
    outbox = make_outbox()
    try:
        stats = outbox.drain()
    finally:
        outbox.close()
    if expired or stats.sent:
        log.info(
            "enforcement round: %d expired, %d sent, %d delivered, %d retrying, %d dead",
            len(expired),
            stats.sent,
            stats.delivered,
            stats.retrying,
            stats.dead,
        )
    return expired, stats


def enforcement_worker(
    make_enforcement: Callable[[], Enforcement],
    make_outbox: Callable[[], Outbox],
    *,
    every_s: float,
) -> Worker:
    return Worker(lambda: enforcement_round(make_enforcement, make_outbox), every_s=every_s)
