"""Content models: messages per second per core (SMS; email from raw bytes, MIME parsing
included), model size, training time and the cross-validation figures, as one JSON line.

    .venv/bin/python bench/content.py [--data ../shared/data] [--retrain] [--peer spamassassin]

Throughput is CPU time of this process (time.process_time), scoring in batches of 1,000 as
ingest hands batches to detection. The quality figures are those the shipped models were
trained with (5-fold CV, stored in the model file); --retrain runs the training and the
cross-validation again and reports its own time. --peer spamassassin (Debian package
`spamassassin`) runs SpamAssassin side by side on the email model's folds: Bayes trained on each
fold's training part, every --peer-stride-th test message checked, F1/FPR of both on the same
messages and SpamAssassin's CPU per message (bench/spamassassin_peer.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from abusedesk.content.datasets import Sample, read_dataset
from abusedesk.content.documents import email_document, sms_document
from abusedesk.content.registry import shipped_path
from abusedesk.content.scorer import model_at
from abusedesk.content.training import MAX_FPR, best_point, cross_validate, documents, train

sys.path.insert(0, str(Path(__file__).parent))

import spamassassin_peer

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1000


def rate(fn: Any, items: list[Any], repeat: int) -> float:
    """Items per CPU second of fn over batches of BATCH items."""
    started = time.process_time()
    for _ in range(repeat):
        for i in range(0, len(items), BATCH):
            fn(items[i : i + BATCH])
    return repeat * len(items) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--peer", choices=["spamassassin"])
    parser.add_argument("--peer-stride", type=int, default=1, help="check every Nth message")
    args = parser.parse_args()
    sms = read_dataset([str(args.data / "sms-spam-collection" / "train.tsv")]).samples
    mail = read_dataset(
        [
            str(args.data / "spamassassin" / "ham.mbox.gz"),
            str(args.data / "spamassassin" / "spam.mbox.gz"),
        ]
    ).samples
    result: dict[str, Any] = {}
    for channel, samples in (("sms", sms), ("email", mail)):
        path = shipped_path(channel)
        model = model_at(path)
        if model is None:
            raise SystemExit(f"no shipped {channel} model at {path}")
        figures = model.meta.get("figures", {})
        if args.retrain:
            started = time.process_time()
            _, figures = train(channel, samples)
            figures["training_cpu_seconds"] = round(time.process_time() - started, 1)
        if channel == "sms":
            texts = [s.text or "" for s in samples]
            speed = rate(
                lambda batch, m=model: m.scores([sms_document(t) for t in batch]), texts, 5
            )
        else:
            raws = [s.raw or b"" for s in samples]
            speed = rate(
                lambda batch, m=model: m.scores([email_document(r) for r in batch]), raws, 2
            )
        best = figures.get("operating_point", {})
        result[channel] = {
            "messages_per_s_per_core": round(speed),
            "model_bytes": path.stat().st_size,
            "features": len(model.featurizer.names),
            "training_seconds": figures.get("training_seconds"),
            "training_cpu_seconds": figures.get("training_cpu_seconds"),
            "cv_folds": figures.get("folds"),
            "cv_f1": best.get("f1"),
            "cv_precision": best.get("precision"),
            "cv_recall": best.get("recall"),
            "cv_fpr": best.get("fpr"),
            "cv_max_fpr": figures.get("max_fpr"),
            "cv_roc_auc": figures.get("roc_auc"),
            "threshold": model.threshold,
        }
    if args.peer == "spamassassin":
        result["peer"] = peer_spamassassin(mail, args.peer_stride)
    print(json.dumps(result))


def peer_spamassassin(mail: list[Sample], stride: int) -> dict[str, Any]:
    """SpamAssassin and our email model on the same folds and messages."""
    if not spamassassin_peer.available():
        raise SystemExit(
            "--peer spamassassin needs the Debian package: apt-get install spamassassin"
        )
    labels = [s.label for s in mail]
    ours = cross_validate("email", documents("email", mail), labels)
    threshold = best_point(np.asarray(labels), ours, MAX_FPR["email"]).threshold
    raws = [s.raw or b"" for s in mail]
    return spamassassin_peer.side_by_side(raws, labels, ours, threshold, stride=stride)


if __name__ == "__main__":
    main()
