"""Alembic environment. Migrations run on a connection handed in by storage.db (never a URL
read here), in batch mode so the same scripts alter SQLite tables."""

from __future__ import annotations

from alembic import context

from abusedesk.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `abusedesk db upgrade` runs migrations
    raise RuntimeError("run migrations through abusedesk.storage.db.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
