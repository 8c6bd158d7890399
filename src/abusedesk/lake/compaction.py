"""Lake upkeep: merge a partition's small files into one, and count files per partition.

Ingest writes one file per partition per batch; many small files make queries slow, so the
end of an ingest run (and `abusedesk lake compact`) merges them.

Compaction holds the lake lock (locks.py), so two processes never merge the same files, and
survives `kill -9` at any instant: before the merged file is renamed into place a journal
(`.compact-<id>.json`, listing the merged file and its sources) is written; the rename is the
commit point, after which the sources are removed and the journal last. `recover_compactions`
finishes or undoes whatever a killed compaction left.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Final

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from abusedesk.lake.locks import lake_lock
from abusedesk.lake.writer import DICTIONARY_COLUMNS, SCHEMAS, remove_files

# Compacted partitions are sorted by account, then time, in row groups of this many rows: each
# row group's account_id min/max then lets a reader of one account skip nearly all of a
# partition (docs/adr/0004-account-reads.md has the measurements).
COMPACT_ROW_GROUP_ROWS: Final = 32_768
COMPACT_SORT: Final = [("account_id", "ascending"), ("ts", "ascending"), ("id", "ascending")]


def compact(
    lake: Path,
    *,
    min_files: int = 8,
    partitions: Iterable[Path] | None = None,
    keep: Callable[[], Collection[Path]] | None = None,
) -> int:
    """Merge each partition holding at least `min_files` files into one file.

    `keep`: asked under the lock, after the partitions are listed, for the files not to merge
    (those of committed batches not yet through detection, which recovery may have to read
    back). A batch's files are published only after its commit, so every file listed that is
    still pending is known by then. Returns the number of files removed. Readers running at
    the same moment may briefly see the merged file next to its sources; compaction runs at the
    end of ingest for that reason.
    """
    removed = 0
    with lake_lock(lake):
        recover_compactions(lake)
        folders = list(partitions) if partitions is not None else _all_partitions(lake)
        listed = [(folder, sorted(folder.glob("part-*.parquet"))) for folder in folders]
        kept = frozenset(keep()) if keep is not None else frozenset()
        for folder, found in listed:
            files = [p for p in found if p not in kept]
            if len(files) < min_files:
                continue
            etype = folder.parent.name.removeprefix("type=")
            schema = SCHEMAS.get(etype)
            if schema is None:
                continue
            tables = [pq.read_table(path, schema=schema) for path in files]
            merged = pa.concat_tables(tables).sort_by(COMPACT_SORT)
            _merge_into(folder, merged, files)
            removed += len(files)
    return removed


def _merge_into(folder: Path, merged: pa.Table, sources: list[Path]) -> None:
    token = uuid.uuid4().hex[:16]
    final = folder / f"part-{token}.parquet"
    tmp = folder / f".{final.name}.tmp"
    names = set(merged.schema.names)
    pq.write_table(
        merged,
        tmp,
        compression="zstd",
        use_dictionary=[c for c in DICTIONARY_COLUMNS if c in names],
        row_group_size=COMPACT_ROW_GROUP_ROWS,
    )
    _fsync(tmp)
    journal = folder / f".compact-{token}.json"
    journal.write_bytes(orjson.dumps({"merged": final.name, "sources": [p.name for p in sources]}))
    _fsync(journal)
    os.replace(tmp, final)  # the commit point: from here on the sources are redundant
    remove_files(sources)
    journal.unlink()


def recover_compactions(lake: Path) -> int:
    """Finish (merged file in place: remove its sources) or undo (remove the half-written
    merge) each compaction a killed process left; call with the lake lock held. Returns the
    number of journals handled."""
    handled = 0
    for folder in _all_partitions(lake):
        for journal in folder.glob(".compact-*.json"):
            entry = orjson.loads(journal.read_bytes())
            final = folder / entry["merged"]
            if final.exists():
                remove_files(folder / name for name in entry["sources"])
            journal.unlink()
            handled += 1
        for tmp in folder.glob(".part-*.parquet.tmp"):
            tmp.unlink(missing_ok=True)  # only compaction writes these, and it holds the lock
    return handled


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
