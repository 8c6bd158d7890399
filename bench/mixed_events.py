"""Deterministic mixed canonical events for benchmarks (every type of docs/events.md)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

START = datetime(2026, 3, 2, tzinfo=UTC)
BODIES = (
    "Your verification code is {n}. Do not share it.",
    "Hi {name}, your order #{n} has shipped. Track: https://shop.example.com/t/{n}",
    "FLASH SALE 30% off today only! Reply STOP to opt out",
    "Reminder: appointment tomorrow at 10:00. Reply C to confirm.",
)
NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Femi")
COUNTRIES = ("+1415", "+44797", "+4915", "+3361", "+5511", "+9198", "+52155", "+37122")


def events(n: int, seed: int = 1, accounts: int = 2000) -> Iterator[dict[str, object]]:
    """Like real traffic, each account keeps to its own few numbers, API keys and IPs."""
    rng = random.Random(seed)
    for i in range(n):
        index = rng.randrange(accounts)
        account = f"AC{index:032x}"
        ts = START + timedelta(seconds=i * 3 + rng.randrange(3))
        stamp = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        roll = rng.random()
        to = f"{rng.choice(COUNTRIES)}{rng.randrange(10**6, 10**7)}"
        base: dict[str, object] = {"id": f"evt_{seed}_{i}", "ts": stamp, "account_id": account}
        if roll < 0.45:
            body = rng.choice(BODIES).format(n=rng.randrange(10**5, 10**6), name=rng.choice(NAMES))
            base.update(
                type="message",
                message_id=f"SM{i:032x}",
                channel="sms",
                to=to,
                body=body,
                segments=1,
                price=0.0079,
                sender_ip=f"198.51.{index % 200}.{rng.randrange(2)}",
                api_key_id=f"SK{index:08x}{rng.randrange(2)}",
            )
            base["from"] = f"+1415{index:07d}"[:12]
        elif roll < 0.85:
            status = rng.choice(("delivered",) * 8 + ("undelivered", "failed"))
            base.update(type="delivery", message_id=f"SM{i - 1:032x}", status=status)
            if status != "delivered":
                base["error_code"] = rng.choice(("30003", "30005", "30007"))
        elif roll < 0.93:
            stage = rng.choice(("start", "check"))
            base.update(type="verification", verification_id=f"VE{i:08x}", stage=stage, to=to)
            if stage == "check":
                base["success"] = rng.random() < 0.9
        elif roll < 0.96:
            base.update(type="opt_out", recipient=to, keyword="STOP", channel="sms")
        elif roll < 0.98:
            base.update(
                type="account",
                action=rng.choice(("login", "api_key_created", "signup")),
                ip=f"203.0.{index % 200}.{rng.randrange(3)}",
                device_id=f"dev-{index}",
            )
        elif roll < 0.99:
            base.update(type="complaint", source="carrier", recipient=to)
        else:
            base.update(type="call", call_id=f"CA{i:032x}", to=to, duration_s=rng.randrange(5, 300))
            base["from"] = "+14155550100"
        yield base


def write(path: Path, n: int, seed: int = 1) -> Path:
    with path.open("wb") as fh:
        for event in events(n, seed):
            fh.write(orjson.dumps(event) + b"\n")
    return path
