"""Training and measuring content models: documents from samples, k-fold cross-validation,
the figures at an operating point, a threshold table and a precision-recall plot.

Quality is measured on out-of-fold scores: each message is scored by the model trained on the
other k-1 folds, then the pooled scores give precision, recall, F1, the false-positive rate and
ROC AUC. The operating threshold is the one with the best F1 among those whose false-positive
rate stays within the bound (0.5 % for SMS, 1 % for email by default); it is chosen on the
same pooled scores it is reported on, as a threshold table read by a person would be.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from abusedesk.content.datasets import Sample
from abusedesk.content.documents import Channel, Document, email_document, sms_document
from abusedesk.content.mime import Mail, decode_header
from abusedesk.content.model import ContentModel
from abusedesk.errors import InputError

MAX_FPR: Final[dict[Channel, float]] = {"sms": 0.005, "email": 0.01}
TABLE_THRESHOLDS: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def document(channel: Channel, sample: Sample) -> Document:
    if channel == "email":
        if sample.raw is not None:
            return email_document(sample.raw)
        from abusedesk.content.documents import mail_document

        mail = Mail(subject=decode_header(sample.subject or ""), text=sample.text or "")
        mail.plain = True
        return mail_document(mail)
    if sample.text is not None:
        return sms_document(sample.text)
    return sms_document(email_document(sample.raw or b"").text)


def documents(channel: Channel, samples: Sequence[Sample]) -> list[Document]:
    return [document(channel, s) for s in samples]


@dataclass(frozen=True)
class Point:
    threshold: float
    precision: float
    recall: float
    f1: float
    fpr: float

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 5) for k, v in self.__dict__.items()}


def point(labels: NDArray[np.int_], scores: NDArray[np.float64], threshold: float) -> Point:
    predicted = scores >= threshold
    tp = int(np.sum(predicted & (labels == 1)))
    fp = int(np.sum(predicted & (labels == 0)))
    positives = int(np.sum(labels == 1))
    negatives = len(labels) - positives
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Point(threshold, precision, recall, f1, fp / negatives if negatives else 0.0)


def best_point(labels: NDArray[np.int_], scores: NDArray[np.float64], max_fpr: float) -> Point:
    """The threshold with the best F1 whose false-positive rate is at most `max_fpr`."""
    best = point(labels, scores, 1.0 + 1e-9)
    for threshold in np.unique(scores):
        candidate = point(labels, scores, float(threshold))
        if candidate.fpr <= max_fpr and candidate.f1 > best.f1:
            best = candidate
    return best


def roc_auc(labels: NDArray[np.int_], scores: NDArray[np.float64]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def cross_validate(
    channel: Channel,
    docs: Sequence[Document],
    labels: Sequence[int],
    *,
    folds: int = 5,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Out-of-fold spam probabilities, stratified k-fold."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    if min(int(np.sum(y == 1)), int(np.sum(y == 0))) < folds:
        raise InputError(f"cross-validation needs at least {folds} messages of each class")
    scores = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(y, y):
        model = ContentModel.fit(channel, [docs[i] for i in train], y[train])
        scores[test] = model.scores([docs[i] for i in test])
    return scores


def report(
    channel: Channel, labels: Sequence[int], scores: NDArray[np.float64], *, max_fpr: float | None
) -> dict[str, Any]:
    """The figures of one set of scores: at the best threshold within `max_fpr`, ROC AUC and a
    threshold table."""
    y = np.asarray(labels)
    bound = MAX_FPR[channel] if max_fpr is None else max_fpr
    best = best_point(y, scores, bound)
    return {
        "messages": len(y),
        "positives": int(np.sum(y == 1)),
        "max_fpr": bound,
        "operating_point": best.to_json(),
        "roc_auc": round(roc_auc(y, scores), 5) if 0 < int(np.sum(y)) < len(y) else None,
        "thresholds": [point(y, scores, t).to_json() for t in TABLE_THRESHOLDS],
    }


def train(
    channel: Channel, samples: Sequence[Sample], *, folds: int = 5, max_fpr: float | None = None
) -> tuple[ContentModel, dict[str, Any]]:
    """A model on every sample, with the threshold and figures from k-fold cross-validation
    (folds=0 skips it and keeps the threshold at 0.5)."""
    started = time.perf_counter()
    docs = documents(channel, samples)
    labels = [s.label for s in samples]
    figures: dict[str, Any] = {}
    threshold = 0.5
    if folds:
        scores = cross_validate(channel, docs, labels, folds=folds)
        figures = report(channel, labels, scores, max_fpr=max_fpr)
        figures["folds"] = folds
        threshold = float(figures["operating_point"]["threshold"])
    model = ContentModel.fit(channel, docs, labels)
    model.threshold = threshold
    figures["training_seconds"] = round(time.perf_counter() - started, 2)
    figures["features"] = len(model.featurizer.names)
    return model, figures


def pr_plot(labels: Sequence[int], scores: NDArray[np.float64], path: Path, title: str) -> None:
    """A precision-recall curve as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(np.asarray(labels), scores)
    figure, axes = plt.subplots(figsize=(5, 4), dpi=100)
    axes.plot(recall, precision)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
