"""Lake upkeep: merge a partition's small files into one, and count files per partition.

Ingest writes one file per partition per batch; many small files make queries slow, so the
end of an ingest run (and `abusedesk lake compact`) merges them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from abusedesk.lake.writer import SCHEMAS, remove_files, write_atomic


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
        merged = pa.concat_tables(tables).sort_by([("ts", "ascending"), ("id", "ascending")])
        write_atomic(merged, folder, "zstd")
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
