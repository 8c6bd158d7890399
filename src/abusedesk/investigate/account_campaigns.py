"""The account 360's campaigns: the campaigns the account's recent messages belong to, and how
many of the other accounts in them are already acted on.

Grouping the whole lake per page view is out of the question (a 24 M-event lake; the 360 has a
1 s budget), so only the account's neighbourhood is grouped: its newest OWN_MESSAGES messages
of the last `campaign_days` days up to its last event, and the newest `campaign_rows`
messages of any account within PAD of them that share something with them: a sender, a link domain
or a literal fragment of a template (the longest run of its text without digits, links or
addresses; near-duplicates of one template keep such runs). The lake stores no template
fingerprint, so the fragment is the template test the lake can answer; grouping then decides
with the same MinHash and link rules as `abusedesk campaigns` (content.campaigns).

What this misses, by design: members joined to the account's campaign only through a third
message that shares nothing with the account's own (one hop, not the transitive closure), and
anything past the row cap (`capped` says so). The figures are of what was read, so a campaign's
id matches `abusedesk campaigns list` when its templates are the same ones (Campaign.id).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select

from abusedesk.content.campaigns import group_campaigns, message_domains
from abusedesk.content.normalize import normalize
from abusedesk.investigate.lake_reads import AccountLake, DayRange
from abusedesk.storage.db import Store
from abusedesk.storage.models import Action, Case

OWN_MESSAGES: Final = 50
# The other accounts' messages are read from PAD before the oldest of the account's messages
# read to PAD after its newest: a campaign's accounts send within hours of each other. Reading
# the message bodies of the day partitions this span touches is most of a 360's campaign cost
# (bench/desk.py --days 3 --scale 12: about 90 ms of the 140 ms the read took).
PAD: Final = timedelta(hours=3)
MAX_KEYS: Final = 10  # senders, domains and fragments each
OTHERS_SHOWN: Final = 20
# A fragment: text without digits, links, addresses or line breaks, long enough to be a
# template's own words rather than everyone's ("Reply STOP to opt out" is 21 characters).
_FRAGMENT = re.compile(r"[^\d\n\r@/:]{24,}")
FRAGMENT_CHARS: Final = 80
_FIRST_WORD = re.compile(r"^\S*\s+|^\S*$")
_LAST_WORD = re.compile(r"\s+\S*$|^\S*$")


def template_fragment(body: str) -> str | None:
    """The longest run of a text without digits, links or addresses (cut at FRAGMENT_CHARS),
    of at least four whole words; None when there is none. A word the run cuts (the "X" of a
    code "Q1001X") is left out: it is a part of what varies."""
    runs = []
    for found in _FRAGMENT.finditer(body):
        run, start, end = found.group(), found.start(), found.end()
        if start > 0 and not body[start - 1].isspace() and not run[0].isspace():
            run = _FIRST_WORD.sub("", run, count=1)  # starts inside a word
        if run and end < len(body) and not body[end].isspace() and not run[-1].isspace():
            run = _LAST_WORD.sub("", run, count=1)  # ends inside a word
        run = run.strip()  # still a substring of the body: the lake is asked for it as is
        if len(run.split()) >= 4:
            runs.append(run)
    if not runs:
        return None
    longest: str = max(runs, key=len)
    return longest[:FRAGMENT_CHARS].strip()


def account_campaigns(
    store: Store,
    lake: AccountLake,
    account_id: str,
    last_seen: datetime,
    *,
    days: int,
    rows: int,
) -> dict[str, Any]:
    """The campaigns of the account's recent messages, with the window and rows read."""
    last = last_seen.date()
    window = DayRange(first=last - timedelta(days=days - 1), last=last)
    own = lake.message_sample([account_id], window, OWN_MESSAGES)
    own = [m for m in own if isinstance(m.get("body"), str) and m.get("direction") != "inbound"]
    senders, domains, fragments = _keys(own)
    neighbours: list[dict[str, Any]] = []
    if own:
        since = min(m["ts"] for m in own) - PAD
        until = max(m["ts"] for m in own) + PAD
        # Only the day partitions the span touches: reading bodies is most of the cost, and
        # a day's row groups (sorted by account) hold every hour, so the time filter alone
        # skips none of them.
        days_read = DayRange(max(window.first, since.date()), min(window.last, until.date()))
        neighbours = lake.campaign_neighbours(
            days_read,
            since,
            until,
            senders=senders,
            domains=domains,
            fragments=fragments,
            limit=rows,
        )
    seen = {m["id"] for m in neighbours}
    messages = neighbours + [m for m in own if m["id"] not in seen]
    messages.sort(key=lambda m: (m["ts"], m["id"]))
    found = [c for c in group_campaigns(messages) if account_id in c.accounts]
    others = sorted({a for c in found for a in c.accounts if a != account_id})
    enforced, confirmed = _acted_on(store, others)
    campaigns = []
    for c in found:
        rest = c.accounts - {account_id}
        campaigns.append(
            {
                "campaign": c.id,
                "accounts": len(c.accounts),
                "messages": c.messages,
                "first": c.first.isoformat() if c.first else None,
                "last": c.last.isoformat() if c.last else None,
                "domains": sorted(c.domains)[:10],
                # Under "body", so the 360's masking (auth.pii) hides it like any message body.
                "sample": {"body": c.samples[0]} if c.samples else None,
                "other_accounts": sorted(rest)[:OTHERS_SHOWN],
                "others_enforced": len(rest & enforced),
                "others_confirmed": len(rest & confirmed),
                "others_acted_on": len(rest & (enforced | confirmed)),
            }
        )
    return {
        "window": {"first_day": window.first.isoformat(), "last_day": window.last.isoformat()},
        "messages_read": len(messages),
        "capped": len(neighbours) >= rows,
        "campaigns": campaigns,
    }


def _keys(own: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """The senders, link domains and template fragments of the account's messages, most
    frequent first, MAX_KEYS of each."""
    senders: dict[str, int] = {}
    domains: dict[str, int] = {}
    fragments: dict[str, str | None] = {}  # normalised text -> its fragment
    counts: dict[str, int] = {}
    for message in own:
        sender = message.get("from")
        if isinstance(sender, str) and sender:
            senders[sender] = senders.get(sender, 0) + 1
        for domain in message_domains(message):
            domains[domain] = domains.get(domain, 0) + 1
        body = str(message["body"])
        key = normalize(body)
        if key not in fragments:
            fragments[key] = template_fragment(body)
        counts[key] = counts.get(key, 0) + 1

    def top(counted: dict[str, int]) -> list[str]:
        return sorted(counted, key=lambda k: (-counted[k], k))[:MAX_KEYS]

    texts = [fragments[k] for k in top(counts)]
    return top(senders), top(domains), sorted({t for t in texts if t})


def _acted_on(store: Store, accounts: list[str]) -> tuple[set[str], set[str]]:
    """Of `accounts`: those with an active enforcement action, those with a confirmed case."""
    if not accounts:
        return set(), set()
    enforced: set[str] = set()
    confirmed: set[str] = set()
    with store.sessions() as session:
        for start in range(0, len(accounts), 500):
            chunk = accounts[start : start + 500]
            enforced.update(
                session.execute(
                    select(Action.account_id)
                    .where(Action.account_id.in_(chunk), Action.status == "active")
                    .distinct()
                ).scalars()
            )
            confirmed.update(
                session.execute(
                    select(Case.account_id)
                    .where(Case.account_id.in_(chunk), Case.resolution == "violation_confirmed")
                    .distinct()
                ).scalars()
            )
    return enforced, confirmed
