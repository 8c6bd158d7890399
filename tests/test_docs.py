"""Docs that cannot rot: generated references must match the code."""

from __future__ import annotations

from pathlib import Path

from abusedesk.settings import settings_markdown

ROOT = Path(__file__).parents[1]


def test_settings_reference_is_current() -> None:
    documented = (ROOT / "docs" / "settings.md").read_text()
    assert documented == settings_markdown(), "run: python -m abusedesk.settings > docs/settings.md"


def test_cli_reference_is_current() -> None:
    from abusedesk.cli.reference import render

    documented = (ROOT / "docs" / "cli.md").read_text()
    assert documented == render(), "run: python -m abusedesk.cli.reference > docs/cli.md"
