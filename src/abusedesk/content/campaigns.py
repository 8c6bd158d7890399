"""Campaigns: one template sent from many accounts, found by near-duplicate text, shared link
domains and shared sender numbers.

Each message's text is normalised (content.normalize: links, numbers, codes and amounts become
tokens) and cut into word 3-shingles; a MinHash of them goes into a MinHash LSH index
(datasketch), which finds earlier messages whose shingle sets overlap at least `threshold`
(Jaccard). Messages join when they are near duplicates, link to the same registered domain
(enrichment's `url_domains` of the subject and body; shorteners excepted: bit.ly is everyone's), or come from the same sender number or address.
Joined messages form a campaign (union-find); a campaign's accounts are what rules read as
`campaign_accounts` (accounts seen in this message's campaign so far, this one included).

Work is bounded: an identical normalised text is hashed once (templates repeat), and at most
`max_templates` distinct texts are indexed; later new texts still join by domain and sender.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from abusedesk.content.normalize import normalize
from abusedesk.enrich.body_cache import text_fields
from abusedesk.enrich.urls import default_shorteners, find_links

NUM_PERM: Final = 64
SHINGLE: Final = 3
MIN_WORDS: Final = 5


def shingles(normalized: str) -> set[bytes]:
    """The word 3-shingles of a normalised text (content.normalize)."""
    words = normalized.split()
    if len(words) < SHINGLE:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self.parent.setdefault(key, key)
        if parent == key:
            return key
        root = self.find(parent)
        self.parent[key] = root
        return root

    def union(self, a: str, b: str) -> str:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
        return ra


@lru_cache(maxsize=8)
def _lsh_bands(threshold: float) -> tuple[int, int]:
    """MinHashLSH's bands and rows for a threshold, found once: it integrates for them on
    every construction (20 ms, most of grouping an account 360's few hundred messages)."""
    from datasketch import MinHashLSH

    probe = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return probe.b, probe.r


# Shingles whose hash values are kept (~0.7 kB each): a new template is mostly the shingles
# of the templates before it with a name or a word changed.
SHINGLE_CACHE: Final = 1 << 14
# Distinct (template, sender, link domains) remembered for observe's fast path.
SEEN_SIZE: Final = 1 << 16


class _Sketches:
    """MinHash values of shingle sets, as datasketch's MinHash computes them, and the banded
    index of MinHashLSH over them.

    A MinHash's values are the element-wise minimum over its shingles of each shingle's own
    values, so those are computed once per shingle (by datasketch, on a one-shingle MinHash)
    and a new template costs a minimum over arrays. The index keeps, per band, the templates
    whose band of values is equal, as MinHashLSH does (its candidates: a band in common), in a
    dict instead of its storage layer. Building the MinHash (random permutations checked per
    construction), filling it and querying and inserting into MinHashLSH were 1.3 ms a new
    template, which on the simulator's day is one message in 14 (names make new templates).
    """

    def __init__(self, threshold: float) -> None:
        from datasketch import MinHash

        self.threshold = threshold
        bands, rows = _lsh_bands(threshold)
        self._ranges = [(i * rows, (i + 1) * rows) for i in range(bands)]
        self._tables: list[dict[bytes, list[str]]] = [{} for _ in self._ranges]
        self._values: dict[str, NDArray[np.uint64]] = {}  # node -> its MinHash values
        self._shingles: dict[bytes, NDArray[np.uint64]] = {}
        self._scratch = MinHash(num_perm=NUM_PERM)

    def __len__(self) -> int:
        return len(self._values)

    def _of_shingle(self, shingle: bytes) -> NDArray[np.uint64]:
        values = self._shingles.get(shingle)
        if values is None:
            if len(self._shingles) >= SHINGLE_CACHE:
                self._shingles.clear()
            scratch = self._scratch
            scratch.clear()
            scratch.update(shingle)
            values = self._shingles[shingle] = scratch.hashvalues.copy()
        return values

    def add(self, node: str, shingled: set[bytes]) -> list[str]:
        """Index a template's shingles under `node`; the earlier templates it joins (the
        candidates of a band in common whose estimated Jaccard similarity is at least the
        threshold, as MinHash.jaccard estimates it)."""
        of_shingle = self._of_shingle
        values: NDArray[np.uint64] = np.minimum.reduce([of_shingle(s) for s in shingled])
        keys = [values[start:end].tobytes() for start, end in self._ranges]
        candidates: set[str] = set()
        for key, table in zip(keys, self._tables, strict=True):
            found = table.get(key)
            if found is None:
                table[key] = [node]
            else:
                candidates.update(found)
                found.append(node)
        joined = [
            other
            for other in candidates
            if np.count_nonzero(values == self._values[other]) / NUM_PERM >= self.threshold
        ]
        self._values[node] = values
        return joined


class CampaignIndex:
    """Streaming grouping of messages into campaigns; `observe` returns the campaign's key."""

    def __init__(self, *, threshold: float = 0.8, max_templates: int = 200_000) -> None:
        self.threshold = threshold
        self.max_templates = max_templates
        self._sketches = _Sketches(threshold)
        self._template_node: dict[str, str] = {}  # normalised text -> its node
        self._groups = _UnionFind()
        self._accounts: dict[str, set[str]] = {}  # root -> accounts
        # (template node, sender, domains) -> the campaign root it joined when last observed
        self._seen: dict[tuple[str, str | None, tuple[str, ...]], str] = {}
        self._shorteners = default_shorteners()

    def template(self, text: str) -> str:
        """The node of a text's template (normalised text), indexing it when new."""
        key = normalize(text)  # the scorer's normalize(text) of the same body: memoised
        node = self._template_node.get(key)
        if node is not None:
            return node
        node = "t:" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
        self._template_node[key] = node
        # A text of a few words ("STOP", "Yes thanks") is everyone's: it joins nothing.
        if len(key.split()) >= MIN_WORDS and len(self._sketches) < self.max_templates:
            for other in self._sketches.add(node, shingles(key)):
                self._groups.union(other, node)
        return node

    def observe(
        self,
        account: str | None,
        text: str,
        sender: str | None = None,
        domains: Iterable[str] | None = None,
    ) -> str:
        """Add one message; the key (root) of the campaign it belongs to now. `domains`: the
        registered domains of its links (enrichment's `url_domains`; found in `text` when
        not given)."""
        node = self.template(text)
        if domains is None:
            domains = [link.domain for link in find_links(text, self._shorteners)]
        # A message like one seen before (template, sender, domains) whose campaign has not
        # merged since: its keys are all in that campaign already, so only the account is
        # added (the union-find walk and merges below cost four times this).
        seen = (node, sender, domains if isinstance(domains, tuple) else tuple(domains))
        root = self._seen.get(seen)
        if root is not None and self._groups.parent[root] == root:
            if account is not None:
                self._accounts[root].add(account)
            return root
        keys = [node]
        for domain in domains:
            if domain not in self._shorteners:
                keys.append("d:" + domain)
        if sender:
            keys.append("s:" + sender.lower())
        root = self._groups.find(node)
        for key in keys[1:]:
            root = self._merge(root, self._groups.find(key))
        root = self._merge(root, self._groups.find(node))
        accounts = self._accounts.setdefault(root, set())
        if account is not None:
            accounts.add(account)
        if len(self._seen) >= SEEN_SIZE:
            self._seen.clear()
        self._seen[seen] = root
        return root

    def _merge(self, a: str, b: str) -> str:
        if a == b:
            return a
        root = self._groups.union(a, b)
        other = b if root == a else a
        moved = self._accounts.pop(other, set())
        if moved:
            self._accounts.setdefault(root, set()).update(moved)
        return root

    def accounts(self, key: str) -> set[str]:
        return self._accounts.get(self._groups.find(key), set())

    def campaign_of(self, key: str) -> str:
        return self._groups.find(key)


@dataclass
class Campaign:
    key: str  # its smallest template node: the same campaign read in another window or
    # another order of messages gets the same id, where its union-find root would change
    accounts: set[str] = field(default_factory=set)
    messages: int = 0
    first: datetime | None = None
    last: datetime | None = None
    by_day: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    domains: set[str] = field(default_factory=set)
    senders: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        """A stable id: the hash of the campaign's smallest template node (`key`)."""
        return "c-" + hashlib.blake2b(self.key.encode(), digest_size=5).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.id,
            "accounts": sorted(self.accounts),
            "messages": self.messages,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "by_day": dict(sorted(self.by_day.items())),
            "samples": self.samples,
            "domains": sorted(self.domains)[:20],
            "senders": sorted(self.senders)[:20],
        }


def group_campaigns(
    messages: Iterable[Mapping[str, Any]], *, min_accounts: int = 2, threshold: float = 0.8
) -> list[Campaign]:
    """Campaigns of at least `min_accounts` accounts among message events (dicts with
    account_id, ts, from, body), largest first."""
    index = CampaignIndex(threshold=threshold)
    seen: list[tuple[str, str, Mapping[str, Any]]] = []
    for message in messages:
        body = message.get("body")
        if not isinstance(body, str) or not body or message.get("direction") == "inbound":
            continue
        sender = message.get("from")
        node = index.observe(
            message.get("account_id"),
            body,
            sender if isinstance(sender, str) else None,
            message_domains(message),
        )
        seen.append((node, index.template(body), message))
    campaigns: dict[str, Campaign] = {}
    for node, template, message in seen:
        root = index.campaign_of(node)
        if len(index.accounts(root)) < min_accounts:
            continue
        campaign = campaigns.setdefault(root, Campaign(template))
        campaign.key = min(campaign.key, template)
        _add(campaign, message, index)
    found = list(campaigns.values())
    found.sort(key=lambda c: (-len(c.accounts), -c.messages, c.id))
    return found


def _add(campaign: Campaign, message: Mapping[str, Any], index: CampaignIndex) -> None:
    body = str(message.get("body"))
    account = message.get("account_id")
    if isinstance(account, str):
        campaign.accounts.add(account)
    campaign.messages += 1
    ts = message.get("ts")
    if isinstance(ts, datetime):
        campaign.first = ts if campaign.first is None else min(campaign.first, ts)
        campaign.last = ts if campaign.last is None else max(campaign.last, ts)
        day = ts.date().isoformat()
        campaign.by_day[day] = campaign.by_day.get(day, 0) + 1
    if len(campaign.samples) < 5 and body[:200] not in campaign.samples:
        campaign.samples.append(body[:200])
    for link in find_links(body, index._shorteners) if "." in body else ():
        campaign.domains.add(link.domain)
    sender = message.get("from")
    if isinstance(sender, str):
        campaign.senders.add(sender)


def message_domains(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The registered domains of a message's links, as enrichment finds them (`url_domains`
    of its subject and body; enrich.body_cache)."""
    body = data.get("body")
    text = body if isinstance(body, str) else ""
    subject = data.get("subject")
    if subject and isinstance(subject, str):
        text = f"{subject}\n{text}"
    return tuple(text_fields(text)["url_domains"]) if text else ()


def observe_message(
    index: CampaignIndex,
    account: str | None,
    data: Mapping[str, Any],
    domains: Iterable[str] | None = None,
) -> str | None:
    """Add one message event to the index; the key of its campaign now, None for an inbound
    message or one without text. `domains`: the event's `url_domains` when its row has them
    already (detection enriches first), else message_domains(data)."""
    body = data.get("body")
    if not isinstance(body, str) or not body or data.get("direction") == "inbound":
        return None
    sender = data.get("from")
    return index.observe(
        account,
        body,
        sender if isinstance(sender, str) else None,
        message_domains(data) if domains is None else domains,
    )


def campaign_accounts(
    index: CampaignIndex,
    account: str | None,
    data: Mapping[str, Any],
    domains: Iterable[str] | None = None,
) -> int | None:
    """`campaign_accounts` of one message event: accounts in its campaign so far (itself
    included); None for an inbound message or one without text (observe_message)."""
    key = observe_message(index, account, data, domains)
    return None if key is None else len(index.accounts(key))
