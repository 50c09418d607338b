"""The Redis cache's near copy: answers from memory, kept true across processes by pub/sub.

Two ``NearCache`` instances on one Redis stand for two server processes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from olly.platform.cache import NearCache
from olly.platform.eventloop import WouldBlock, on_event_loop
from tests.services import require_redis


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def held_locally(cache: NearCache, key: str) -> object | None:
    """What the cache answers without a trip to Redis (None when it would have to ask Redis)."""
    try:
        with on_event_loop():
            return cache.get_document(key)
    except WouldBlock:
        return None


@pytest.fixture
def pair() -> Iterator[tuple[NearCache, NearCache, redis.Redis]]:
    url = require_redis()
    prefix = f"t{uuid.uuid4().hex[:10]}:"
    first, second = NearCache(url, prefix), NearCache(url, prefix)
    assert first.wait_live() and second.wait_live()
    yield first, second, redis.Redis.from_url(url)
    first.close()
    second.close()


def test_a_read_is_kept_and_answered_from_memory(pair: tuple[NearCache, NearCache, redis.Redis]) -> None:
    first, second, _ = pair
    subject = "elig:t:p1"
    key = f"{subject}:{second.generation(subject)}:2026-06-01:30"
    first.set_document(key, {"covered": True}, 60)
    assert held_locally(second, key) is None  # never read by the second process yet
    assert second.get_document(key) == ({"covered": True}, b'{"covered":true}')
    assert held_locally(second, key) == ({"covered": True}, b'{"covered":true}')
    with on_event_loop():  # the generation is held too: the whole key is built without Redis
        assert second.generation(subject) == 0


def test_an_invalidation_in_one_process_reaches_the_other(pair: tuple[NearCache, NearCache, redis.Redis]) -> None:
    first, second, _ = pair
    subject = "elig:t:p2"
    assert second.generation(subject) == 0
    key = f"{subject}:0:2026-06-01:30"
    second.set_document(key, {"covered": True}, 60)
    first.invalidate(subject)
    # The second process drops its generation on the published message and asks Redis again.
    assert eventually(lambda: second.generation(subject) == 1)
    assert first.generation(subject) == 1


def test_entries_keep_only_their_remaining_time(pair: tuple[NearCache, NearCache, redis.Redis]) -> None:
    first, second, _ = pair
    key = "elig:t:p3:0:2026-06-01:30"
    first.set_document(key, {"covered": True}, 0.4)
    assert second.get_document(key) is not None
    time.sleep(0.5)
    assert held_locally(second, key) is None
    assert second.get_document(key) is None


def test_a_lost_listener_connection_stops_the_copy_until_resubscribed(
    pair: tuple[NearCache, NearCache, redis.Redis],
) -> None:
    first, second, client = pair
    key = "elig:t:p4:0:2026-06-01:30"
    first.set_document(key, {"covered": True}, 60)
    assert second.get_document(key) is not None
    assert held_locally(second, key) is not None
    client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")  # both listeners lose their connection
    # Invalidations published while it was away are lost: what it held before is not trusted again.
    assert eventually(lambda: not second.live or held_locally(second, key) is None)
    assert eventually(lambda: second.live)
    assert held_locally(second, key) is None
    assert second.get_document(key) is not None  # from Redis, then held again
    assert held_locally(second, key) is not None


def test_a_generation_read_overtaken_by_an_invalidation_is_not_kept(
    pair: tuple[NearCache, NearCache, redis.Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, _ = pair
    subject = "elig:t:p5"
    remote = second._remote
    real = remote.generation

    def slow_read(name: str) -> int:
        number = real(name)  # the old number, read just before the other process invalidates
        first.invalidate(name)
        assert eventually(lambda: first.generation(name) == 1)
        time.sleep(0.2)  # the published invalidation reaches the second process meanwhile
        return number

    monkeypatch.setattr(remote, "generation", slow_read)
    assert second.generation(subject) == 0
    monkeypatch.setattr(remote, "generation", real)
    with pytest.raises(WouldBlock), on_event_loop():  # the stale 0 was not kept: the next read asks Redis
        second.generation(subject)
    assert second.generation(subject) == 1
