"""docs/rules.md cannot rot: every diagnostic code and every function is documented there."""

from __future__ import annotations

import re
from pathlib import Path

from abusedesk.detection.rules.diagnostics import CODES
from abusedesk.detection.rules.functions import FUNCTIONS

DOC = (Path(__file__).parents[3] / "docs" / "rules.md").read_text(encoding="utf-8")


def test_codes_table_matches_the_registry() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| (error|warning) \|", DOC, flags=re.MULTILINE)
    assert {code for code, _ in rows} == set(CODES)
    assert len(rows) == len(CODES)


def test_every_function_is_documented() -> None:
    for fn in FUNCTIONS:
        assert f"`{fn.name}(" in DOC, fn.name
