"""Migrations: the models and the migration scripts agree; up and down both work; the audit
log is append-only on both backends."""

from __future__ import annotations

import subprocess
import sys

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


def test_processes_starting_at_once_on_an_empty_database_all_migrate_it(
    workspace: Workspace,
) -> None:
    """First use migrates: several processes starting together on a fresh workspace (two
    ingests at once) wait for one another instead of racing on CREATE TABLE."""
    engine = workspace.store.engine
    db.downgrade(engine, "base")
    workspace.store.close()
    url = workspace.settings.resolved_database_url
    code = f"from abusedesk.storage.db import Store; Store({url!r}).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)
    ]
    errors = [p.communicate()[1].decode()[-300:] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    check = db.make_engine(url)
    try:
        assert db.current_revision(check) == db.head_revision()
    finally:
        check.dispose()
