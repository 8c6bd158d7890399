"""Campaign purity on the simulator: do campaigns group the snowshoe and smishing accounts and
keep unrelated legitimate senders apart?

Prints one JSON line: campaigns of at least two accounts, accounts grouped, purity (accounts of
each campaign's majority label over accounts grouped), and each campaign's labels.

    python bench/campaign_purity.py [--days 2] [--seed 3] [--scale 0.2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

from abusedesk.content.campaigns import group_campaigns
from abusedesk.sim.generator import generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, days=args.days, seed=args.seed, scale=args.scale)
        labels = orjson.loads((folder / "labels.json").read_bytes())
        messages = []
        with (folder / "events.jsonl").open("rb") as fh:
            for line in fh:
                event = orjson.loads(line)
                if event.get("type") == "message":
                    messages.append(event)  # flat: account_id, from, body, ... (ts unparsed)
    started = time.perf_counter()
    campaigns = group_campaigns(messages)
    elapsed = time.perf_counter() - started
    grouped = majority = 0
    shown = []
    for campaign in campaigns:
        kinds = Counter(labels.get(a, "unknown") for a in campaign.accounts)
        grouped += len(campaign.accounts)
        majority += kinds.most_common(1)[0][1]
        shown.append(dict(sorted(kinds.items())))
    print(
        json.dumps(
            {
                "bench": "campaign_purity",
                "messages": len(messages),
                "seconds": round(elapsed, 2),
                "campaigns": len(campaigns),
                "accounts_grouped": grouped,
                "purity": round(majority / grouped, 3) if grouped else None,
                "labels": shown,
            }
        )
    )


if __name__ == "__main__":
    main()
