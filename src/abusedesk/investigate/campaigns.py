"""Campaigns of the lake, for the people and jobs that act on them: `abusedesk campaigns`,
bulk actions on a campaign (`bulk plan --campaign`, `POST /v1/bulk`) and the account 360.

The grouping is content.campaigns (near-duplicate templates, shared link domains and senders);
this module decides which messages it reads, and bounds them. Whole-window grouping
(`lake_campaigns`) reads the outbound messages of a window, oldest first, at most
`max_messages` of them; the window defaults to the DEFAULT_DAYS days up to the lake's newest
message day (found from the partition folders, not by a scan). The account 360's campaigns
are in account_campaigns.py: they group a neighbourhood of the account, never the window.

A campaign id is the hash of its smallest template (content.campaigns.Campaign.id), so the same
messages give the same id whatever order they are read in; a different window can still give a
different id when it holds other templates of the campaign, so a bulk job records the window
it selected in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from abusedesk.content.campaigns import Campaign, group_campaigns
from abusedesk.errors import NotFoundError
from abusedesk.lake.reader import LakeReader

DEFAULT_DAYS: Final = 7
MAX_MESSAGES: Final = 250_000
# The columns grouping reads (content.campaigns.group_campaigns).
COLUMNS: Final = ("account_id", "ts", "from", "subject", "body", "direction")


@dataclass(frozen=True)
class CampaignScan:
    """The campaigns of a window, and what was read to find them."""

    campaigns: list[Campaign]
    since: datetime | None  # None: the lake has no messages
    messages: int  # outbound messages with text read
    capped: bool  # True: reading stopped at max_messages; later messages were not read
    read_until: datetime | None  # the newest message read

    def window(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "read_until": None if self.read_until is None else self.read_until.isoformat(),
            "messages": self.messages,
            "capped": self.capped,
        }

    def note(self) -> str | None:
        """A line for people when the cap cut the window short."""
        if not self.capped or self.read_until is None:
            return None
        return (
            f"read the first {self.messages:,} messages (up to {self.read_until.isoformat()}); "
            "later messages were not grouped: narrow the window with --since"
        )


def newest_message_day(lake_dir: Path) -> date | None:
    """The newest day folder of the lake's messages (no scan: the partition names)."""
    days = []
    for path in (lake_dir / "events" / "type=message").glob("day=*"):
        try:
            days.append(date.fromisoformat(path.name.removeprefix("day=")))
        except ValueError:
            continue
    return max(days, default=None)


def default_since(lake_dir: Path, days: int = DEFAULT_DAYS) -> datetime | None:
    newest = newest_message_day(lake_dir)
    if newest is None:
        return None
    return datetime.combine(newest - timedelta(days=days - 1), time(), tzinfo=UTC)


def _messages(
    reader: LakeReader, since: datetime, limit: int, batch: int = 50_000
) -> Iterator[dict[str, Any]]:
    """Outbound messages with text from `since` on, oldest first, at most `limit`."""
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    cursor = reader.con.cursor()
    try:
        cursor.execute(
            f"SELECT {columns} FROM messages WHERE day >= $d0 AND ts >= $since "
            "AND coalesce(direction, 'outbound') = 'outbound' AND body IS NOT NULL "
            "ORDER BY ts, id LIMIT $lim",
            {"d0": since.date(), "since": since, "lim": limit},
        )
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield dict(zip(COLUMNS, row, strict=True))
    finally:
        cursor.close()


def lake_campaigns(
    reader: LakeReader,
    lake_dir: Path,
    *,
    since: datetime | None = None,
    min_accounts: int = 2,
    max_messages: int = MAX_MESSAGES,
) -> CampaignScan:
    """The campaigns of at least `min_accounts` accounts among the window's messages."""
    start = since or default_since(lake_dir)
    if start is None:
        return CampaignScan([], None, 0, False, None)
    read = 0
    newest: datetime | None = None

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal read, newest
        for message in _messages(reader, start, max_messages):
            read += 1
            newest = message["ts"]
            yield message

    found = group_campaigns(counted(), min_accounts=min_accounts)
    capped = read == max_messages and _has_more(reader, start, max_messages)
    return CampaignScan(found, start, read, capped, newest)


def _has_more(reader: LakeReader, since: datetime, cap: int) -> bool:
    """Whether the window holds more than `cap` messages (a count, no bodies read)."""
    row = reader.con.execute(
        "SELECT count(*) > $cap FROM (SELECT 1 FROM messages WHERE day >= $d0 AND ts >= $since "
        "AND coalesce(direction, 'outbound') = 'outbound' AND body IS NOT NULL LIMIT $cap + 1)",
        {"d0": since.date(), "since": since, "cap": cap},
    ).fetchone()
    return bool(row and row[0])


def find_campaign(scan: CampaignScan, campaign_id: str) -> Campaign:
    campaign = next((c for c in scan.campaigns if c.id == campaign_id), None)
    if campaign is None:
        since = "" if scan.since is None else f" since {scan.since.isoformat()}"
        raise NotFoundError(
            f"no campaign {campaign_id} in the lake's messages{since} (see: abusedesk campaigns list)"
        )
    return campaign


def campaign_selector(scan: CampaignScan, campaign: Campaign) -> dict[str, Any]:
    """What a bulk job records of a campaign selection: the id and the window it was found in."""
    return {"campaign": campaign.id, **scan.window()}
