"""RedisStore: the same feature state in Redis, for several detection workers to share.

Every call is one EVALSHA of the script in redis_lua.py, which applies the events in order on
the server: `apply` costs one round trip per event and `apply_many` one per batch (split every
`max_batch` events so one script never blocks the server for long; results do not depend on
the split, since each event is still processed in order against the state it leaves behind).

Keys expire `window + lateness + bucket + ttl_margin_s` seconds after their last write: a safety
net for memory, not part of the semantics. Each key's lateness watermark is a field of its
state (redis_lua.py) and expires with it; there is no store-wide watermark. The script also trims old buckets as heads move, so
a busy key stays at about n + lateness/bucket buckets. The TTL is wall-clock time while windows
are event time; the two agree when events arrive near real time or when a replay runs faster
than real time. Ages have no window and do not expire unless `age_ttl_s` is set.

The script builds key names from the prefix, so it needs a single Redis (or a prefix with a
hash tag, e.g. "adk:{shard1}", on a cluster): all keys of one batch live on one node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from redis import Redis

from abusedesk.detection.features.keys import encode_value, key_token
from abusedesk.detection.features.redis_lua import script
from abusedesk.detection.features.store import (
    DEFAULT_LATENESS_S,
    EventOps,
    Key,
    Read,
    TableSpec,
    Update,
)


class RedisStore:
    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "adk",
        lateness_s: int = DEFAULT_LATENESS_S,
        ttl_margin_s: int = 3600,
        age_ttl_s: int | None = None,
        max_batch: int = 1000,
    ) -> None:
        if lateness_s < 0 or ttl_margin_s < 0 or max_batch < 1:
            raise ValueError("lateness_s and ttl_margin_s must be >= 0, max_batch >= 1")
        self._client = client
        self.prefix = prefix
        self._lateness = lateness_s
        self._margin = ttl_margin_s
        self._age_ttl = age_ttl_s or 0
        self._max_batch = max_batch
        self._tables: tuple[TableSpec, ...] = ()
        self._script: Any = None
        self._dropped_late = 0
        self._tokens: dict[Key, str] = {}

    @property
    def lateness_s(self) -> int:
        return self._lateness

    @property
    def dropped_late(self) -> int:
        return self._dropped_late

    def bind(self, tables: Sequence[TableSpec]) -> None:
        self._tables = tuple(tables)
        ttls = [self._ttl(t) for t in self._tables]
        self._script = self._client.register_script(script(self._tables, ttls))

    def _ttl(self, table: TableSpec) -> int:
        if table.kind == "age":
            return self._age_ttl
        window = table.bucket_s * table.n_buckets
        return window + self._lateness + table.bucket_s + self._margin

    def apply(
        self,
        ts: int,
        keys: Sequence[Key | None],
        updates: Sequence[Update],
        reads: Sequence[Read],
    ) -> list[Any]:
        return self.apply_many([(ts, keys, updates, reads)])[0]

    def apply_many(self, events: Sequence[EventOps]) -> list[list[Any]]:
        results: list[list[Any]] = []
        for start in range(0, len(events), self._max_batch):
            results.extend(self._run(events[start : start + self._max_batch]))
        return results

    def _run(self, events: Sequence[EventOps]) -> list[list[Any]]:
        if self._script is None:
            raise RuntimeError("RedisStore.bind() must be called before use")
        # The batch travels as one JSON argument: redis-py encodes each argument separately,
        # which cost more than the server's work when every operation was its own argument.
        batch: list[Any] = []
        for ts, keys, updates, reads in events:
            tokens = [None if key is None else self._token(key) for key in keys]
            ups: list[Any] = []
            for table, group, arg in updates:
                ups += (table + 1, tokens[group], self._arg(table, arg))
            rds: list[Any] = []
            for table, group in reads:
                if tokens[group] is not None:
                    rds += (table + 1, tokens[group])
            batch.append((ts, ups, rds))
        reply = orjson.loads(
            self._script(keys=[], args=[self.prefix, self._lateness, orjson.dumps(batch)])
        )
        self._dropped_late += int(reply[0])
        return self._split(events, reply)

    def _token(self, key: Key) -> str:
        token = self._tokens.get(key)
        if token is None:
            if len(self._tokens) >= 100_000:  # a plain bounded cache: hashing is cheap anyway
                self._tokens.clear()
            token = self._tokens[key] = key_token(key)
        return token

    def _arg(self, table: int, arg: Any) -> str:
        spec = self._tables[table]
        if spec.kind == "distinct":
            return encode_value(arg)
        if spec.kind == "age":
            return "0"
        # repr() of a float is the shortest text that parses back to the same double.
        return str(int(arg)) if isinstance(arg, int) else repr(float(arg))

    def _split(self, events: Sequence[EventOps], reply: list[Any]) -> list[list[Any]]:
        values = iter(reply[1:])
        tables = self._tables
        out: list[list[Any]] = []
        for _, keys, _, reads in events:
            row: list[Any] = []
            for table, group in reads:
                if keys[group] is None:
                    row.append(None)
                    continue
                value = next(values)
                spec = tables[table]
                if value is None:
                    row.append(None)
                elif spec.kind == "window" and not spec.integer:
                    row.append(float(value))
                else:
                    row.append(int(value))
            out.append(row)
        return out
