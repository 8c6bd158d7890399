"""The API's young garbage collections (api/app.py `_young_gc_only`): once a second, but not
while a write (an ingest post) holds the write lock, for at most `max_defer_s`."""

from __future__ import annotations

import asyncio
import gc

import pytest

from abusedesk.api.app import _young_gc_only


def _run(busy: list[bool], seconds: float, max_defer_s: float) -> list[int]:
    """The generations collected while the sweeper ran for `seconds` (every 10 ms)."""
    collected: list[int] = []
    real = gc.collect

    def recording(generation: int = 2) -> int:
        collected.append(generation)
        return 0

    async def main() -> None:
        task = asyncio.create_task(
            _young_gc_only(lambda: busy[0], every_s=0.01, max_defer_s=max_defer_s)
        )
        await asyncio.sleep(seconds)
        task.cancel()

    gc.collect = recording  # type: ignore[assignment]
    try:
        asyncio.run(main())
    finally:
        gc.collect = real  # type: ignore[assignment]
        gc.unfreeze()
        gc.enable()
    return collected[1:]  # the first is the full collection at start


def test_young_collections_run_when_nothing_is_written() -> None:
    collected = _run([False], 0.2, max_defer_s=30)
    assert len(collected) >= 5
    assert set(collected) == {1}


def test_no_collection_while_a_write_holds_the_lock() -> None:
    assert _run([True], 0.2, max_defer_s=30) == []


@pytest.mark.parametrize("max_defer_s", [0.05])
def test_a_long_write_defers_collections_for_at_most_max_defer(max_defer_s: float) -> None:
    collected = _run([True], 0.3, max_defer_s=max_defer_s)
    assert 1 <= len(collected) <= 6
