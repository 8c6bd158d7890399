"""DuckDB over the Parquet event lake: one view per event type and a view `events` of them all.

A `LakeReader` is an in-memory DuckDB connection whose views read the lake's files at query time,
so it always sees what ingest has written. A reader made `for_lookups` (the investigation's: many
small queries, each naming one account) keeps the files' footers cached between queries, and
reads a type whose files all have the current schema without `union_by_name`, which otherwise
opens every file of the type to unify their schemas on every query (measured on a 4 M-event lake:
166 ms a query with it and no cache, 10 ms without it and with the cache; docs/adr/0004).

For user SQL (`abusedesk sql`, analytics/sql.py) the connection is locked down after the views
exist: file access outside the lake is disabled, memory is capped (`memory_limit_mb`; spilling
to disk is off, so a query over the cap fails with an out-of-memory error rather than writing
temporary files) and configuration is frozen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from abusedesk.lake.writer import SCHEMAS

VIEW_NAMES: Final[dict[str, str]] = {
    "message": "messages",
    "delivery": "deliveries",
    "complaint": "complaints",
    "opt_out": "opt_outs",
    "verification": "verifications",
    "call": "calls",
    "account": "account_events",
    "report": "reports",
}
_DUCK_TYPES: Final = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.list_(pa.string()): "VARCHAR[]",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _empty_view(etype: str) -> str:
    """A view with the type's columns and no rows, for types with no files yet."""
    cols = ["CAST(NULL AS VARCHAR) AS id", "CAST(NULL AS TIMESTAMPTZ) AS ts"]
    for field in SCHEMAS[etype]:
        if field.name in ("id", "ts"):
            continue
        cols.append(f"CAST(NULL AS {_DUCK_TYPES[field.type]}) AS {_quote(field.name)}")
    cols += [f"{_sql_string(etype)} AS type", "CAST(NULL AS DATE) AS day"]
    return "SELECT " + ", ".join(cols) + " WHERE false"


def _current_schema(etype: str, files: list[Path]) -> bool:
    """Whether every file of the type has the type's current columns, in order (compaction and
    ingest write that schema; a lake from before a column was added may hold older files)."""
    want = [(f.name, f.type) for f in SCHEMAS[etype]]
    for path in files:
        try:
            have = pq.read_schema(path)
        except (OSError, pa.ArrowInvalid):
            return False
        if [(f.name, f.type) for f in have] != want:
            return False
    return True


class LakeReader:
    def __init__(
        self,
        lake: Path,
        *,
        locked: bool = False,
        threads: int | None = None,
        for_lookups: bool = False,
        memory_limit_mb: int | None = None,
    ) -> None:
        self.lake = lake
        self.for_lookups = for_lookups
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if for_lookups:
            self.con.execute("SET parquet_metadata_cache = true")
        self._create_views()
        if memory_limit_mb is not None:
            self.con.execute(f"SET memory_limit = '{int(memory_limit_mb)}MB'")
        if locked:
            self.con.execute("SET temp_directory = ''")
            # A query naming an extension's function must not fetch it from the network.
            self.con.execute("SET autoinstall_known_extensions = false")
            self.con.execute(f"SET allowed_directories = [{_sql_string(str(lake))}]")
            self.con.execute("SET enable_external_access = false")
            self.con.execute("SET lock_configuration = true")

    def _create_views(self) -> None:
        selects = []
        for etype, view in VIEW_NAMES.items():
            folder = self.lake / "events" / f"type={etype}"
            files = sorted(folder.glob("day=*/part-*.parquet"))
            if files:
                pattern = _sql_string(str(folder / "day=*" / "part-*.parquet"))
                unify = not (self.for_lookups and _current_schema(etype, files))
                # hive_partitioning gives `day`; `type` is set from the folder we read.
                body = (
                    f"SELECT * EXCLUDE (type), {_sql_string(etype)} AS type FROM read_parquet("
                    f"{pattern}, hive_partitioning = true, union_by_name = {str(unify).lower()}, "
                    "hive_types = {'day': DATE, 'type': VARCHAR})"
                )
            else:
                body = _empty_view(etype)
            self.con.execute(f"CREATE OR REPLACE VIEW {view} AS {body}")
            selects.append(f"SELECT * FROM {view}")
        self.con.execute("CREATE OR REPLACE VIEW events AS " + " UNION ALL BY NAME ".join(selects))

    def close(self) -> None:
        # A user query stopped at its deadline while DuckDB was still parsing it (parsing is
        # not interruptible) holds a cursor: the connection is released when that query's
        # thread closes the cursor and the last reference goes.
        with contextlib.suppress(duckdb.ResourceInUseException):
            self.con.close()

    def __enter__(self) -> LakeReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=params or None).to_arrow_table()

    def accounts_for_message_ids(self, message_ids: Iterable[str]) -> dict[str, str]:
        """message_id -> account_id for messages in the lake (to place ARF complaints)."""
        ids = sorted(set(message_ids))
        if not ids:
            return {}
        table = pa.table({"message_id": pa.array(ids, pa.string())})
        self.con.register("_wanted_ids", table)
        try:
            rows = self.con.execute(
                "SELECT m.message_id, any_value(m.account_id) FROM messages m "
                "JOIN _wanted_ids w USING (message_id) GROUP BY m.message_id"
            ).fetchall()
        finally:
            self.con.unregister("_wanted_ids")
        return {str(mid): str(acc) for mid, acc in rows if acc is not None}
