"""Row ids in paths: positive and within a 64-bit signed integer, as both stores hold them.

A larger number is no id of ours; it is refused as a bad request (400) before any query, instead
of overflowing the database driver (a 500)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Path
from pydantic import Field

MAX_ROW_ID: Final = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id (1 to 2^63-1).")]
# The same bound for ids named in a request body.
BodyRowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
