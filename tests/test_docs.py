"""Docs that cannot rot: generated references must match the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from abusedesk.settings import settings_markdown

ROOT = Path(__file__).parents[1]


def test_settings_reference_is_current() -> None:
    documented = (ROOT / "docs" / "settings.md").read_text()
    assert documented == settings_markdown(), "run: python -m abusedesk.settings > docs/settings.md"


def test_cli_reference_is_current() -> None:
    from abusedesk.cli.reference import render

    documented = (ROOT / "docs" / "cli.md").read_text()
    assert documented == render(), "run: python -m abusedesk.cli.reference > docs/cli.md"


def readme_queries() -> list[str]:
    import re
    import shlex

    text = (ROOT / "README.md").read_text()
    queries = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        command = " ".join(line.strip() for line in block.splitlines())
        if command.startswith('abusedesk sql "'):
            queries.append(shlex.split(command)[2])
    return queries


def test_readme_queries_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from abusedesk.cli.main import app
    from abusedesk.sim.generator import generate

    queries = readme_queries()
    assert len(queries) >= 3
    generate(tmp_path / "sim", days=2, seed=3, scale=0.2)
    monkeypatch.setenv("ABUSEDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ABUSEDESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", str(tmp_path / "sim" / "events.jsonl"), "--no-detect"])
    assert ingest.exit_code == 0, ingest.output
    for query in queries:
        result = runner.invoke(app, ["sql", query, "--format", "csv"])
        assert result.exit_code == 0, f"{query}\n{result.output}"
        assert len(result.stdout.splitlines()) >= 2, f"no rows: {query}"
