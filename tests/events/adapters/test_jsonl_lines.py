"""Line splitting of the JSONL hot path: chunk by chunk, lines over the limit as None, line
numbers exact, whatever the chunk boundaries. Compared with a line-at-a-time reference."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abusedesk.events.adapters import jsonl
from abusedesk.events.adapters.jsonl import iter_line_batches, iter_lines


def reference(data: bytes, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Every line of `data` with its number; None when longer than `limit` (a final line
    without a newline counts; an empty final line does not)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, 1):
        yield number, (line if len(line) <= limit else None)


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(
    data=st.lists(
        st.sampled_from([b"\n", b"a", b"bb", b"{}", b"x" * 7, b"\n\n", b"\xff"]), max_size=40
    ).map(b"".join),
    chunk=st.integers(min_value=1, max_value=16),
    limit=st.integers(min_value=0, max_value=12),
)
def test_lines_match_the_reference_for_any_chunking(data: bytes, chunk: int, limit: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl, "_CHUNK", chunk)
        got = list(iter_lines(io.BytesIO(data), limit))
        batches = list(iter_line_batches(io.BytesIO(data), limit))
    assert got == list(reference(data, limit))
    numbers = [first for first, _ in batches]
    assert numbers == sorted(numbers)  # batches come in order, numbered from their first line


def test_a_line_over_the_limit_across_many_chunks_is_one_rejection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jsonl, "_CHUNK", 1024)
    data = b"ok\n" + b"x" * 100_000 + b"\nlast"
    assert list(iter_lines(io.BytesIO(data), 4096)) == [(1, b"ok"), (2, None), (3, b"last")]
