"""The enforcement loop of a long-running process: lift expired actions, then deliver the
outbox. `abusedesk serve` runs it in a thread; `abusedesk outbox run` runs it in the foreground."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from abusedesk.enforcement.delivery import DeliveryStats, Outbox, Worker
from abusedesk.enforcement.services import Enforcement, do_expire_actions

log = logging.getLogger("abusedesk.enforcement")


def enforcement_round(
    make_enforcement: Callable[[], Enforcement],
    make_outbox: Callable[[], Outbox],
    sweeps: Sequence[Callable[[], object]] = (),
) -> tuple[list[int], DeliveryStats]:
    """One round: expire, run the other sweeps (probation, from the layer above), then drain
    what is due, so a notice a sweep queued goes out in the same round. The outbox is built per
    round so a channel's connections do not outlive it."""
    expired = do_expire_actions(make_enforcement())
    for sweep in sweeps:
        try:
            sweep()
        except Exception:  # one failing sweep must not stop deliveries; the log has it
            log.exception("enforcement sweep failed")
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
    sweeps: Sequence[Callable[[], object]] = (),
) -> Worker:
    return Worker(lambda: enforcement_round(make_enforcement, make_outbox, sweeps), every_s=every_s)
