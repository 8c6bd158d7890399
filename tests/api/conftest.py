from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from abusedesk.api.app import create_app
from abusedesk.auth.tokens import do_create_token
from abusedesk.workspace import Workspace


@pytest.fixture
def api_client(workspace: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(workspace)) as client:
        yield client


@pytest.fixture
def token(workspace: Workspace) -> str:
    value, _ = do_create_token(
        workspace.store, workspace.clock, name="sender", role="ingest", actor="test"
    )
    return value


@pytest.fixture
def viewer_token(workspace: Workspace) -> str:
    value, _ = do_create_token(
        workspace.store, workspace.clock, name="v", role="viewer", actor="test"
    )
    return value
