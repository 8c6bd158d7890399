"""Benchmark: enrichment throughput and per-event latency on realistic message traffic.

Builds N message events (default 200,000): SMS to numbers in 20 countries with bodies sampled
from the SMS Spam Collection, one-time-passcode messages with a fresh random code each (so the
body text itself almost never repeats), marketing messages with a first name and a tracked link,
and emails with Authentication-Results and List-Unsubscribe headers. Recipients come from a pool
of 20,000 numbers (a subscriber base, with repeats as in real traffic); senders from a few
hundred numbers, short codes, sender ids and addresses.

Throughput: the events run through one Enricher from empty caches, timed as a whole; repeated
(--repeat, default 3) and the best run reported, because the machine is shared and a run that
another process preempts measures that process. Latency: one more pass from empty caches that
times every 5th event alone with perf_counter_ns (p50 / p99; the cold misses are in the tail).
Prints one JSON line.

    .venv/bin/python bench/enrich.py [--events N] [--data path/to/train.tsv] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import string
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers

from abusedesk.enrich import Enricher
from abusedesk.events.schema import Event, validate_event

DEFAULT_DATA = Path("/work/shared/data/sms-spam-collection/train.tsv")
COUNTRIES = (
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "MX", "IN",
    "ID", "NG", "KE", "PH", "RU", "AU", "CA", "LV", "PK", "VN",
)  # fmt: skip
# Rough share of SMS by destination: mostly North America and Europe, a long tail elsewhere.
COUNTRY_WEIGHTS = (30, 10, 6, 5, 4, 4, 3, 6, 4, 6, 3, 2, 2, 2, 2, 3, 4, 1, 2, 1)
OTP_TEMPLATES = (
    "Your {brand} verification code is {code}. Do not share it with anyone.",
    "{code} is your {brand} code",
    "G-{code} is your Google verification code.",
    "Tu código de verificación de {brand} es {code}",
    "Votre code de vérification {brand} : {code}",
    "[{brand}] Your login code: {code}. Expires in 10 minutes.",
)
MARKETING_TEMPLATES = (
    "Hi {name}, your order {order} has shipped! Track it: https://shop.example.com/t/{order}",
    "Hey {name}! Flash sale: 30% off everything today only. https://bit.ly/{slug} Reply STOP to opt out",
    "Dear {name}, your appointment is confirmed for tomorrow at 10:00. Reply C to cancel.",
)  # fmt: skip
BRANDS = ("Acme", "Shopify", "Uber", "Bolt", "Revolut", "Tinder", "Airbnb")
NAMES = ("John", "Mary", "Ahmed", "Priya", "Lucas", "Sofia", "Chen", "Olga", "Kwame", "Ana")
EMAIL_HEADERS = {
    "Authentication-Results": (
        "amazonses.com; spf=pass (spf: domain of mail.example.com designates 198.51.100.7 as "
        "permitted sender) smtp.mailfrom=bounce.example.com; dkim=pass header.i=@example.com; "
        "dmarc=pass header.from=example.com"
    ),
    "List-Unsubscribe": "<https://example.com/u/abc>, <mailto:unsub@example.com>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def load_bodies(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 1)[1] for line in lines if "\t" in line]


def number_pool(rng: random.Random, size: int) -> list[str]:
    """Valid mobile numbers: each country's example number with its last 4 digits varied."""
    pool: list[str] = []
    total = sum(COUNTRY_WEIGHTS)
    for region, weight in zip(COUNTRIES, COUNTRY_WEIGHTS, strict=True):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        pool.extend(f"{e164[:-4]}{rng.randrange(10000):04d}" for _ in range(size * weight // total))
    return pool


def build_events(count: int, bodies: list[str], rng: random.Random) -> list[Event]:
    recipients = number_pool(rng, 20_000)
    senders = (
        [f"+1415555{rng.randrange(10000):04d}" for _ in range(200)]
        + [str(rng.randrange(10000, 99999)) for _ in range(50)]
        + ["ACME", "MyBank", "Uber", "DHL", "Verify"]
    )
    email_from = [f"news{i}@brand{i}.example.com" for i in range(50)] + ["promo@gmail.com"]
    email_to = [f"user{i}@{d}" for i in range(2000) for d in ("gmail.com", "yahoo.co.uk")]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    events: list[Event] = []
    for i in range(count):
        ts = (start + timedelta(seconds=rng.randrange(86400))).isoformat()
        roll = rng.random()
        raw: dict[str, Any] = {"id": f"e{i}", "type": "message", "ts": ts, "account_id": "AC1"}
        if roll < 0.10:
            raw |= {
                "message_id": f"E{i}",
                "channel": "email",
                "from": rng.choice(email_from),
                "to": rng.choice(email_to),
                "subject": "Your weekly update",
                "body": rng.choice(bodies),
                "headers": EMAIL_HEADERS,
            }
        else:
            if roll < 0.35:
                body = rng.choice(OTP_TEMPLATES).format(
                    brand=rng.choice(BRANDS), code=f"{rng.randrange(10**6):06d}"
                )
            elif roll < 0.45:
                body = rng.choice(MARKETING_TEMPLATES).format(
                    name=rng.choice(NAMES),
                    order=rng.randrange(10**7),
                    slug="".join(rng.choices(string.ascii_letters, k=6)),
                )
            else:
                body = rng.choice(bodies)
            raw |= {
                "message_id": f"SM{i}",
                "channel": "sms",
                "from": rng.choice(senders),
                "to": rng.choice(recipients),
                "body": body,
            }
        events.append(validate_event(raw))
    return events


def percentile(sorted_values: list[int], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return float(sorted_values[index])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample-every", type=int, default=5, help="latency sample rate")
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs (best reported)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    events = build_events(args.events, load_bodies(args.data), rng)
    enricher = Enricher()
    # The 200,000 prepared events are a benchmark artefact (a worker holds one event at a time):
    # keep the cyclic GC from walking them on every collection. Caches filled later stay tracked.
    gc.collect()
    gc.freeze()

    # Throughput, from empty caches: the first sight of every number, sender and body template
    # is paid inside the timed loop, as in a freshly started worker.
    enrich = enricher.enrich
    elapsed = float("inf")
    for _ in range(max(1, args.repeat)):
        enricher.cache_clear()
        started = time.perf_counter()
        for event in events:
            enrich(event)
        elapsed = min(elapsed, time.perf_counter() - started)

    # Per-event latency on every k-th event, again from empty caches.
    enricher.cache_clear()
    clock = time.perf_counter_ns
    every = max(1, args.sample_every)
    latencies: list[int] = []
    for index, event in enumerate(events):
        if index % every:
            enrich(event)
        else:
            t0 = clock()
            enrich(event)
            latencies.append(clock() - t0)
    latencies.sort()

    print(
        json.dumps(
            {
                "bench": "enrich",
                "events": len(events),
                "events_per_s": round(len(events) / elapsed),
                "p50_us": round(percentile(latencies, 0.50) / 1000, 2),
                "p99_us": round(percentile(latencies, 0.99) / 1000, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )
    if enricher.failures:
        print(f"warning: {enricher.failures} events failed to enrich", file=sys.stderr)


if __name__ == "__main__":
    main()
