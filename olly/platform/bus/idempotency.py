"""Processed event ids kept in Redis/Valkey (``OLLY_REDIS_URL``), as the catalog describes.

The check runs before the handler's transaction and the id is written after it commits, with a
24-hour TTL. That leaves two windows the database store does not have (docs/event-backbone.md):
a crash between the commit and the Redis write, and a redelivery more than 24 hours later, both
apply the event again. Handlers must therefore be naturally idempotent as well.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from olly.kernel.clock import Clock
from olly.platform.bus.messages import Message
from olly.platform.db import UnitOfWork

KEY_PREFIX = "olly:bus:processed"


def redis_key(group: str, event_id: uuid.UUID | str) -> str:
    return f"{KEY_PREFIX}:{group}:{event_id}"


class RedisIdempotency:
    def __init__(self, url: str, clock: Clock, ttl_seconds: int = 86400, client: Any = None) -> None:
        import redis

        self.redis = client or redis.Redis.from_url(url)
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def seen(self, uow: UnitOfWork, group: str, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not event_ids:
            return set()
        pipeline = self.redis.pipeline(transaction=False)
        for event_id in event_ids:
            pipeline.exists(redis_key(group, event_id))
        return {event_id for event_id, found in zip(event_ids, pipeline.execute(), strict=True) if found}

    def record(self, uow: UnitOfWork, group: str, handled: Sequence[Message], attempts: int) -> None:
        if not handled:
            return
        ids = [(m.event_id, m.topic, m.correlation_id) for m in handled]

        def remember() -> None:
            processed_at = self.clock.now().isoformat()
            pipeline = self.redis.pipeline(transaction=False)
            for event_id, topic, correlation_id in ids:
                value = json.dumps(
                    {
                        "topic": topic,
                        "correlationId": str(correlation_id),
                        "attempts": attempts,
                        "processedAt": processed_at,
                    }
                )
                pipeline.set(redis_key(group, event_id), value, ex=self.ttl_seconds)
            pipeline.execute()

        uow.after_commit(remember)

    def lookup(self, group: str, event_id: uuid.UUID) -> dict[str, Any] | None:
        value = self.redis.get(redis_key(group, event_id))
        return json.loads(value) if value else None
