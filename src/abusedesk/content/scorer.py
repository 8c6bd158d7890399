"""`spam_score` for a `message` event: the channel's model over the event's text.

One scorer serves streaming detection, the decision API and backtests (which rebuild rows from
the lake's events with the same code), so a rule reads the same score in all three. Models load
on first use and are cached per file; a channel without a model file scores NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from abusedesk.content.documents import CHANNELS, Channel, event_document
from abusedesk.content.model import ContentModel, load_model
from abusedesk.content.registry import ModelRegistry, shipped_path


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

    def __call__(self, data: Mapping[str, Any]) -> float | None:
        """The spam probability of a message event's fields, or None."""
        found = event_document(data)
        if found is None:
            return None
        channel, document = found
        model = self.model(channel)
        return None if model is None else round(model.score(document), 6)


@lru_cache(maxsize=1)
def shipped_scorer() -> ContentScorer:
    return ContentScorer.shipped()
