"""The CLI as a user meets it: readable output, one red line on error, exit codes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from abusedesk.cli.main import app

runner = CliRunner()


def write_events(path: Path) -> Path:
    lines = [
        {
            "id": f"e{i}",
            "type": "message",
            "ts": f"2026-03-01T0{i}:00:00Z",
            "account_id": f"AC{i % 2}",
            "message_id": f"SM{i}",
            "channel": "sms",
            "from": "+15005550006",
            "to": "+37122345678",
        }
        for i in range(4)
    ]
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines) + b"garbage\n")
    return path


@pytest.mark.usefixtures("cli_env")
def test_ingest_then_query_in_every_format(tmp_path: Path) -> None:
    data = write_events(tmp_path / "e.jsonl")
    result = runner.invoke(app, ["ingest", str(data)])
    assert result.exit_code == 0, result.output
    assert "4 accepted" in result.output
    assert "1 quarantined" in result.output
    assert f"{data}:5: not valid JSON" in result.output

    as_json = runner.invoke(app, ["ingest", str(data), "--json"])
    assert orjson.loads(as_json.stdout)["duplicates"] == 4

    query = "SELECT account_id, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1"
    csv_out = runner.invoke(app, ["sql", query, "--format", "csv"])
    assert csv_out.stdout.splitlines() == ["account_id,n", "AC0,2", "AC1,2"]
    json_out = runner.invoke(app, ["sql", query, "--format", "json"])
    assert [orjson.loads(x) for x in json_out.stdout.splitlines()] == [
        {"account_id": "AC0", "n": 2},
        {"account_id": "AC1", "n": 2},
    ]
    table = runner.invoke(app, ["sql", query])
    assert "AC0" in table.stdout


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM messages", "only SELECT queries are allowed over the lake (got DELETE)"),
        ("SELECT 1; SELECT 2", "give exactly one statement (got 2)"),
        ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
        ("SELEC 1", "cannot parse the query"),
        ("SELECT nope FROM messages", "Binder Error"),
    ],
)
def test_sql_refuses_with_one_readable_line(query: str, message: str) -> None:
    result = runner.invoke(app, ["sql", query])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]


@pytest.mark.usefixtures("cli_env")
def test_missing_file_and_unknown_format_exit_non_zero(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1
    assert "no such file or folder" in missing.stderr
    data = write_events(tmp_path / "e.jsonl")
    unknown = runner.invoke(app, ["ingest", str(data), "--format", "xml"])
    assert unknown.exit_code == 1
    assert "unknown format 'xml'" in unknown.stderr


@pytest.mark.usefixtures("cli_env")
def test_tokens_are_printed_once_and_listed_without_secret() -> None:
    created = runner.invoke(app, ["tokens", "create", "--name", "billing-svc"])
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert token.startswith("adk_")
    assert len(token) > 40
    listed = runner.invoke(app, ["tokens", "list"])
    assert "billing-svc" in listed.stdout
    assert token not in listed.stdout
    bad_role = runner.invoke(app, ["tokens", "create", "--name", "x", "--role", "god"])
    assert bad_role.exit_code == 1
    assert "unknown role 'god'" in bad_role.stderr


def test_a_bad_setting_is_one_readable_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ABUSEDESK_HOME", str(tmp_path))
    monkeypatch.setenv("ABUSEDESK_INGEST_BATCH_SIZE", "lots")
    result = runner.invoke(app, ["sql", "SELECT 1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ABUSEDESK_INGEST_BATCH_SIZE:")


@pytest.mark.usefixtures("cli_env")
def test_ingest_exit_status_tells_when_nothing_went_in(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"garbage\n{}\n")
    refused = runner.invoke(app, ["ingest", str(bad), "--no-detect"])
    assert refused.exit_code == 3, refused.output  # all quarantined: a scheduled import notices
    mixed = write_events(tmp_path / "mixed.jsonl")  # 4 good lines and one bad one
    assert runner.invoke(app, ["ingest", str(mixed), "--no-detect"]).exit_code == 0
    strict = runner.invoke(app, ["ingest", str(mixed), "--no-detect", "--strict"])
    assert strict.exit_code == 3  # --strict: any quarantine fails the run
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert runner.invoke(app, ["ingest", str(empty), "--no-detect", "--strict"]).exit_code == 0
