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

from abusedesk.content.documents import CHANNELS, Channel, Document, event_document
from abusedesk.content.model import ContentModel, load_model
from abusedesk.content.registry import ModelRegistry, shipped_path

# Distinct documents whose scores are kept: ~3 MB of texts at the email model's 3,000
# characters, and far more than a day of the simulator's distinct templates.
MEMO_SIZE: Final = 1 << 14


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
        found = event_document(data)
        if found is None:
            return None
        return self._memo(*found)

    def _score(self, channel: Channel, document: Document) -> float | None:
        model = self.model(channel)
        return None if model is None else round(model.score(document), 6)


@lru_cache(maxsize=1)
def shipped_scorer() -> ContentScorer:
    return ContentScorer.shipped()
