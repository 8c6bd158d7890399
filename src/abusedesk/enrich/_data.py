"""Reading the shipped data files.

They are package data (pyproject ships *.csv, *.yaml, *.txt), read through importlib.resources so
they are found the same way from a checkout, a wheel or a zip. Loaders run once, when an
`Enricher` is built; enrichment itself never touches the file system.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files


def read_data(name: str) -> str:
    return files("abusedesk.enrich").joinpath("data", name).read_text(encoding="utf-8")


def data_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, stripped line) for every line that is neither blank nor a # comment."""
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield lineno, line
