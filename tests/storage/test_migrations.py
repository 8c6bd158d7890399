"""Migrations: the models and the migration scripts agree; up and down both work; the audit
log is append-only on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from abusedesk.storage import db
from abusedesk.storage.models import Base
from abusedesk.workspace import Workspace


def test_models_match_the_migrations(workspace: Workspace) -> None:
    with workspace.store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(workspace: Workspace) -> None:
    engine = workspace.store.engine
    db.downgrade(engine, "base")
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()


def test_roles_are_seeded(workspace: Workspace) -> None:
    with workspace.store.sessions() as session:
        roles = set(session.execute(text("SELECT name FROM roles")).scalars())
    assert roles == {"admin", "lead", "analyst", "viewer", "ingest"}


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_audit_log_refuses_changes(workspace: Workspace, statement: str) -> None:
    with workspace.store.transaction() as session:
        session.execute(
            text(
                "INSERT INTO audit_log (ts, actor, action, object_type, object_id) "
                "VALUES (CURRENT_TIMESTAMP, 'a', 'b', 'c', 'd')"
            )
        )
    with pytest.raises(Exception, match="append-only"), workspace.store.transaction() as session:
        session.execute(text(statement))
