"""Token buckets, in process and in Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from olly.kernel.clock import FixedClock
from olly.platform.auth.ratelimit import MemoryRateLimiter, Rate, RateLimiter, RedisRateLimiter
from tests.services import require_redis

RATE = Rate(capacity=3, period_seconds=60)  # one token every 20 seconds


def _exercise(limiter: RateLimiter, clock: FixedClock, key: str) -> None:
    assert [limiter.hit("login", key, RATE).allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("login", key, RATE).retry_after_seconds == 20
    assert limiter.hit("login", f"{key}-other", RATE).allowed  # buckets are per key
    clock.advance(timedelta(seconds=20))
    assert [limiter.hit("login", key, RATE).allowed for _ in range(2)] == [True, False]
    clock.advance(timedelta(minutes=10))
    assert [limiter.hit("login", key, RATE).allowed for _ in range(4)] == [True, True, True, False]


def test_memory_token_bucket() -> None:
    clock = FixedClock(datetime(2026, 1, 15, 9, tzinfo=UTC))
    _exercise(MemoryRateLimiter(clock), clock, "client-a")


def test_redis_token_bucket_is_shared_between_limiters() -> None:
    import redis

    url = require_redis()
    clock = FixedClock(datetime(2026, 1, 15, 9, tzinfo=UTC))
    client = redis.Redis.from_url(url)
    prefix = f"olly-test:{uuid.uuid4().hex}"
    try:
        first = RedisRateLimiter(client, clock, prefix=prefix)
        _exercise(first, clock, "client-a")
        second = RedisRateLimiter(client, clock, prefix=prefix)  # another process, same bucket
        assert not second.hit("login", "client-a", RATE).allowed
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def test_redis_outage_fails_open() -> None:
    import redis

    clock = FixedClock(datetime(2026, 1, 15, 9, tzinfo=UTC))
    limiter = RedisRateLimiter(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), clock)
    assert limiter.hit("login", "client-a", RATE).allowed
