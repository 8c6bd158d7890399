from __future__ import annotations

import pytest

from abusedesk.clock import FixedClock
from abusedesk.enforcement.services import Enforcement
from abusedesk.workspace import Workspace

from .helpers import T0


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def enf(workspace: Workspace, clock: FixedClock) -> Enforcement:
    return Enforcement(workspace.store, clock, workspace.catalogue, "http://127.0.0.1:9/hook")
