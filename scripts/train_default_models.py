"""Retrain the models shipped in the package from the shared data (../shared/data by default).

    .venv/bin/python scripts/train_default_models.py [DATA_DIR]

Writes src/abusedesk/content/models/{sms,email}-default.skops with their cross-validation
figures inside, and prints the figures as one JSON line per channel.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from abusedesk.content.datasets import read_dataset
from abusedesk.content.registry import shipped_path
from abusedesk.content.training import train

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
SOURCES = {
    "sms": (
        [str(DATA / "sms-spam-collection" / "train.tsv")],
        "SMS Spam Collection v.1 (CC BY 4.0)",
    ),
    "email": (
        [str(DATA / "spamassassin" / "ham.mbox.gz"), str(DATA / "spamassassin" / "spam.mbox.gz")],
        "SpamAssassin public corpus, easy_ham and spam (PDDL 1.0 / CC0 1.0)",
    ),
}

for channel in sys.argv[2:] or ["sms", "email"]:
    paths, source = SOURCES[channel]
    dataset = read_dataset(paths)
    model, figures = train(channel, dataset.samples)  # type: ignore[arg-type]
    figures["data"] = [Path(p).relative_to(DATA).as_posix() for p in paths]
    figures["source"] = source
    model.meta.update({"name": "default", "version": "shipped", "figures": figures})
    target = shipped_path(model.channel)
    model.save(target)
    summary = {k: v for k, v in figures.items() if k != "thresholds"}
    print(json.dumps({"channel": channel, "bytes": target.stat().st_size, **summary}), flush=True)  # noqa: T201
