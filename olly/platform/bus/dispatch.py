"""The consumer runtime shared by both transports: one transaction per handled message (or run of
messages), idempotency, retries with backoff, and dead-lettering.

A chunk of up to ``batch_size`` messages of one partition and tenant shares one unit of work; a
subscription with a ``prepare`` step reads what the whole chunk needs at once before its messages
are handled one by one in log order. If any message of the chunk fails, the chunk's transaction
rolls back and its messages are handled again one per transaction (each with its own retries), so
one bad message never loses or half-writes the others.

A handler runs inside a unit of work the runtime opens for the message's tenant, with the message's
correlation id and the message itself as causation, so everything the handler publishes joins the
same saga. In that same transaction the runtime records the event id as processed by the group and,
on the embedded transport, moves the group's committed offset (a compare-and-set that also checks
the worker still holds the partition's lease). A crash at any point therefore either applies an
event together with its offset and processed-id record, or not at all.

Failures: a retryable failure is retried after each delay of ``OLLY_BUS_RETRY_DELAYS_MS`` (1 s,
2 s, 4 s); a terminal failure, or a retryable one that is still failing after the last retry, goes
to ``{topic}.dlq`` wrapped in the catalog's ``dlqMetadata`` envelope. The partition waits while a
message is retried, so later events of the same key are never handled before it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from olly.kernel.clock import Clock
from olly.kernel.errors import OllyError
from olly.kernel.ids import uuid7
from olly.platform.bus import catalog, messages
from olly.platform.bus.messages import Message, Subscription
from olly.platform.bus.models import OutboxRecord, ProcessedEvent
from olly.platform.bus.outbox import encode_json
from olly.platform.db import Database, PlainSelect, UnitOfWork, insert_values, table_of
from olly.platform.logging import get_logger

log = get_logger("olly.bus")

DEAD_LETTER_EVENT_TYPE: Final = "DEAD_LETTER"


class LostPartition(Exception):
    """The worker no longer holds the partition (its lease was taken over): stop and let go."""


class Stopping(Exception):
    """The runtime is shutting down in the middle of a retry wait; the message will be redelivered."""


class PositionGuard(Protocol):
    """Moves a group's committed position inside the handler's transaction (embedded transport)."""

    def advance(self, session: Session, offset: int) -> None: ...

    def committed(self, offset: int) -> None: ...


@dataclass
class BusMetrics:
    """Counters of this process (``/admin/bus/status`` shows them)."""

    handled: int = 0
    duplicates: int = 0
    skipped: int = 0
    retries: int = 0
    dead_lettered: int = 0
    dead_letters_seen: int = 0
    relayed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {name: value for name, value in vars(self).items() if not name.startswith("_")}


METRICS: Final = BusMetrics()


class Idempotency(Protocol):
    """Which events a group has already handled."""

    def seen(self, uow: UnitOfWork, group: str, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]: ...

    def record(self, uow: UnitOfWork, group: str, handled: Sequence[Message], attempts: int) -> None: ...


class DatabaseIdempotency:
    """Processed ids in ``bus_processed_events``, checked and written in the handler's own transaction."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def seen(self, uow: UnitOfWork, group: str, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not event_ids:
            return set()
        # On the session's connection: platform rows, nothing to flush first.
        rows = _SEEN.rows(uow.session.connection(), {"group": group, "ids": list(event_ids)})
        return {event_id for (event_id,) in rows}

    def record(self, uow: UnitOfWork, group: str, handled: Sequence[Message], attempts: int) -> None:
        if not handled:
            return
        now = self.clock.now()
        rows = [(group, m.event_id, m.topic, m.correlation_id, attempts, now) for m in handled]
        connection = uow.session.connection()
        if connection.dialect.name == "sqlite":  # tuples straight to the driver (``insert_values``)
            insert_values(connection, table_of(ProcessedEvent), _PROCESSED_COLUMNS, rows)
        else:
            uow.session.execute(
                table_of(ProcessedEvent).insert(), [dict(zip(_PROCESSED_COLUMNS, row, strict=True)) for row in rows]
            )


_PROCESSED = table_of(ProcessedEvent)
_SEEN: Final = PlainSelect(
    select(_PROCESSED.c.event_id).where(
        _PROCESSED.c.consumer_group == bindparam("group"), _PROCESSED.c.event_id.in_(bindparam("ids", expanding=True))
    )
)
_PROCESSED_COLUMNS: Final = ("consumer_group", "event_id", "topic", "correlation_id", "attempts", "processed_at")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays_ms: tuple[int, ...] = (1000, 2000, 4000)

    @property
    def retries(self) -> int:
        return len(self.delays_ms)


def is_retryable(exc: BaseException) -> bool:
    """Expected errors say so themselves; malformed data is terminal; anything else may be transient."""
    if isinstance(exc, OllyError):
        return exc.retryable
    return not isinstance(exc, (ValidationError, ValueError, TypeError, LookupError))


def describe_failure(exc: BaseException, retries: int) -> str:
    """A PHI-free reason: an ``OllyError``'s code and detail (written to be safe), else the type only."""
    reason = f"{exc.code}: {exc.detail}" if isinstance(exc, OllyError) else type(exc).__name__
    return f"{reason} after {retries} retries" if retries else f"{reason} (terminal: not retried)"


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        retry: RetryPolicy,
        idempotency: Idempotency,
        *,
        batch_size: int = 200,
        on_dead_letter: Callable[[], None] | None = None,
        metrics: BusMetrics = METRICS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.retry = retry
        self.idempotency = idempotency
        self.batch_size = batch_size
        self.on_dead_letter = on_dead_letter
        self.metrics = metrics

    # -- entry point ---------------------------------------------------------------------------
    def process(
        self, subscription: Subscription, batch: Sequence[Message], guard: PositionGuard | None, stop: threading.Event
    ) -> int:
        """Handle ``batch`` (one partition, in log order); return how many messages are finished with."""
        done = 0
        while done < len(batch):
            chunk = self._next_chunk(batch, done)
            try:
                self._handle(subscription, chunk, guard, attempts=1)
            except LostPartition:
                raise
            except Exception:  # noqa: BLE001 - one of the chunk failed: go one by one to find it
                for message in chunk:
                    self._handle_with_retries(subscription, message, guard, stop)
            done += len(chunk)
        return done

    def _next_chunk(self, batch: Sequence[Message], start: int) -> list[Message]:
        tenant = batch[start].tenant_id
        chunk = [batch[start]]
        for message in batch[start + 1 : start + self.batch_size]:
            if message.tenant_id != tenant:
                break
            chunk.append(message)
        return chunk

    # -- one transaction -----------------------------------------------------------------------
    def _handle(
        self, subscription: Subscription, chunk: Sequence[Message], guard: PositionGuard | None, attempts: int
    ) -> None:
        group = subscription.group
        tenant = chunk[0].tenant_id
        handled: list[Message] = []
        skipped = duplicates = 0
        with self.db.unit_of_work(tenant, all_tenants=tenant is None) as uow:
            mine = [m for m in chunk if m.redrive_group in (None, group)]
            skipped = len(chunk) - len(mine)
            seen = self.idempotency.seen(uow, group, [m.event_id for m in mine])
            handler = subscription.handler
            if subscription.prepare is not None:
                todo = [m for m in mine if m.event_id not in seen]
                if todo:
                    handler = subscription.prepare(uow, todo)
            for message in mine:
                if message.event_id in seen:
                    duplicates += 1
                    continue
                uow.correlation_id = message.correlation_id
                uow.causation_id = message.event_id
                handler(uow, message)
                handled.append(message)
                seen.add(message.event_id)
            uow.correlation_id = uow.causation_id = None
            self.idempotency.record(uow, group, handled, attempts)
            if guard is not None:
                guard.advance(uow.session, chunk[-1].offset)
        if guard is not None:
            guard.committed(chunk[-1].offset)
        self.metrics.add(handled=len(handled), duplicates=duplicates, skipped=skipped)

    def _handle_with_retries(
        self, subscription: Subscription, message: Message, guard: PositionGuard | None, stop: threading.Event
    ) -> None:
        attempt = 0
        while True:
            try:
                self._handle(subscription, [message], guard, attempts=attempt + 1)
                return
            except LostPartition:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is either retried or dead-lettered
                failure = exc
            if catalog.topic(message.topic).is_dlq:
                # No DLQ of the DLQ: log it (an alert) and move on.
                log.error(
                    "dead-letter consumer failed",
                    topic=message.topic,
                    group=subscription.group,
                    error_type=type(failure).__name__,
                )
                self._advance_only(message, guard)
                return
            if is_retryable(failure) and attempt < self.retry.retries:
                delay = self.retry.delays_ms[attempt]
                attempt += 1
                self.metrics.add(retries=1)
                log.warning(
                    "handler failed; retrying",
                    topic=message.topic,
                    group=subscription.group,
                    event_id=str(message.event_id),
                    attempt=attempt,
                    delay_ms=delay,
                    error_type=type(failure).__name__,
                )
                if stop.wait(delay / 1000):
                    raise Stopping
                continue
            self.dead_letter(subscription.group, message, failure, attempt, guard)
            return

    def _advance_only(self, message: Message, guard: PositionGuard | None) -> None:
        if guard is None:
            return
        with self.db.unit_of_work(message.tenant_id, all_tenants=message.tenant_id is None) as uow:
            guard.advance(uow.session, message.offset)
        guard.committed(message.offset)

    # -- the dead-letter queue -----------------------------------------------------------------
    def dead_letter(
        self, group: str, message: Message, failure: BaseException, retries: int, guard: PositionGuard | None
    ) -> uuid.UUID:
        now = self.clock.now()
        envelope = {
            "dlqMetadata": {
                "originalTopic": message.topic,
                "originalPartition": message.partition,
                "originalOffset": message.offset,
                "failureReason": describe_failure(failure, retries),
                "failedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "consumerGroup": group,
                "retryCount": retries,
            },
            "originalPayload": message.payload,
        }
        headers = dict(message.headers)
        headers.update(
            {
                messages.H_ORIGINAL_EVENT_ID: str(message.event_id),
                messages.H_ORIGINAL_EVENT_TYPE: message.event_type,
                messages.H_ORIGINAL_KEY: message.key,
                messages.H_ORIGINAL_OCCURRED_AT: message.occurred_at.isoformat(),
            }
        )
        if message.causation_id is not None:
            headers[messages.H_ORIGINAL_CAUSATION] = str(message.causation_id)
        dlq_id = uuid7()
        row: dict[str, Any] = {
            "event_id": dlq_id,
            "topic": catalog.topic(message.topic).dlq,
            "partition": message.partition,
            "key": message.key,
            "event_type": DEAD_LETTER_EVENT_TYPE,
            "schema_version": message.schema_version,
            "tenant_id": message.tenant_id,
            "correlation_id": message.correlation_id,
            "causation_id": message.event_id,
            "occurred_at": now,
            "created_at": now,
            "payload": encode_json(envelope),
            "headers": encode_json(headers),
        }
        with self.db.unit_of_work(message.tenant_id, all_tenants=message.tenant_id is None) as uow:
            uow.session.execute(table_of(OutboxRecord).insert(), [row])
            if guard is not None:
                guard.advance(uow.session, message.offset)
            if self.on_dead_letter is not None:
                uow.after_commit(self.on_dead_letter)
        if guard is not None:
            guard.committed(message.offset)
        self.metrics.add(dead_lettered=1)
        log.error(
            "message dead-lettered",
            topic=message.topic,
            group=group,
            event_id=str(message.event_id),
            retry_count=retries,
            error_type=type(failure).__name__,
        )
        return dlq_id
