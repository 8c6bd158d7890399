"""Pieces several SMS profiles share: sender numbers and the recipient's market."""

from __future__ import annotations

import random

from abusedesk.sim.actor import Actor
from abusedesk.sim.engine import EventSink
from abusedesk.sim.markets import NEIGHBOURS
from abusedesk.sim.numbers import mobile_pool


class NumberOwner(Actor):
    """An account that buys long codes in its home market and sends from them."""

    n_numbers = 2

    def setup(self, out: EventSink, ts: int) -> None:
        pool = mobile_pool(self.ident.country)
        self.numbers = [pool.random(self.rng) for _ in range(self.n_numbers)]
        for k, number in enumerate(self.numbers):
            self.account_event(out, ts + 30 * k, "number_purchased", phone_number=number)

    def sender(self) -> str:
        return (
            self.numbers[self.rng.randrange(len(self.numbers))] if self.numbers else "+15005550006"
        )


def destination_country(rng: random.Random, home: str, home_share: float) -> str:
    if rng.random() < home_share or home not in NEIGHBOURS:
        return home
    return rng.choice(NEIGHBOURS[home])


def short_code(rng: random.Random) -> str:
    return str(rng.randint(20000, 99999))


def alpha_sender(brand: str) -> str:
    """Alphanumeric sender id: at most 11 characters (GSM 03.40)."""
    return brand[:11].upper()
