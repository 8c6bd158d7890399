"""The investigation's reads of the Parquet lake: DuckDB, one account at a time, with a time limit.

Every query but one names one account (`account_id = ?`) and a day range, so DuckDB skips other
days by folder (`day=` partitions) and, inside a day, every row group whose account_id min/max leaves
the account out: compaction writes partitions sorted by account in small row groups for this
(docs/adr/0004-account-reads.md). An account 360 reads each table once (grouping sets give the
per-day counts and the per-code or per-prefix counts of one scan), and a message sample reads
the newest day first. The exception, `campaign_neighbours`, reads other accounts' messages
within a few hours, capped. The views come from lake/reader.py; this module and
campaigns.py (a window's messages, for campaign grouping) are the investigation's readers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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

# What campaign grouping reads of a message (content.campaigns.group_campaigns).
NEIGHBOUR_COLUMNS: Final = ("id", "account_id", "ts", "from", "subject", "body", "direction")


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date


@dataclass(frozen=True)
class AccountTraffic:
    # (day, messages, delivered, undelivered, bounced, receipts, errors, complaints, opt_outs)
    daily: list[tuple[Any, ...]]
    error_codes: list[tuple[str, int]]  # (code, deliveries), most first
    # (prefix, an example number, messages): E.164 destinations without their last four
    # digits, the unit number ranges are sold and pumped in; most first
    prefixes: list[tuple[str, str, int]]


@dataclass(frozen=True)
class Match:
    """Which messages a sample keeps: `sql` tests the message's columns against `$v`."""

    sql: str
    value: str


# The columns a kind of entity appears in: a sender's number, address or sender id is its
# `from` (a recipient's its `to`), an IP the `sender_ip`, an API key the `api_key_id`; a domain
# or URL only in the body, the one match that reads bodies.
MATCHES: Final[dict[str, str]] = {
    "phone": '"from" = $v OR "to" = $v',
    "email": '"from" = $v OR "to" = $v',
    "sender_id": '"from" = $v',
    "ip": "sender_ip = $v",
    "api_key": "api_key_id = $v",
    "domain": "contains(body, $v)",
}


class AccountLake:
    """Per-account reads of the lake, each stopped at `timeout_s` (DeadlineError)."""

    def __init__(self, lake: Path, *, timeout_s: float, threads: int | None = None) -> None:
        self.lake = lake
        self.threads = threads
        self.reader = LakeReader(lake, threads=threads, for_lookups=True)
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
                    self.reader = LakeReader(self.lake, threads=self.threads, for_lookups=True)
                    self._types = present
        return self.reader

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> AccountLake:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def traffic(
        self, account_id: str, days: DayRange, *, codes: int, prefixes: int
    ) -> AccountTraffic:
        """The account's traffic in three queries, each reading its table once: per-day
        outbound messages and destination prefixes (grouping sets over one scan of messages),
        per-day delivery outcomes and error codes (one scan of deliveries), and per-day
        complaints and opt-outs."""
        params: dict[str, Any] = {"a": account_id, "d0": days.first, "d1": days.last}
        scope = "account_id = $a AND day BETWEEN $d0 AND $d1"
        message_rows = self._run(
            f"""
            SELECT day, prefix, grouping(day) AS by_prefix,
                   count(*) FILTER (WHERE coalesce(direction, 'outbound') = 'outbound') AS sent,
                   count(*) AS n, min("to") AS example
            FROM (SELECT day, direction, "to",
                         CASE WHEN "to" LIKE '+%' AND length("to") > 8
                              THEN left("to", length("to") - 4) END AS prefix
                  FROM messages WHERE {scope})
            GROUP BY GROUPING SETS ((day), (prefix))
            """,
            params,
        )
        delivery_rows = self._run(
            f"""
            SELECT day, error_code, grouping(day) AS by_code,
                   count(*) FILTER (WHERE status = 'delivered'),
                   count(*) FILTER (WHERE status IN ('undelivered', 'failed')),
                   count(*) FILTER (WHERE status = 'bounced'),
                   count(*) FILTER (WHERE status IN {FINAL_STATES!r}),
                   count(*) FILTER (WHERE error_code IS NOT NULL)
            FROM deliveries WHERE {scope}
            GROUP BY GROUPING SETS ((day), (error_code))
            """,
            params,
        )
        feedback_rows = self._run(
            f"""
            SELECT 'complaints' AS what, day, count(*) FROM complaints WHERE {scope} GROUP BY day
            UNION ALL
            SELECT 'opt_outs' AS what, day, count(*) FROM opt_outs WHERE {scope} GROUP BY day
            """,
            params,
        )
        per_day: dict[date, list[int]] = {}

        def row(day: date) -> list[int]:
            return per_day.setdefault(day, [0] * 8)

        found_prefixes = []
        for day, prefix, by_prefix, sent, n, example in message_rows:
            if by_prefix:
                if prefix is not None:
                    found_prefixes.append((prefix, example, n))
            else:
                row(day)[0] = sent
        found_codes = []
        for day, code, by_code, delivered, undelivered, bounced, receipts, errors in delivery_rows:
            if by_code:
                if code is not None:
                    found_codes.append((code, errors))
            else:
                row(day)[1:6] = [delivered, undelivered, bounced, receipts, errors]
        for what, day, n in feedback_rows:
            row(day)[6 if what == "complaints" else 7] = n
        found_prefixes.sort(key=lambda p: (-p[2], p[0]))
        found_codes.sort(key=lambda c: (-c[1], c[0]))
        return AccountTraffic(
            daily=[(day, *counts) for day, counts in sorted(per_day.items())],
            error_codes=found_codes[:codes],
            prefixes=found_prefixes[:prefixes],
        )

    def message_sample(
        self,
        account_ids: Sequence[str],
        days: DayRange,
        limit: int,
        *,
        match: Match | None = None,
    ) -> list[dict[str, Any]]:
        """The newest outbound messages of the accounts (optionally only those `match`
        selects), at most `limit`. The newest day is read first and older days only when it
        holds too few: compaction sorts each day by account and time, so the newest day of an
        account is a few row groups however busy it is."""
        if not account_ids or limit <= 0:
            return []
        rows = self._sample(account_ids, DayRange(days.last, days.last), limit, match)
        if len(rows) < limit and days.first < days.last:
            older = DayRange(days.first, days.last - timedelta(days=1))
            rows += self._sample(account_ids, older, limit - len(rows), match)
        return rows

    def _sample(
        self, account_ids: Sequence[str], days: DayRange, limit: int, match: Match | None
    ) -> list[dict[str, Any]]:
        columns = ", ".join(f'"{c}"' for c in SAMPLE_COLUMNS)
        # A list of constants (not a join against a list) so DuckDB can push it down to the
        # row groups' min/max statistics.
        params: dict[str, Any] = {"d0": days.first, "d1": days.last, "lim": limit}
        names = []
        for i, account_id in enumerate(account_ids):
            params[f"a{i}"] = account_id
            names.append(f"$a{i}")
        where = f"account_id IN ({', '.join(names)}) AND day BETWEEN $d0 AND $d1"
        if match is not None:
            where += f" AND ({match.sql})"
            params["v"] = match.value
        sql = (
            f"SELECT account_id, {columns} FROM messages WHERE {where} "
            "ORDER BY ts DESC, id LIMIT $lim"
        )
        rows = self._run(sql, params)
        keys = ("account_id", *SAMPLE_COLUMNS)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def campaign_neighbours(
        self,
        days: DayRange,
        since: datetime,
        until: datetime,
        *,
        senders: Sequence[str],
        domains: Sequence[str],
        fragments: Sequence[str],
        limit: int,
    ) -> list[dict[str, Any]]:
        """The newest outbound messages of any account (at most `limit`) from `since` to
        `until` that come from one of `senders`, or whose body holds one of `domains` or
        `fragments`: the candidates of an account's campaigns (account_campaigns.py). Unlike
        the other reads this one is not confined to one account, so it is confined to a few
        hours (the time filter runs before the body is searched) and a row cap."""
        if limit <= 0 or not (senders or domains or fragments):
            return []
        params: dict[str, Any] = {
            "d0": days.first,
            "d1": days.last,
            "since": since,
            "until": until,
            "lim": limit,
        }
        tests = []
        if senders:
            names = []
            for i, sender in enumerate(senders):
                params[f"s{i}"] = sender
                names.append(f"$s{i}")
            tests.append(f'"from" IN ({", ".join(names)})')
        for i, text in enumerate([*domains, *fragments]):
            params[f"t{i}"] = text
            tests.append(f"contains(body, $t{i})")
        columns = ", ".join(f'"{c}"' for c in NEIGHBOUR_COLUMNS)
        rows = self._run(
            f"SELECT {columns} FROM messages WHERE day BETWEEN $d0 AND $d1 "
            "AND ts BETWEEN $since AND $until "
            "AND coalesce(direction, 'outbound') = 'outbound' AND body IS NOT NULL "
            f"AND ({' OR '.join(tests)}) ORDER BY ts DESC, id LIMIT $lim",
            params,
        )
        return [dict(zip(NEIGHBOUR_COLUMNS, row, strict=True)) for row in rows]

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
