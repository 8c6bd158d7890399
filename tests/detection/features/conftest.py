"""Fixtures for the feature tests: a real Redis with a unique key prefix, cleaned afterwards.

Redis being down is a failure, not a skip: the Redis store is only trusted because these tests
run against a real server. ABUSEDESK_TEST_NO_REDIS=1 skips them, loudly, for machines without.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("ABUSEDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def feature_redis() -> Iterator[redis.Redis]:
    if os.environ.get("ABUSEDESK_TEST_NO_REDIS") == "1":
        pytest.skip(
            "ABUSEDESK_TEST_NO_REDIS=1: the RedisStore agreement tests did NOT run; "
            "RedisStore is unverified on this machine"
        )
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(
            f"Redis at {REDIS_URL} is unreachable ({exc}); start it, or set "
            "ABUSEDESK_TEST_NO_REDIS=1 to skip the Redis tests explicitly"
        )
    yield client
    client.close()


@pytest.fixture
def redis_prefix(feature_redis: redis.Redis) -> Iterator[str]:
    prefix = f"adktest:{uuid.uuid4().hex}"
    yield prefix
    keys = list(feature_redis.scan_iter(f"{prefix}:*", count=10_000))
    for start in range(0, len(keys), 1000):
        feature_redis.delete(*keys[start : start + 1000])
    assert not list(feature_redis.scan_iter(f"{prefix}:*"))
