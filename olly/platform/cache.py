"""Caches for fast-path reads: in-process TTL by default, Redis/Valkey when ``OLLY_REDIS_URL`` is set.

Invalidation is by *generation*: a cached value's key includes its subject's generation number, and
invalidating a subject bumps that number, so every cached answer about the subject (any date, any
service type) is abandoned at once without scanning keys. A cache is an optimisation: a backend
failure is logged and treated as a miss, never as an error to the caller.
"""

from __future__ import annotations

import contextlib
import json
import queue
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from olly.platform.eventloop import refuse_on_event_loop
from olly.platform.logging import get_logger

log = get_logger("olly.cache")


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, byte for byte what FastAPI's ``JSONResponse`` would send."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


#: What a document cache keeps of a document beside its bytes (see ``Cache.set_document``).
Digest = Callable[[Any], Any]


def _whole(document: Any) -> Any:
    """The default digest: the document itself."""
    return document


class Cache(Protocol):
    """Documents (``set_document``) are kept as their JSON bytes, which a fast path sends as they are,
    and a *digest*: what the caller reads of the document on every hit, derived from it by the
    caller's ``digest`` function. A digest of flat values (a tuple of strings and numbers) costs the
    cyclic garbage collector nothing; a parsed JSON document is a few dozen containers it walks in
    every full collection, which in a server holding thousands of answers stops requests for tens of
    milliseconds. The whole document is the bytes, parsed when someone needs it."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    def get_document(self, key: str, digest: Digest = _whole) -> tuple[Any, bytes] | None:
        """A JSON document stored with ``set_document``: its digest and its serialised bytes, so a
        fast path can send the bytes as they are."""
        ...

    def set_document(self, key: str, value: Any, ttl_seconds: float, digest: Digest = _whole) -> bytes:
        """Store a JSON-ready value's serialisation (and, in memory, ``digest(value)``); returns the bytes."""
        ...

    def lookup(self, key: str) -> tuple[Any, float] | None:
        """``get`` with the seconds the value has left to live (to refresh it before it expires)."""
        ...

    def lookup_document(self, key: str, digest: Digest = _whole) -> tuple[tuple[Any, bytes], float] | None:
        """``get_document`` with the seconds the document has left to live."""
        ...

    def generation(self, subject: str) -> int: ...

    def invalidate(self, subject: str) -> None: ...


class MemoryCache:
    """A bounded, thread-safe TTL cache (least recently used entries go first when full)."""

    def __init__(self, max_entries: int = 100_000, clock: Any = time.monotonic) -> None:
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self.max_entries = max_entries
        self._now = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        found = self.lookup(key)
        return None if found is None else found[0]

    def lookup(self, key: str) -> tuple[Any, float] | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            expires, value = entry
            left = expires - self._now()
            if left <= 0:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value, left

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        with self._lock:
            self._data[key] = (self._now() + ttl_seconds, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def get_document(self, key: str, digest: Digest = _whole) -> tuple[Any, bytes] | None:
        found = self.get(key)
        return found if isinstance(found, tuple) else None

    def lookup_document(self, key: str, digest: Digest = _whole) -> tuple[tuple[Any, bytes], float] | None:
        found = self.lookup(key)
        return found if found is not None and isinstance(found[0], tuple) else None

    def set_document(self, key: str, value: Any, ttl_seconds: float, digest: Digest = _whole) -> bytes:
        body = json_bytes(value)
        self.set(key, (digest(value), body), ttl_seconds)
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
        self.prefix = prefix
        self._failure: type[Exception] = redis.RedisError

    def get(self, key: str) -> Any | None:
        refuse_on_event_loop("redis")
        try:
            raw = self._redis.get(self.prefix + key)
        except self._failure:  # a cache outage is a miss
            log.warning("cache get failed")
            return None
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        refuse_on_event_loop("redis")
        try:
            self._redis.set(self.prefix + key, json.dumps(value), px=max(1, int(ttl_seconds * 1000)))
        except self._failure:
            log.warning("cache set failed")

    def lookup(self, key: str) -> tuple[Any, float] | None:
        found = self._raw_with_ttl(key)
        return None if found is None else (json.loads(found[0]), found[1])

    def lookup_document(self, key: str, digest: Digest = _whole) -> tuple[tuple[Any, bytes], float] | None:
        found = self._raw_with_ttl(key)
        if found is None:
            return None
        raw, left = found
        body = raw if isinstance(raw, bytes) else str(raw).encode()
        return (digest(json.loads(body)), body), left

    def _raw_with_ttl(self, key: str) -> tuple[Any, float] | None:
        """The stored bytes and the seconds they have left, in one round trip."""
        refuse_on_event_loop("redis")
        name = self.prefix + key
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(name)
                pipe.pttl(name)
                raw, pttl = pipe.execute()
        except self._failure:
            log.warning("cache get failed")
            return None
        if raw is None or not isinstance(pttl, int) or pttl <= 0:
            return None
        return raw, pttl / 1000

    def get_document(self, key: str, digest: Digest = _whole) -> tuple[Any, bytes] | None:
        refuse_on_event_loop("redis")
        try:
            raw = self._redis.get(self.prefix + key)
        except self._failure:
            log.warning("cache get failed")
            return None
        if raw is None:
            return None
        body = raw if isinstance(raw, bytes) else str(raw).encode()
        return digest(json.loads(body)), body

    def set_document(self, key: str, value: Any, ttl_seconds: float, digest: Digest = _whole) -> bytes:
        refuse_on_event_loop("redis")
        body = json_bytes(value)
        try:
            self._redis.set(self.prefix + key, body, px=max(1, int(ttl_seconds * 1000)))
        except self._failure:
            log.warning("cache set failed")
        return body

    def generation(self, subject: str) -> int:
        refuse_on_event_loop("redis")
        try:
            raw = self._redis.get(self.prefix + "gen:" + subject)
        except self._failure:
            log.warning("cache generation read failed")
            return -1  # an unknown generation never matches a stored key: a miss
        return int(raw) if raw is not None else 0

    def invalidate(self, subject: str) -> None:
        refuse_on_event_loop("redis")
        try:
            self._redis.incr(self.prefix + "gen:" + subject)
        except self._failure:
            log.error("cache invalidation failed")

    def publish(self, channel: str, message: str) -> None:
        refuse_on_event_loop("redis")
        try:
            self._redis.publish(channel, message)
        except self._failure:
            log.error("cache invalidation not published")


class NearCache:
    """Redis/Valkey shared by every process, with a copy of what this process read kept in memory.

    A cached answer on Redis alone costs round trips (the subject's generation, then the answer) from
    the thread pool; from the near copy it costs a dictionary look-up on the event loop. The copy is
    kept true by Redis pub/sub: ``invalidate`` bumps the generation and publishes the subject on
    ``CHANNEL``; every process's listener drops its copy of that subject's generation, so its next
    read asks Redis and finds the new one. Entries keep the remaining time to live they had on Redis,
    so nothing is served longer than it would have been from Redis.

    Pub/sub delivers at most once, and only while connected: until the listener has subscribed, and
    from the moment its connection fails until it has subscribed again, nothing is served from (or
    kept in) the copy, which is emptied on every (re)subscription. A read that began before an
    invalidation of its subject arrived does not keep what it read.
    """

    CHANNEL = "invalidations"

    def __init__(self, url: str, prefix: str = "olly:", max_entries: int = 100_000) -> None:
        import redis

        self._remote = RedisCache(url, prefix)
        self._listen_client = redis.Redis.from_url(url, socket_connect_timeout=0.5, health_check_interval=10)
        # Pub/sub channels are server-wide, not per database: the database number keeps two
        # deployments on one server (say, production and staging) from invalidating each other.
        database = self._listen_client.connection_pool.connection_kwargs.get("db", 0)
        self._channel = f"{prefix}{self.CHANNEL}:{database}"
        self._local = MemoryCache(max_entries)
        self._generations: dict[str, tuple[float, int]] = {}
        #: invalidations seen, counted in buckets of subjects; and resubscriptions (``_epoch``). A
        #: generation read from Redis is kept only if neither changed while it was being read.
        self._seen = [0] * _SEEN_BUCKETS
        self._epoch = 0
        self._lock = threading.Lock()
        self._live = False
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="olly-cache-invalidations", daemon=True)
        self._thread.start()

    # -- what callers use ------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        """Whether the copy is in use (the listener is subscribed)."""
        return self._live

    def wait_live(self, timeout: float = 5.0) -> bool:
        return self._subscribed.wait(timeout)

    def get(self, key: str) -> Any | None:
        found = self.lookup(key)
        return None if found is None else found[0]

    def lookup(self, key: str) -> tuple[Any, float] | None:
        if self._live:
            found = self._local.lookup(key)
            if found is not None:
                return found
        epoch = self._epoch
        found = self._remote.lookup(key)
        if found is not None:
            self._keep(epoch, key, found[0], found[1])
        return found

    def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        epoch = self._epoch
        self._remote.set(key, value, ttl_seconds)
        self._keep(epoch, key, value, ttl_seconds)

    def get_document(self, key: str, digest: Digest = _whole) -> tuple[Any, bytes] | None:
        found = self.lookup_document(key, digest)
        return None if found is None else found[0]

    def lookup_document(self, key: str, digest: Digest = _whole) -> tuple[tuple[Any, bytes], float] | None:
        if self._live:
            found = self._local.lookup_document(key)
            if found is not None:
                return found
        epoch = self._epoch
        found = self._remote.lookup_document(key, digest)
        if found is not None:
            self._keep(epoch, key, found[0], found[1])
        return found

    def set_document(self, key: str, value: Any, ttl_seconds: float, digest: Digest = _whole) -> bytes:
        epoch = self._epoch
        body = self._remote.set_document(key, value, ttl_seconds)
        self._keep(epoch, key, (digest(value), body), ttl_seconds)
        return body

    def generation(self, subject: str) -> int:
        if self._live:
            held = self._generations.get(subject)
            if held is not None and held[0] > time.monotonic():
                return held[1]
        bucket = _bucket(subject)
        mark = (self._epoch, self._seen[bucket])
        number = self._remote.generation(subject)
        if number >= 0:
            with self._lock:
                if self._live and mark == (self._epoch, self._seen[bucket]):
                    # A generation is asked for on every read: keep it as long as an answer lives.
                    if len(self._generations) >= self._local.max_entries:
                        self._generations.clear()
                    trusted = GENERATION_TTL_SECONDS * _spread.uniform(0.5, 1.0)  # not all due at once
                    self._generations[subject] = (time.monotonic() + trusted, number)
        return number

    def invalidate(self, subject: str) -> None:
        self._remote.invalidate(subject)
        # After the bump: a read of this process that began before it cannot keep the old number.
        self._forget(subject)
        self._remote.publish(self._channel, subject)

    def close(self) -> None:
        self._stop.set()
        self._live = False
        self._thread.join(timeout=5)

    # -- the near copy ----------------------------------------------------------------------------
    def _keep(self, epoch: int, key: str, value: Any, ttl_seconds: float) -> None:
        """Keep a value read or written under ``key``. Keys carry their subject's generation, so a
        value goes stale only by becoming unreachable; only a resubscription makes it untrusted."""
        if ttl_seconds <= 0:
            return
        with self._lock:
            if self._live and epoch == self._epoch:
                self._local.set(key, value, ttl_seconds)

    def _forget(self, subject: str) -> None:
        with self._lock:
            self._seen[_bucket(subject)] += 1
            self._generations.pop(subject, None)

    def _drop_everything(self) -> None:
        with self._lock:
            self._epoch += 1
            self._generations.clear()
            self._local = MemoryCache(self._local.max_entries)

    def _listen(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            pubsub = self._listen_client.pubsub(ignore_subscribe_messages=False)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self._channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._drop_everything()
                        self._live = True
                        self._subscribed.set()
                        backoff = 0.1
                    elif message["type"] == "message":
                        data = message["data"]
                        self._forget(data.decode() if isinstance(data, bytes) else str(data))
            except Exception:  # noqa: BLE001 - the connection failed: stop using the copy until resubscribed
                self._live = False
                self._subscribed.clear()
                self._drop_everything()
                log.warning("cache invalidation listener lost its connection")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self._live = False
                with contextlib.suppress(Exception):  # closing a failed connection
                    pubsub.close()


#: How long this process trusts its copy of a subject's generation without asking Redis (a lost
#: invalidation, which pub/sub cannot rule out between a failure and its detection, lasts no longer);
#: each copy a random 50-100 % of it, so that copies read together are not asked for again together.
GENERATION_TTL_SECONDS = 60.0


_SEEN_BUCKETS = 4096
_spread = random.Random()  # noqa: S311 - spreads expiry times; not a secret


def _bucket(subject: str) -> int:
    return hash(subject) % _SEEN_BUCKETS


class Refresher:
    """Recomputes cached values shortly before they expire, on one background thread, so that a
    value read often is never missing: the reader gets the cached value and asks for a refresh.

    At most one refresh of a key is queued or running at a time; when ``max_pending`` are waiting, a
    request is dropped (the value then expires and is recomputed by its next reader, as without
    refreshing). A refresh that fails is logged and dropped the same way.
    """

    def __init__(self, name: str = "olly-cache-refresh", max_pending: int = 10_000) -> None:
        self.name = name
        self._queue: queue.Queue[tuple[str, Callable[[], object]] | None] = queue.Queue(max_pending)
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def request(self, key: str, refresh: Callable[[], object]) -> bool:
        """Ask for ``refresh()`` to run soon; False when one for ``key`` is already due (or no room)."""
        with self._lock:
            if key in self._keys:
                return False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            try:
                self._queue.put_nowait((key, refresh))
            except queue.Full:
                return False
            self._keys.add(key)
            return True

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every refresh asked for so far has run (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._keys and time.monotonic() < deadline:
            time.sleep(0.005)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            key, refresh = item
            try:
                refresh()
            except Exception:
                log.exception("cache refresh failed")
            finally:
                with self._lock:
                    self._keys.discard(key)


_refresher = Refresher()


def shared_refresher() -> Refresher:
    """The process's refresher (one background thread for every fast-path cache)."""
    return _refresher


def build_cache(redis_url: str | None) -> Cache:
    return NearCache(redis_url) if redis_url else MemoryCache()


_shared: dict[str | None, Cache] = {}
_shared_lock = threading.Lock()


def shared_cache(redis_url: str | None) -> Cache:
    """One cache per process and backend, so a consumer's invalidation reaches the API's reads."""
    with _shared_lock:
        cache = _shared.get(redis_url)
        if cache is None:
            cache = _shared[redis_url] = build_cache(redis_url)
        return cache
