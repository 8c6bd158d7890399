"""The Parquet event lake: the full event history, one home for writing and reading it.

writer.py      events -> Parquet files by type and day, written atomically (ingest's sink)
compaction.py  merging a partition's small files; files per partition
reader.py      DuckDB views over the files (one per event type, and `events`)
replay.py      events back out of the lake in (ts, id) order, for replay and backtests

The lake depends only on the event contract (events/schema.py); ingest, analytics and the
pipeline use it, so none of them imports another for its sake.
"""
