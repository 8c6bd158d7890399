"""The investigation's reads of the Parquet lake: DuckDB, one account at a time, with a time limit.

Every query names one account (`account_id = ?`) and a day range, so DuckDB skips other days by
folder (`day=` partitions) and, inside a day, every row group whose account_id min/max leaves
the account out: compaction writes partitions sorted by account in small row groups for this
(docs/adr/0004-account-reads.md). The views come from lake/reader.py; this module is the
investigation's only reader, so when the lake moves it is the one file to change.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb

from abusedesk.errors import DeadlineError, QueryError
from abusedesk.lake.reader import VIEW_NAMES, LakeReader

# Final delivery states; `queued`, `sent` and `deferred` are on the way and counted apart.
FINAL_STATES: Final = ("delivered", "undelivered", "failed", "bounced")
SAMPLE_COLUMNS: Final = (
    "id",
    "ts",
    "channel",
    "direction",
    "from",
    "to",
    "subject",
    "body",
    "sender_ip",
    "api_key_id",
    "campaign_id",
)


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date


class AccountLake:
    """Per-account reads of the lake, each stopped at `timeout_s` (DeadlineError)."""

    def __init__(self, lake: Path, *, timeout_s: float, threads: int | None = None) -> None:
        self.lake = lake
        self.threads = threads
        self.reader = LakeReader(lake, threads=threads)
        self.timeout_s = timeout_s
        self._types = self._types_present()
        self._reopen = threading.Lock()

    def _types_present(self) -> frozenset[str]:
        return frozenset(t for t in VIEW_NAMES if (self.lake / "events" / f"type={t}").is_dir())

    def _current(self) -> LakeReader:
        """The reader, remade when an event type got its first files since it was made (its
        view was an empty stand-in); the views read the files present at query time anyway."""
        if self._types_present() != self._types:
            with self._reopen:
                present = self._types_present()
                if present != self._types:
                    self.reader = LakeReader(self.lake, threads=self.threads)
                    self._types = present
        return self.reader

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> AccountLake:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def daily_traffic(self, account_id: str, days: DayRange) -> list[tuple[Any, ...]]:
        """(day, messages, delivered, undelivered, bounced, receipts, errors, complaints,
        opt_outs) per day with any traffic."""
        sql = """
            WITH m AS (
                SELECT day, count(*) AS n FROM messages
                WHERE account_id = $a AND day BETWEEN $d0 AND $d1
                  AND coalesce(direction, 'outbound') = 'outbound'
                GROUP BY day),
            d AS (
                SELECT day,
                       count(*) FILTER (WHERE status = 'delivered') AS delivered,
                       count(*) FILTER (WHERE status IN ('undelivered', 'failed')) AS undelivered,
                       count(*) FILTER (WHERE status = 'bounced') AS bounced,
                       count(*) FILTER (WHERE status IN ('delivered', 'undelivered', 'failed',
                                                         'bounced')) AS receipts,
                       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors
                FROM deliveries WHERE account_id = $a AND day BETWEEN $d0 AND $d1
                GROUP BY day),
            c AS (
                SELECT day, count(*) AS n FROM complaints
                WHERE account_id = $a AND day BETWEEN $d0 AND $d1 GROUP BY day),
            o AS (
                SELECT day, count(*) AS n FROM opt_outs
                WHERE account_id = $a AND day BETWEEN $d0 AND $d1 GROUP BY day)
            SELECT day, coalesce(m.n, 0), coalesce(d.delivered, 0), coalesce(d.undelivered, 0),
                   coalesce(d.bounced, 0), coalesce(d.receipts, 0), coalesce(d.errors, 0),
                   coalesce(c.n, 0), coalesce(o.n, 0)
            FROM m FULL JOIN d USING (day) FULL JOIN c USING (day) FULL JOIN o USING (day)
            ORDER BY day
        """
        return self._named(sql, account_id, days)

    def error_codes(self, account_id: str, days: DayRange, limit: int) -> list[tuple[Any, ...]]:
        sql = """
            SELECT error_code, count(*) AS n FROM deliveries
            WHERE account_id = $a AND day BETWEEN $d0 AND $d1 AND error_code IS NOT NULL
            GROUP BY error_code ORDER BY n DESC, error_code LIMIT $lim
        """
        return self._named(sql, account_id, days, limit)

    def destination_prefixes(
        self, account_id: str, days: DayRange, limit: int
    ) -> list[tuple[Any, ...]]:
        """(prefix, an example number, messages): E.164 destinations without their last four
        digits, the unit number ranges are sold and pumped in."""
        sql = """
            SELECT left("to", length("to") - 4) AS prefix, min("to") AS example, count(*) AS n
            FROM messages
            WHERE account_id = $a AND day BETWEEN $d0 AND $d1 AND "to" LIKE '+%'
              AND length("to") > 8
            GROUP BY prefix ORDER BY n DESC, prefix LIMIT $lim
        """
        return self._named(sql, account_id, days, limit)

    def message_sample(
        self,
        account_ids: Sequence[str],
        days: DayRange,
        limit: int,
        *,
        containing: str | None = None,
    ) -> list[dict[str, Any]]:
        """The newest outbound messages of the accounts (optionally only those whose sender,
        recipient or body holds `containing`), at most `limit`."""
        if not account_ids:
            return []
        columns = ", ".join(f'"{c}"' for c in SAMPLE_COLUMNS)
        # A list of constants (not a join against a list) so DuckDB can push it down to the
        # row groups' min/max statistics.
        params: dict[str, Any] = {"d0": days.first, "d1": days.last, "lim": limit}
        names = []
        for i, account_id in enumerate(account_ids):
            params[f"a{i}"] = account_id
            names.append(f"$a{i}")
        where = f"account_id IN ({', '.join(names)}) AND day BETWEEN $d0 AND $d1"
        if containing is not None:
            where += ' AND ("from" = $v OR "to" = $v OR contains(body, $v))'
            params["v"] = containing
        sql = (
            f"SELECT account_id, {columns} FROM messages WHERE {where} "
            "ORDER BY ts DESC, id LIMIT $lim"
        )
        rows = self._run(sql, params)
        keys = ("account_id", *SAMPLE_COLUMNS)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def _named(
        self, sql: str, account_id: str, days: DayRange, limit: int | None = None
    ) -> list[tuple[Any, ...]]:
        params: dict[str, Any] = {"a": account_id, "d0": days.first, "d1": days.last}
        if limit is not None:
            params["lim"] = limit
        return self._run(sql, params)

    def _run(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        # A cursor per read: requests in different threads read at once, and the timer stops
        # only its own query.
        cursor = self._current().con.cursor()
        expired = threading.Event()

        def stop() -> None:
            expired.set()
            cursor.interrupt()

        timer = threading.Timer(self.timeout_s, stop)
        timer.start()
        try:
            return cursor.execute(sql, params).fetchall()
        except duckdb.InterruptException:
            raise DeadlineError(
                f"lake read stopped after {self.timeout_s:g} s (ABUSEDESK_INVESTIGATE_TIMEOUT_S)"
            ) from None
        except duckdb.Error as exc:
            if expired.is_set():
                raise DeadlineError(f"lake read stopped after {self.timeout_s:g} s") from None
            raise QueryError(str(exc).strip().splitlines()[0]) from None
        finally:
            timer.cancel()
            cursor.close()
