"""ABUSEDESK_LOG_LEVEL: one JSON line per event of interest, at the configured level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from abusedesk.cli.main import app
from abusedesk.logs import configure, fields


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure() changes the process's "abusedesk" logger; put it back for other tests."""
    logger = logging.getLogger("abusedesk")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_a_line_is_one_json_object_with_its_fields() -> None:
    stream = io.StringIO()
    configure("INFO", stream)
    logging.getLogger("abusedesk.test").info("thing.done", extra=fields(run_id=7, n=2))
    logging.getLogger("abusedesk.test").debug("thing.detail", extra=fields(run_id=7))
    (line,) = stream.getvalue().splitlines()
    record = orjson.loads(line)
    assert record["event"] == "thing.done"
    assert record["level"] == "INFO"
    assert record["logger"] == "abusedesk.test"
    assert (record["run_id"], record["n"]) == (7, 2)
    assert record["ts"].endswith("+00:00")


def test_configuring_again_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure("INFO", first)
    configure("WARNING", second)
    log = logging.getLogger("abusedesk.test")
    log.info("quiet")
    log.warning("loud")
    assert first.getvalue() == ""
    assert [orjson.loads(x)["event"] for x in second.getvalue().splitlines()] == ["loud"]


def test_the_cli_takes_the_level_from_the_setting(cli_env: dict[str, str], tmp_path: Path) -> None:
    """At INFO an ingest run logs one line with its counters; at the default it logs none."""
    path = tmp_path / "e.jsonl"
    path.write_bytes(
        orjson.dumps(
            {"id": "o1", "type": "opt_out", "ts": "2026-03-01T10:00:00Z", "account_id": "A",
             "recipient": "+15550001111", "keyword": "STOP"}
        )
    )  # fmt: skip
    runner = CliRunner()
    quiet = runner.invoke(app, ["ingest", str(path), "--no-detect", "--json"], env=cli_env)
    assert quiet.exit_code == 0, quiet.output
    assert "ingest.done" not in quiet.stderr
    env = dict(cli_env, ABUSEDESK_LOG_LEVEL="info")
    loud = runner.invoke(app, ["ingest", str(path), "--no-detect", "--json"], env=env)
    assert loud.exit_code == 0, loud.output
    (line,) = [orjson.loads(x) for x in loud.stderr.splitlines() if "ingest.done" in x]
    assert line["level"] == "INFO"
    assert (line["read"], line["duplicates"], line["origin"]) == (1, 1, "cli")
