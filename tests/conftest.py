"""Shared fixtures. The relational store is real: SQLite by default, PostgreSQL when
ABUSEDESK_TEST_DATABASE=postgresql (the test command runs both passes; see Makefile).

Tests that use a store are marked `db` automatically, so the PostgreSQL pass can run exactly
those (`-m db`). A PostgreSQL pass without a reachable server fails; it never skips quietly.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from abusedesk.settings import Settings
from abusedesk.storage import db
from abusedesk.storage.models import Base
from abusedesk.workspace import Workspace

BACKEND = os.environ.get("ABUSEDESK_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "ABUSEDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DB_FIXTURES = {"store", "workspace", "settings", "db_url", "api_client", "cli_env"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses the relational store (runs on both backends)")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _checkout() -> str:
    """A short tag of this checkout, so two clones testing at once get different databases."""
    root = str(Path(__file__).resolve().parent.parent)
    return hashlib.sha256(root.encode()).hexdigest()[:8]


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database per test worker, made once; tests get a clean copy of it."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        yield str(path)
        return
    if BACKEND != "postgresql":
        raise pytest.UsageError(
            f"ABUSEDESK_TEST_DATABASE must be sqlite or postgresql, not {BACKEND}"
        )
    name = f"abusedesk_test_{_checkout()}_{_worker()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a PostgreSQL pass must not pass without PostgreSQL
        pytest.exit(f"PostgreSQL pass but no server at {PG_ADMIN_URL}: {exc}", returncode=3)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Tables whose rows are data shipped by migrations, kept between tests.
_SEEDED = {"roles"}


@pytest.fixture
def db_url(_template: str, tmp_path: Path) -> str:
    db.forget_migrated()
    if BACKEND == "sqlite":
        target = tmp_path / "abusedesk.db"
        shutil.copyfile(_template, target)
        return f"sqlite:///{target}"
    engine = create_engine(_template)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in _SEEDED]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return _template


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=db_url)


@pytest.fixture
def workspace(settings: Settings) -> Iterator[Workspace]:
    ws = Workspace(settings)
    yield ws
    ws.close()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for CLI tests: the command reads its workspace from ABUSEDESK_*."""
    env = {
        "ABUSEDESK_HOME": str(settings.home),
        "ABUSEDESK_DATABASE_URL": settings.resolved_database_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
