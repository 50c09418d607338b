"""Token-bucket rate limits: in-process by default, shared through Redis when ``OLLY_REDIS_URL`` is set.

A bucket holds up to ``capacity`` tokens and refills at ``capacity / period`` tokens per second;
each request takes one. Time comes from the injected clock (Redis is told the time), so tests
move through refills without sleeping and several processes agree on one bucket.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Final, Protocol

from olly.kernel.clock import Clock
from olly.platform.logging import get_logger

log = get_logger("olly.ratelimit")


@dataclass(frozen=True, slots=True)
class Rate:
    capacity: int
    period_seconds: float

    @property
    def per_second(self) -> float:
        return self.capacity / self.period_seconds


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int = 0


class RateLimiter(Protocol):
    def hit(self, bucket: str, key: str, rate: Rate) -> RateDecision: ...


def _retry_after(tokens: float, rate: Rate) -> int:
    return max(1, math.ceil((1 - tokens) / rate.per_second))


class MemoryRateLimiter:
    """One process's buckets. Idle buckets are dropped once they would be full again."""

    MAX_BUCKETS: Final = 100_000

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str, rate: Rate) -> RateDecision:
        now = self.clock.now().timestamp()
        with self._lock:
            tokens, updated = self._buckets.get((bucket, key), (float(rate.capacity), now))
            tokens = min(float(rate.capacity), tokens + max(0.0, now - updated) * rate.per_second)
            if tokens < 1:
                self._buckets[(bucket, key)] = (tokens, now)
                return RateDecision(False, _retry_after(tokens, rate))
            self._buckets[(bucket, key)] = (tokens - 1, now)
            if len(self._buckets) > self.MAX_BUCKETS:
                self._prune(now, rate)
        return RateDecision(True)

    def _prune(self, now: float, rate: Rate) -> None:
        horizon = rate.period_seconds
        for item, (_, updated) in list(self._buckets.items()):
            if now - updated > horizon:
                del self._buckets[item]


# KEYS[1] bucket key; ARGV: capacity, refill per second, now (seconds), ttl (seconds)
_LUA: Final = """
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
local elapsed = now - updated
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + elapsed * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """Buckets in Redis, updated atomically by a Lua script, shared by every Olly process."""

    def __init__(self, client: Any, clock: Clock, prefix: str = "olly:rl") -> None:
        self.client = client
        self.clock = clock
        self.prefix = prefix
        self._script = client.register_script(_LUA)

    @classmethod
    def from_url(cls, url: str, clock: Clock) -> RedisRateLimiter:
        import redis

        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2), clock)

    def hit(self, bucket: str, key: str, rate: Rate) -> RateDecision:
        import redis

        now = self.clock.now().timestamp()
        ttl = max(1, math.ceil(rate.period_seconds * 2))
        try:
            allowed, tokens = self._script(
                keys=[f"{self.prefix}:{bucket}:{key}"], args=[rate.capacity, rate.per_second, now, ttl]
            )
        except redis.RedisError:
            # Fail open: a Redis outage must not lock everyone out; lockout still guards accounts.
            log.warning("rate limiter unavailable; request allowed", bucket=bucket)
            return RateDecision(True)
        if int(allowed) == 1:
            return RateDecision(True)
        return RateDecision(False, _retry_after(float(tokens), rate))
