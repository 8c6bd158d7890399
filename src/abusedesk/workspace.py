"""A workspace: the settings, the relational store and the lake of one abusedesk home.

CLI commands, the API and tests build one `Workspace` and ask it for services; nothing else
reads settings or opens databases on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from abusedesk.cases.desk import Desk
from abusedesk.cases.intake import ReportIntake
from abusedesk.clock import Clock, SystemClock
from abusedesk.detection.features import FeatureStore, MemoryStore
from abusedesk.errors import ConfigError
from abusedesk.events.account_map import load_account_map
from abusedesk.events.adapters.base import Limits
from abusedesk.lake.reader import LakeReader
from abusedesk.pipeline.ingest import BatchConsumer, Ingestor
from abusedesk.settings import Settings
from abusedesk.storage.db import Store

if TYPE_CHECKING:
    from abusedesk.content.registry import ModelRegistry
    from abusedesk.content.scorer import ContentScorer
    from abusedesk.detection.engine import DetectionEngine
    from abusedesk.enforcement.delivery import Outbox
    from abusedesk.enforcement.services import Enforcement
    from abusedesk.investigate.lake_reads import AccountLake
    from abusedesk.notices.render import NoticeRenderer
    from abusedesk.pipeline.signals import DetectionConsumer
    from abusedesk.policies.catalogue import Catalogue
    from abusedesk.probation.services import SweepResult


class Workspace:
    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()
        self.settings.ensure_home()

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.resolved_database_url)

    @cached_property
    def desk(self) -> Desk:
        """Queues, SLA and case bounds (checked when first used)."""
        return Desk.from_settings(self.settings)

    @property
    def lake_dir(self) -> Path:
        path = self.settings.resolved_lake_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def limits(self) -> Limits:
        s = self.settings
        return Limits(
            s.max_line_bytes,
            s.max_message_bytes,
            s.max_mime_parts,
            s.ingest_max_future_s,
            s.ingest_max_past_days,
            s.max_quarantine_rows,
        )

    def ingestor(
        self,
        *,
        consumers: Sequence[BatchConsumer] = (),
        actor: str = "cli",
        origin: str = "cli",
        beside_decisions: bool = False,
    ) -> Ingestor:
        """`beside_decisions`: True in the API server (see Ingestor)."""
        return Ingestor(
            self.store,
            self.lake_dir,
            limits=self.limits,
            batch_size=self.settings.ingest_batch_size,
            clock=self.clock,
            # Reports are routed to cases after detection has seen the batch, so a report and
            # the signal its rule raises land on the same case.
            consumers=[*consumers, self.report_intake()],
            actor=actor,
            origin=origin,
            account_map=load_account_map(self.settings.resolved_account_map_path),
            beside_decisions=beside_decisions,
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

    def detection_consumer(
        self, engine: DetectionEngine | None = None, *, rebuild_after_crash: bool = False
    ) -> DetectionConsumer:
        from abusedesk.pipeline.signals import DetectionConsumer

        return DetectionConsumer(
            engine or self.detection_engine(),
            self.store,
            self.clock,
            desk=self.desk,
            rebuild_after_crash=rebuild_after_crash,
        )

    def report_intake(self) -> ReportIntake:
        def message_owner(message_id: str) -> str | None:
            with self.lake_reader() as reader:
                return reader.accounts_for_message_ids([message_id]).get(message_id)

        return ReportIntake(self.store, self.clock, self.desk, message_owner)

    @cached_property
    def catalogue(self) -> Catalogue:
        from abusedesk.policies.catalogue import load_catalogue

        return load_catalogue(self.settings.policies_path)

    def enforcement(self) -> Enforcement:
        from abusedesk.enforcement.services import Enforcement

        url = self.settings.webhook_url
        if url and self.settings.webhook_secret is None:
            raise ConfigError("ABUSEDESK_WEBHOOK_URL is set but ABUSEDESK_WEBHOOK_SECRET is not")
        return Enforcement(self.store, self.clock, self.catalogue, url)

    def outbox(self) -> Outbox:
        """The outbox worker with a channel for each destination configured."""
        from abusedesk.enforcement.delivery import Channel, Outbox, WebhookChannel

        s = self.settings
        channels: dict[str, Channel] = {}
        if s.webhook_secret is not None:
            channels["webhook"] = WebhookChannel(s.webhook_secret.get_secret_value(), self.clock)
        from abusedesk.notices.channels.smtp import SmtpChannel

        channels["email"] = SmtpChannel(s.smtp_host, s.smtp_port, s.smtp_from)
        if s.zendesk_url and s.zendesk_email and s.zendesk_token is not None:
            from abusedesk.notices.channels.zendesk import ZendeskChannel

            channels["zendesk"] = ZendeskChannel(
                s.zendesk_url, s.zendesk_email, s.zendesk_token.get_secret_value()
            )
        return Outbox(
            self.store,
            self.clock,
            channels,
            max_attempts=s.outbox_max_attempts,
            backoff_s=s.outbox_backoff_s,
            concurrency=s.outbox_concurrency,
        )

    def notice_renderer(self) -> NoticeRenderer:
        from abusedesk.notices.render import NoticeRenderer

        return NoticeRenderer(self.settings.notice_templates_path)

    def run_probations(self, actor: str = "system:probation") -> list[SweepResult]:
        """One probation sweep: measure on the lake, graduate or escalate (probation/)."""
        from abusedesk.probation.services import do_run_probations

        with self.lake_reader() as reader:
            return do_run_probations(
                self.enforcement(), self.notice_renderer(), self.desk, reader, actor=actor
            )

    def lake_reader(self, *, locked: bool = False) -> LakeReader:
        """A reader of the lake; `locked` is the one user SQL runs on, with its memory cap."""
        if locked:
            return LakeReader(
                self.lake_dir, locked=True, memory_limit_mb=self.settings.sql_memory_limit_mb
            )
        return LakeReader(self.lake_dir)

    def account_lake(self) -> AccountLake:
        """The investigation's reader of the lake, with its time limit: one per workspace,
        because opening one (a DuckDB connection and its views) costs 0.25-0.5 s."""
        lake = self.__dict__.get("_account_lake")
        if lake is None:
            from abusedesk.investigate.lake_reads import AccountLake

            lake = AccountLake(self.lake_dir, timeout_s=self.settings.investigate_timeout_s)
            self.__dict__["_account_lake"] = lake
        return lake

    def close(self) -> None:
        if (lake := self.__dict__.pop("_account_lake", None)) is not None:
            lake.close()
        if "store" in self.__dict__:
            self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
