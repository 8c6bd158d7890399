"""Lake upkeep: merge a partition's small files into one, and count files per partition.

Ingest writes one file per partition per batch; many small files make queries slow, so the
end of an ingest run (and `abusedesk lake compact`) merges them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from abusedesk.lake.writer import SCHEMAS, remove_files, write_atomic

# Compacted partitions are sorted by account, then time, in row groups of this many rows: each
# row group's account_id min/max then lets a reader of one account skip nearly all of a
# partition (docs/adr/0004-account-reads.md has the measurements).
COMPACT_ROW_GROUP_ROWS: Final = 32_768
COMPACT_SORT: Final = [("account_id", "ascending"), ("ts", "ascending"), ("id", "ascending")]


def compact(lake: Path, *, min_files: int = 8, partitions: Iterable[Path] | None = None) -> int:
    """Merge each partition holding at least `min_files` files into one file.

    Returns the number of files removed. Readers running at the same moment may briefly see
    the merged file next to its sources; compaction runs at the end of ingest for that reason.
    """
    folders = list(partitions) if partitions is not None else _all_partitions(lake)
    removed = 0
    for folder in folders:
        files = sorted(folder.glob("part-*.parquet"))
        if len(files) < min_files:
            continue
        etype = folder.parent.name.removeprefix("type=")
        schema = SCHEMAS.get(etype)
        if schema is None:
            continue
        tables = [pq.read_table(path, schema=schema) for path in files]
        merged = pa.concat_tables(tables).sort_by(COMPACT_SORT)
        write_atomic(merged, folder, "zstd", COMPACT_ROW_GROUP_ROWS)
        remove_files(files)
        removed += len(files)
    return removed


def _all_partitions(lake: Path) -> list[Path]:
    root = lake / "events"
    if not root.exists():
        return []
    return sorted(p for p in root.glob("type=*/day=*") if p.is_dir())


def partitions_of(files: Iterable[Path]) -> list[Path]:
    return sorted({path.parent for path in files})


def count_by_partition(lake: Path) -> dict[str, int]:
    """Files per partition (for `abusedesk lake status`)."""
    out: dict[str, int] = defaultdict(int)
    for folder in _all_partitions(lake):
        out[f"{folder.parent.name}/{folder.name}"] = len(list(folder.glob("part-*.parquet")))
    return dict(out)
