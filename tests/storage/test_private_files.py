"""The workspace holds message bodies and personal data: everything it writes is private to the
user (folders 0700, files 0600), whatever umask the process started with."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from abusedesk.content.model import load_model
from abusedesk.content.registry import shipped_path
from abusedesk.settings import Settings
from abusedesk.workspace import Workspace


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0o022)  # what a login shell usually has: files readable by everyone
    yield
    os.umask(before)


@pytest.mark.usefixtures("open_umask")
def test_everything_the_workspace_writes_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)  # made before, open to everyone: tightened at open
    events = tmp_path / "in.jsonl"
    good = {"id": "p1", "type": "opt_out", "ts": "2026-03-01T12:00:00Z", "account_id": "AC1"}
    events.write_bytes(
        orjson.dumps(good | {"recipient": "+15550001", "keyword": "STOP"}) + b"\n{bad\n"
    )
    ws = Workspace(Settings(home=home))  # SQLite in the home folder
    try:
        summary = ws.ingestor().ingest_paths([events])
        assert (summary.accepted, summary.quarantined) == (1, 1)
        registry = ws.model_registry()
        version = registry.save(load_model(shipped_path("sms")), "mine", {"f1": 0.5})
        registry.promote("sms", version.ref)
    finally:
        ws.close()

    written = [home, *home.rglob("*")]
    assert any(p.suffix == ".parquet" for p in written)
    assert any(p.name == "abusedesk.db" for p in written)
    assert any(p.suffix == ".skops" for p in written)
    loose = {
        str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in written
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    }
    assert loose == {}
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
