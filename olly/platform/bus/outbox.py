"""The transactional outbox: ``uow.publish(...)`` lands here, in the publisher's own transaction.

Each event becomes one ``bus_outbox`` row. Its partition is fixed at write time from its key with
Kafka's default partitioner (murmur2), so the embedded log and a Kafka cluster place a key in the
same partition and one member's (or one claim's) events stay in order on either transport.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final

from olly.kernel.clock import Clock
from olly.kernel.errors import ConfigurationError
from olly.kernel.events import OutgoingEvent
from olly.platform.bus import catalog
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import Database, UnitOfWork, insert_values, table_of
from olly.platform.jsonfast import dumps_text

_SEED: Final = 0x9747B28C
_M: Final = 0x5BD1E995
_MASK: Final = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (as its Java client computes it), as an unsigned 32-bit integer."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    end = length - length % 4
    for k in struct.unpack_from(f"<{end >> 2}I", data):  # the 4-byte little-endian words
        k = (k * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length % 4
    if tail == 3:
        h ^= data[end + 2] << 16
    if tail >= 2:
        h ^= data[end + 1] << 8
    if tail >= 1:
        h ^= data[end]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key``: positive murmur2 modulo partitions."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def encode_json(value: Any) -> str:
    """An outbox row's payload or headers as stored (compact JSON)."""
    return dumps_text(value)


#: An outbox row's columns as ``Outbox.write`` inserts them (``outbox_values`` gives their values).
OUTBOX_COLUMNS: Final = (
    "event_id",
    "topic",
    "partition",
    "key",
    "event_type",
    "schema_version",
    "tenant_id",
    "correlation_id",
    "causation_id",
    "occurred_at",
    "created_at",
    "payload",
    "headers",
)


def outbox_values(event: OutgoingEvent, spec: catalog.TopicSpec, created_at: Any) -> tuple[Any, ...]:
    """The values of an event's outbox row, in the order of ``OUTBOX_COLUMNS``."""
    payload = event.payload
    return (
        event.event_id,
        event.topic,
        partition_for(event.key, spec.partitions),
        event.key,
        str(payload.get("eventType", "")),
        str(payload.get("schemaVersion", "")),
        event.tenant_id,
        event.correlation_id or event.event_id,
        event.causation_id,
        event.occurred_at,
        created_at,
        encode_json(payload),
        encode_json(event.headers) if event.headers else None,
    )


class Outbox:
    """Writes a unit of work's events as outbox rows and wakes in-process listeners after commit."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []

    def install(self) -> None:
        """Make ``uow.publish`` write here: every unit of work this database opens from now on."""
        self.db.outbox_writer = self.write

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after any transaction that wrote outbox rows commits (e.g. to wake the relay)."""
        self._listeners.append(listener)

    def write(self, uow: UnitOfWork, events: list[OutgoingEvent]) -> None:
        now = self.clock.now()
        rows = []
        for event in events:
            spec = catalog.topic(event.topic)
            if spec.is_dlq:
                raise ConfigurationError("dead-letter topics are written by the consumer runtime only")
            event_type = event.payload.get("eventType")
            if spec.event_types and event_type not in spec.event_types:
                raise ConfigurationError(f"event type {event_type!r} is not catalogued for topic {event.topic}")
            rows.append(outbox_values(event, spec, now))
        insert_values(uow.session.connection(), table_of(OutboxRecord), OUTBOX_COLUMNS, rows)
        for listener in self._listeners:
            uow.after_commit(listener)


def install_outbox(db: Database, clock: Clock | None = None) -> Outbox:
    """Make ``uow.publish`` write outbox rows for every unit of work ``db`` opens (done at start-up).

    ``clock`` stamps ``created_at`` (the start of the lag measurement); it is the real clock unless a
    test says otherwise, whatever clock the domain's unit of work runs on.
    """
    from olly.kernel.clock import SystemClock

    outbox = Outbox(db, clock or SystemClock())
    outbox.install()
    return outbox
