"""A workspace: the settings, the relational store and the lake of one abusedesk home.

CLI commands, the API and tests build one `Workspace` and ask it for services; nothing else
reads settings or opens databases on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from abusedesk.analytics.lake import LakeReader
from abusedesk.clock import Clock, SystemClock
from abusedesk.detection.features import FeatureStore, MemoryStore
from abusedesk.errors import ConfigError
from abusedesk.events.adapters.base import Limits
from abusedesk.events.ingest import BatchConsumer, Ingestor
from abusedesk.settings import Settings
from abusedesk.storage.db import Store

if TYPE_CHECKING:
    from abusedesk.content.registry import ModelRegistry
    from abusedesk.content.scorer import ContentScorer
    from abusedesk.detection.engine import DetectionEngine
    from abusedesk.detection.stream import DetectionConsumer


class Workspace:
    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()
        self.settings.ensure_home()

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.resolved_database_url)

    @property
    def lake_dir(self) -> Path:
        path = self.settings.resolved_lake_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def limits(self) -> Limits:
        s = self.settings
        return Limits(s.max_line_bytes, s.max_message_bytes, s.max_mime_parts)

    def ingestor(
        self,
        *,
        consumers: Sequence[BatchConsumer] = (),
        actor: str = "cli",
        origin: str = "cli",
    ) -> Ingestor:
        return Ingestor(
            self.store,
            self.lake_dir,
            limits=self.limits,
            batch_size=self.settings.ingest_batch_size,
            clock=self.clock,
            consumers=consumers,
            actor=actor,
            origin=origin,
        )

    def feature_store(self) -> FeatureStore:
        url = self.settings.state_url
        lateness = self.settings.feature_lateness_s
        if url.startswith("memory:"):
            return MemoryStore(lateness_s=lateness)
        if url.startswith(("redis://", "rediss://", "unix://")):
            from redis import Redis

            from abusedesk.detection.features.redis_store import RedisStore

            return RedisStore(Redis.from_url(url), lateness_s=lateness)
        raise ConfigError(f"ABUSEDESK_STATE_URL must be memory:// or redis://…, not {url!r}")

    def detection_engine(self) -> DetectionEngine:
        from abusedesk.detection.engine import DetectionEngine

        return DetectionEngine.load(
            self.settings.rules_path, self.feature_store(), scorer=self.content_scorer()
        )

    def model_registry(self) -> ModelRegistry:
        from abusedesk.content.registry import ModelRegistry

        return ModelRegistry(self.settings.resolved_home / "models")

    def content_scorer(self) -> ContentScorer:
        """Scores messages with the promoted model of each channel (the shipped one if none)."""
        from abusedesk.content.scorer import ContentScorer

        return ContentScorer.for_registry(self.model_registry())

    def detection_consumer(self, engine: DetectionEngine | None = None) -> DetectionConsumer:
        from abusedesk.detection.stream import DetectionConsumer

        return DetectionConsumer(engine or self.detection_engine(), self.store, self.clock)

    def lake_reader(self, *, locked: bool = False) -> LakeReader:
        return LakeReader(self.lake_dir, locked=locked)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
