"""The probation metrics, each defined once, over the lake (DuckDB through lake/reader.py).

A metric is a count over a base, both over the account's events inside the probation window
(`started_at <= ts < until`):

| metric | count | base |
|---|---|---|
| complaint_rate | complaints, except feedback type `not-spam` | outbound messages |
| bounce_rate | deliveries `bounced`, except bounce type `transient` | outbound email messages |
| opt_out_rate | opt-outs | deliveries `delivered` |
| sms_error_rate | deliveries `undelivered` or `failed` | deliveries `delivered`, `undelivered` or `failed` |

These are the lake's raw fields, not detection's windowed features (detection is not imported
here): a probation looks at its own window, from its start, not at the last 24 h or 7 days.
All probations of a sweep are measured in one query, joined on a small table of windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pyarrow as pa

from abusedesk.lake.reader import LakeReader

# metric -> (count column, base column) of the query below.
METRICS: Final[dict[str, tuple[str, str]]] = {
    "complaint_rate": ("complaints", "sent"),
    "bounce_rate": ("hard_bounces", "email_sent"),
    "opt_out_rate": ("opt_outs", "delivered"),
    "sms_error_rate": ("sms_failed", "sms_final"),
}
COLUMNS: Final = (
    "sent",
    "email_sent",
    "complaints",
    "hard_bounces",
    "delivered",
    "opt_outs",
    "sms_failed",
    "sms_final",
)
_WINDOW = (
    "e.account_id = w.account_id AND e.day BETWEEN w.d0 AND w.d1 AND e.ts >= w.t0 AND e.ts < w.t1"
)
_SQL: Final = f"""
WITH m AS (
    SELECT w.pid,
           count(*) AS sent,
           count(*) FILTER (WHERE e.channel = 'email') AS email_sent
    FROM _probation_windows w JOIN messages e ON {_WINDOW}
    WHERE coalesce(e.direction, 'outbound') = 'outbound'
    GROUP BY w.pid),
d AS (
    SELECT w.pid,
           count(*) FILTER (WHERE e.status = 'bounced'
                            AND e.bounce_type IS DISTINCT FROM 'transient') AS hard_bounces,
           count(*) FILTER (WHERE e.status = 'delivered') AS delivered,
           count(*) FILTER (WHERE e.status IN ('undelivered', 'failed')) AS sms_failed,
           count(*) FILTER (WHERE e.status IN ('delivered', 'undelivered', 'failed')) AS sms_final
    FROM _probation_windows w JOIN deliveries e ON {_WINDOW}
    GROUP BY w.pid),
c AS (
    SELECT w.pid, count(*) AS complaints
    FROM _probation_windows w JOIN complaints e ON {_WINDOW}
    WHERE e.feedback_type IS DISTINCT FROM 'not-spam'
    GROUP BY w.pid),
o AS (
    SELECT w.pid, count(*) AS opt_outs
    FROM _probation_windows w JOIN opt_outs e ON {_WINDOW}
    GROUP BY w.pid)
SELECT w.pid,
       coalesce(m.sent, 0), coalesce(m.email_sent, 0), coalesce(c.complaints, 0),
       coalesce(d.hard_bounces, 0), coalesce(d.delivered, 0), coalesce(o.opt_outs, 0),
       coalesce(d.sms_failed, 0), coalesce(d.sms_final, 0)
FROM _probation_windows w
LEFT JOIN m ON m.pid = w.pid LEFT JOIN d ON d.pid = w.pid
LEFT JOIN c ON c.pid = w.pid LEFT JOIN o ON o.pid = w.pid
"""


@dataclass(frozen=True)
class Window:
    """One probation's window on the lake."""

    probation_id: int
    account_id: str
    start: datetime
    until: datetime


def measure(reader: LakeReader, windows: Sequence[Window]) -> dict[int, dict[str, int]]:
    """probation id -> the counts of COLUMNS in its window."""
    if not windows:
        return {}
    table = pa.table(
        {
            "pid": pa.array([w.probation_id for w in windows], pa.int64()),
            "account_id": pa.array([w.account_id for w in windows], pa.string()),
            "t0": pa.array([w.start for w in windows], pa.timestamp("us", tz="UTC")),
            "t1": pa.array([w.until for w in windows], pa.timestamp("us", tz="UTC")),
            "d0": pa.array([w.start.date() for w in windows], pa.date32()),
            "d1": pa.array([w.until.date() for w in windows], pa.date32()),
        }
    )
    cursor = reader.con.cursor()
    try:
        cursor.register("_probation_windows", table)
        rows = cursor.execute(_SQL).fetchall()
    finally:
        cursor.close()
    return {int(row[0]): dict(zip(COLUMNS, map(int, row[1:]), strict=True)) for row in rows}
