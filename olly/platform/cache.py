"""Caches for fast-path reads: in-process TTL by default, Redis/Valkey when ``OLLY_REDIS_URL`` is set.

Invalidation is by *generation*: a cached value's key includes its subject's generation number, and
invalidating a subject bumps that number, so every cached answer about the subject (any date, any
service type) is abandoned at once without scanning keys. A cache is an optimisation: a backend
failure is logged and treated as a miss, never as an error to the caller.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from olly.platform.eventloop import refuse_on_event_loop
from olly.platform.logging import get_logger

log = get_logger("olly.cache")


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, byte for byte what FastAPI's ``JSONResponse`` would send."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


class Cache(Protocol):
    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    def get_document(self, key: str) -> tuple[Any, bytes] | None:
        """A JSON document stored with ``set_document``: the value and its serialised bytes, so a
        fast path can send the bytes as they are."""
        ...

    def set_document(self, key: str, value: Any, ttl_seconds: float) -> bytes:
        """Store a JSON-ready value with its serialisation; returns the bytes."""
        ...

    def generation(self, subject: str) -> int: ...

    def invalidate(self, subject: str) -> None: ...


class MemoryCache:
    """A bounded, thread-safe TTL cache (least recently used entries go first when full)."""

    def __init__(self, max_entries: int = 100_000, clock: Any = time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self._max = max_entries
        self._now = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self._now():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        with self._lock:
            self._data[key] = (self._now() + ttl_seconds, value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def get_document(self, key: str) -> tuple[Any, bytes] | None:
        found = self.get(key)
        return found if isinstance(found, tuple) else None

    def set_document(self, key: str, value: Any, ttl_seconds: float) -> bytes:
        body = json_bytes(value)
        self.set(key, (value, body), ttl_seconds)
        return body

    def generation(self, subject: str) -> int:
        return self._generations.get(subject, 0)

    def invalidate(self, subject: str) -> None:
        with self._lock:
            self._generations[subject] = self._generations.get(subject, 0) + 1


class RedisCache:
    """The same cache on Redis/Valkey, shared by every process; values are JSON."""

    def __init__(self, url: str, prefix: str = "olly:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.05, socket_connect_timeout=0.5)
        self._prefix = prefix
        self._failure: type[Exception] = redis.RedisError

    def get(self, key: str) -> Any | None:
        refuse_on_event_loop("redis")
        try:
            raw = self._redis.get(self._prefix + key)
        except self._failure:  # a cache outage is a miss
            log.warning("cache get failed")
            return None
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        refuse_on_event_loop("redis")
        try:
            self._redis.set(self._prefix + key, json.dumps(value), px=max(1, int(ttl_seconds * 1000)))
        except self._failure:
            log.warning("cache set failed")

    def get_document(self, key: str) -> tuple[Any, bytes] | None:
        refuse_on_event_loop("redis")
        try:
            raw = self._redis.get(self._prefix + key)
        except self._failure:
            log.warning("cache get failed")
            return None
        if raw is None:
            return None
        body = raw if isinstance(raw, bytes) else str(raw).encode()
        return json.loads(body), body

    def set_document(self, key: str, value: Any, ttl_seconds: float) -> bytes:
        refuse_on_event_loop("redis")
        body = json_bytes(value)
        try:
            self._redis.set(self._prefix + key, body, px=max(1, int(ttl_seconds * 1000)))
        except self._failure:
            log.warning("cache set failed")
        return body

    def generation(self, subject: str) -> int:
        refuse_on_event_loop("redis")
        try:
            raw = self._redis.get(self._prefix + "gen:" + subject)
        except self._failure:
            log.warning("cache generation read failed")
            return -1  # an unknown generation never matches a stored key: a miss
        return int(raw) if raw is not None else 0

    def invalidate(self, subject: str) -> None:
        refuse_on_event_loop("redis")
        try:
            self._redis.incr(self._prefix + "gen:" + subject)
        except self._failure:
            log.error("cache invalidation failed")


def build_cache(redis_url: str | None) -> Cache:
    return RedisCache(redis_url) if redis_url else MemoryCache()


_shared: dict[str | None, Cache] = {}
_shared_lock = threading.Lock()


def shared_cache(redis_url: str | None) -> Cache:
    """One cache per process and backend, so a consumer's invalidation reaches the API's reads."""
    with _shared_lock:
        cache = _shared.get(redis_url)
        if cache is None:
            cache = _shared[redis_url] = build_cache(redis_url)
        return cache
