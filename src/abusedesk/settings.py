"""Settings, declared once: typed, documented, validated at start.

Every field reads from an `ABUSEDESK_<NAME>` environment variable. docs/settings.md is generated
from this class (`python -m abusedesk.settings > docs/settings.md`) and a test fails when the two
disagree, so the documentation cannot fall behind the code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABUSEDESK_", extra="ignore", frozen=True)

    home: Path = Field(
        default=Path(".abusedesk"),
        description="Workspace folder: SQLite database, event lake, models and logs live here.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the relational store. Unset: SQLite at HOME/abusedesk.db. "
            "PostgreSQL: postgresql+psycopg://user@host:5432/dbname."
        ),
    )
    lake_dir: Path | None = Field(
        default=None,
        description="Folder of the Parquet event lake. Unset: HOME/lake.",
    )
    state_url: str = Field(
        default="memory://",
        description=(
            "Where windowed feature state lives: memory:// (in process) or redis://host:6379/0 "
            "when several workers share it."
        ),
    )
    rules_path: Path | None = Field(
        default=None,
        description="Rule pack file or folder used for detection. Unset: the shipped default playbook.",
    )
    ingest_batch_size: int = Field(
        # Registry rows grow with the distinct links in a batch, not its events: doubling the
        # batch from 50,000 measured about +20 % throughput for about +70 MB peak memory.
        default=100_000,
        ge=100,
        le=1_000_000,
        description="Events buffered before one write to the lake and the registry.",
    )
    max_line_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Longest accepted JSONL line or CSV row; longer ones are quarantined.",
    )
    ingest_max_future_s: int = Field(
        default=86_400,
        ge=0,
        description="Events timed more than this many seconds after the ingest clock are quarantined.",
    )
    ingest_max_past_days: int = Field(
        default=7_300,
        ge=1,
        le=36_500,
        description="Events timed more than this many days before the ingest clock are quarantined.",
    )
    max_quarantine_rows: int = Field(
        default=100_000,
        ge=0,
        description="Rejected records stored in the quarantine per ingest run; beyond it they are counted, not stored.",
    )
    max_message_bytes: int = Field(
        default=10_485_760,
        ge=1024,
        description="Largest accepted email (ARF report) or JSON document; larger ones are quarantined.",
    )
    max_mime_parts: int = Field(
        default=100,
        ge=3,
        description="Most MIME parts read from one email before it is quarantined (MIME bomb guard).",
    )
    sql_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Time limit of one `abusedesk sql` query, in seconds.",
    )
    sql_memory_limit_mb: int = Field(
        default=1024,
        ge=16,
        description="Memory cap of one `abusedesk sql` query (DuckDB memory_limit), in MiB; a "
        "query over it stops with an out-of-memory error (nothing spills to disk).",
    )
    investigate_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Time limit of each lake read behind an account 360 or an entity pivot, in "
        "seconds; a read over it answers 408 (code `timeout`).",
    )
    investigate_days: int = Field(
        default=30,
        ge=1,
        le=400,
        description="Days of traffic an account 360 shows, ending on the account's last event.",
    )
    investigate_sample_size: int = Field(
        default=20,
        ge=0,
        le=500,
        description="Most messages an account 360 or an entity pivot shows.",
    )
    investigate_common_entity: int = Field(
        default=50,
        ge=2,
        description="An entity shared by more accounts than this (a carrier's IP, a public mail "
        "domain) links nobody: linked-account searches list it as too common and skip it.",
    )
    feature_lateness_s: int = Field(
        default=3600,
        ge=0,
        description="How late (seconds behind the newest event a feature counted for the same "
        "key) an event may arrive and still be counted in its own window bucket; older ones are "
        "counted as dropped.",
    )
    api_host: str = Field(default="127.0.0.1", description="Address `abusedesk serve` binds to.")
    api_port: int = Field(
        default=8000, ge=1, le=65535, description="Port `abusedesk serve` binds to."
    )
    api_max_body_bytes: int = Field(
        default=33_554_432,
        ge=1024,
        description="Largest request body the API accepts (POST /v1/events); larger ones get 413.",
    )
    api_max_events: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Most events (array items or NDJSON lines) one POST /v1/events may carry; more get 413.",
    )
    api_max_rejections_shown: int = Field(
        default=100,
        ge=0,
        le=10_000,
        description="Rejected items a POST /v1/events answer lists (the first ones); the answer "
        "counts them all.",
    )
    api_auth_cache_s: float = Field(
        default=10.0,
        ge=0,
        description="How long the API trusts a checked token before looking it up again; a "
        "revoked token stops working within this time.",
    )
    account_map_path: Path | None = Field(
        default=None,
        description="Account map (YAML): which provider values (SendGrid IP pool, category, "
        "unique args; Mailgun tags, variables; SES configuration set, source ARN, tags; sender "
        "domain and IP) belong to which account, for payloads that name none. Unset: "
        "<home>/account_map.yaml when it exists. See docs/formats.md.",
    )
    queues_path: Path | None = Field(
        default=None,
        description="Queue file (YAML: roles, SLA by priority, routing, escalation). Unset: the "
        "shipped cases/queues.yaml.",
    )
    case_reopen_window_h: int = Field(
        default=72,
        ge=0,
        description="Hours after a no_violation close in which the same account and policy firing "
        "again opens a case linked to the closed one (0: never link).",
    )
    sla_at_risk_fraction: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="A case is at risk when less than this share of its SLA is left.",
    )
    case_message_sample: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Most messages frozen into a case's evidence sample.",
    )
    cli_actor: str = Field(
        default="cli",
        description="Name the CLI acts as in case work and the audit log (`--as` overrides): "
        "set it to your analyst name.",
    )
    log_level: str = Field(
        default="WARNING",
        description="Logging level: DEBUG, INFO, WARNING, ERROR. Logs are JSON lines on stderr, "
        "one per event of interest: WARNING and ERROR for problems (an event enrichment "
        "failed on, a failed write), INFO adds one line per ingest run and per batch that "
        "opened cases.",
    )
    policies_path: Path | None = Field(
        default=None,
        description="Policy catalogue (YAML) with the enforcement ladders. Unset: the shipped "
        "catalogue (src/abusedesk/policies/default.yaml).",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Where the platform receives a webhook per action (POST, JSON, signed). "
        "Unset: actions are recorded and no webhook is queued.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of the HMAC-SHA256 webhook signature (docs/enforcement.md). "
        "Required when ABUSEDESK_WEBHOOK_URL is set.",
    )
    outbox_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Delivery attempts before an outbox item goes to the dead letter.",
    )
    outbox_backoff_s: float = Field(
        default=5.0,
        gt=0,
        description="Wait before the first retry; it doubles with every failed attempt, up to "
        "one hour.",
    )
    outbox_concurrency: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Outbox deliveries in flight at once per worker.",
    )
    outbox_interval_s: float = Field(
        default=2.0,
        gt=0,
        description="How often the worker inside `abusedesk serve` looks for due deliveries and "
        "for temporary actions to lift.",
    )
    probation_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="How often the worker inside `abusedesk serve` measures accounts on "
        "probation on the lake and graduates or escalates those whose outcome is decided "
        "(`abusedesk probation run` does one sweep by hand).",
    )
    enforcement_cache_s: float = Field(
        default=2.0,
        gt=0,
        description="The decision API reads active restrictions from memory and reloads them "
        "this often (at once after a write through the same server).",
    )
    notice_templates_path: Path | None = Field(
        default=None,
        description="Folder of notice templates (<policy>/<action>.<part>.j2) searched before "
        "the shipped ones.",
    )
    notice_appeal_days: int = Field(
        default=21, ge=1, description="Days a notice gives the customer to appeal."
    )
    smtp_host: str = Field(default="localhost", description="SMTP server notices are sent through.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_from: str = Field(
        default="trust-safety@abusedesk.invalid", description="From address of notices by email."
    )
    zendesk_url: str | None = Field(
        default=None,
        description="Zendesk base URL (https://<subdomain>.zendesk.com) for notices as tickets. "
        "Unset: the zendesk channel is off.",
    )
    zendesk_email: str | None = Field(
        default=None, description="Agent email of the Zendesk API token (Basic auth)."
    )
    zendesk_token: SecretStr | None = Field(default=None, description="Zendesk API token.")
    bulk_approval_size: int = Field(
        default=25,
        ge=0,
        description="Bulk jobs touching more accounts than this need approval by a second person.",
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return upper

    @cached_property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_home / 'abusedesk.db'}"

    @cached_property
    def resolved_lake_dir(self) -> Path:
        return (self.lake_dir or self.resolved_home / "lake").expanduser().resolve()

    @cached_property
    def resolved_account_map_path(self) -> Path:
        return (self.account_map_path or self.resolved_home / "account_map.yaml").expanduser()

    def ensure_home(self) -> Path:
        """Make the home folder, private to the user: it holds message bodies and personal data.

        The process umask becomes 077, so every file the workspace writes afterwards (SQLite
        database and journal, lake Parquet, models, logs) is created 0600 and every folder
        0700, whichever library writes it; the home folder and its parts are set to 0700 too,
        in case they were made before (a folder of another owner is left as it is).
        """
        os.umask(0o077)
        home = self.resolved_home
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in ("", "lake", "models", "logs"):
            folder = home / sub
            folder.mkdir(mode=0o700, exist_ok=True)
            with contextlib.suppress(PermissionError):
                folder.chmod(0o700)
        return home


def settings_markdown() -> str:
    """The reference table of every setting, as docs/settings.md holds it."""
    lines = [
        "# Settings",
        "",
        "Generated from `abusedesk.settings.Settings` by `python -m abusedesk.settings`; do not edit",
        "by hand (a test compares). Each setting is read from the environment variable shown.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        annotation = str(field.annotation).replace("typing.", "").replace("pathlib.", "")
        annotation = annotation.replace("<class '", "").replace("'>", "").replace("|", "\\|")
        default = field.default
        shown = "(unset)" if default is None else f"`{default}`"
        lines.append(
            f"| `ABUSEDESK_{name.upper()}` | {annotation} | {shown} | {field.description} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - documentation generator
    sys.stdout.write(settings_markdown())
