"""`spam_score` for a `message` event: the channel's model over the event's text.

One scorer serves streaming detection, the decision API and backtests (which rebuild rows from
the lake's events with the same code), so a rule reads the same score in all three. Models load
on first use and are cached per file; a channel without a model file scores NULL.

Scores are memoised per distinct document, i.e. per normalised text and header tokens, which is
what the model reads: campaign, template and notification traffic repeats (on the simulator's
day, 41,000 message events are 3,900 distinct documents), and a hit costs a dict look-up where
a miss costs featurising a few hundred n-grams. The memo is bounded (least recently used
dropped), per scorer, so a scorer built for newly promoted models starts empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from abusedesk.content.documents import (
    CHANNELS,
    MODEL_OF_CHANNEL,
    Channel,
    Document,
    email_key,
    event_document,
)
from abusedesk.content.model import ContentModel, load_model
from abusedesk.content.registry import ModelRegistry, shipped_path

# Distinct documents whose scores are kept: ~3 MB of texts at the email model's 3,000
# characters, and far more than a day of the simulator's distinct templates.
MEMO_SIZE: Final = 1 << 14
_UNSEEN: Final = object()


@lru_cache(maxsize=8)
def _cached(path: Path, mtime: float) -> ContentModel:
    del mtime  # part of the cache key: a file replaced in place is loaded again
    return load_model(path)


def model_at(path: Path) -> ContentModel | None:
    return _cached(path, path.stat().st_mtime) if path.exists() else None


class ContentScorer:
    """Scores message events with one model per channel (paths fixed at construction)."""

    def __init__(self, paths: Mapping[Channel, Path]) -> None:
        self.paths = dict(paths)
        self._models: dict[Channel, ContentModel | None] = {}
        # functools.lru_cache: bounded, thread-safe (the API and ingest threads share a
        # scorer) and in C, so a hit costs well under a microsecond.
        self._memo = lru_cache(maxsize=MEMO_SIZE)(self._score)
        self._by_key: dict[tuple[Any, ...], float | None] = {}

    @classmethod
    def shipped(cls) -> ContentScorer:
        return cls({channel: shipped_path(channel) for channel in CHANNELS})

    @classmethod
    def for_registry(cls, registry: ModelRegistry) -> ContentScorer:
        return cls({channel: registry.active_path(channel) for channel in CHANNELS})

    def model(self, channel: Channel) -> ContentModel | None:
        if channel not in self._models:
            path = self.paths.get(channel)
            self._models[channel] = model_at(path) if path is not None else None
        return self._models[channel]

    def load(self) -> None:
        """Load every channel's model now (a second or two, once per process) rather than on
        the first message: the engine does this when its pack reads `spam_score`."""
        for channel in CHANNELS:
            self.model(channel)

    def __call__(self, data: Mapping[str, Any]) -> float | None:
        """The spam probability of a message event's fields, or None."""
        # An email's score is first looked up on its key (documents.email_key: equal keys,
        # equal documents): building the document (headers, both texts, header tokens) cost
        # three times the look-up. A plain dict, emptied when full: a hit is one dict get.
        key = email_key(data) if MODEL_OF_CHANNEL.get(str(data.get("channel"))) == "email" else None
        if key is not None:
            score = self._by_key.get(key, _UNSEEN)
            if score is not _UNSEEN:
                return score  # type: ignore[return-value]  # only floats and None are stored
        found = event_document(data)
        score = None if found is None else self._memo(*found)
        if key is not None:
            if len(self._by_key) >= MEMO_SIZE:
                self._by_key.clear()
            self._by_key[key] = score
        return score

    def _score(self, channel: Channel, document: Document) -> float | None:
        model = self.model(channel)
        return None if model is None else round(model.score(document), 6)


@lru_cache(maxsize=1)
def shipped_scorer() -> ContentScorer:
    return ContentScorer.shipped()
