"""Dead letters: the monitor that alerts on them, and the operator's list / show / redrive.

Dead-letter records are outbox rows on ``{topic}.dlq`` (they reach Kafka through the relay like any
event), so both transports list them from the database for as long as the topic keeps them (30 days).
A redrive writes the original event back to its original topic, with its original event id, marked
for the one consumer group that failed; every other group steps over it, and that group handles it
at most once (its processed-id record makes a second redrive a no-op).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from olly.kernel.clock import Clock
from olly.kernel.errors import Conflict, NotFound
from olly.platform.bus import catalog, messages
from olly.platform.bus.dispatch import METRICS
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.models import OutboxRecord
from olly.platform.bus.outbox import encode_json, partition_for
from olly.platform.db import Database, UnitOfWork, table_of
from olly.platform.logging import get_logger

log = get_logger("olly.bus.dlq")
OUTBOX = table_of(OutboxRecord)
MONITOR_SERVICE = "operations"


def monitor_dead_letter(uow: UnitOfWork, message: Message) -> None:
    """Alert on a dead letter: an ERROR log line with its metadata (never the payload) and a counter."""
    metadata = message.payload.get("dlqMetadata", {})
    METRICS.add(dead_letters_seen=1)
    log.error(
        "dead letter",
        alert="bus.dead_letter",
        dlq_topic=message.topic,
        original_topic=metadata.get("originalTopic"),
        original_partition=metadata.get("originalPartition"),
        original_offset=metadata.get("originalOffset"),
        consumer_group=metadata.get("consumerGroup"),
        retry_count=metadata.get("retryCount"),
        failure_reason=metadata.get("failureReason"),
    )


def register_monitor(registry: HandlerRegistry) -> None:
    """Subscribe the monitor to every dead-letter topic (group ``operations-{domain}-consumer``)."""
    for spec in catalog.TOPICS.values():
        if spec.is_dlq:
            group = catalog.consumer_group(MONITOR_SERVICE, spec.domain)
            if registry.get(spec.name, group) is None:
                registry.subscribe(spec.name, group, monitor_dead_letter)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: uuid.UUID
    """The dead-letter record's own event id."""
    topic: str
    original_event_id: uuid.UUID | None
    original_event_type: str | None
    metadata: dict[str, Any]
    original_payload: dict[str, Any]
    correlation_id: uuid.UUID
    tenant_id: uuid.UUID | None
    created_at: datetime
    redriven_at: datetime | None

    def summary(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "topic": self.topic,
            "originalEventId": str(self.original_event_id) if self.original_event_id else None,
            "originalEventType": self.original_event_type,
            "dlqMetadata": self.metadata,
            "correlationId": str(self.correlation_id),
            "redrivenAt": self.redriven_at.isoformat() if self.redriven_at else None,
        }

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "originalPayload": self.original_payload}


def _dead_letter(row: Any) -> DeadLetter:
    body = json.loads(row.payload)
    headers = json.loads(row.headers) if row.headers else {}
    original = headers.get(messages.H_ORIGINAL_EVENT_ID)
    return DeadLetter(
        id=row.event_id,
        topic=row.topic,
        original_event_id=uuid.UUID(original) if original else None,
        original_event_type=headers.get(messages.H_ORIGINAL_EVENT_TYPE),
        metadata=body.get("dlqMetadata", {}),
        original_payload=body.get("originalPayload", {}),
        correlation_id=row.correlation_id,
        tenant_id=row.tenant_id,
        created_at=row.created_at,
        redriven_at=row.redriven_at,
    )


def list_dead_letters(
    db: Database,
    *,
    topic: str | None = None,
    include_redriven: bool = False,
    limit: int = 100,
    tenant_id: uuid.UUID | None = None,
) -> list[DeadLetter]:
    """Newest first; one tenant's when ``tenant_id`` is given (the API), every tenant's otherwise (the CLI)."""
    query = select(OUTBOX).where(OUTBOX.c.topic.like("%.dlq"))
    if tenant_id is not None:
        query = query.where(OUTBOX.c.tenant_id == tenant_id)
    if topic is not None:
        query = query.where(OUTBOX.c.topic == (topic if topic.endswith(catalog.DLQ_SUFFIX) else topic + ".dlq"))
    if not include_redriven:
        query = query.where(OUTBOX.c.redriven_at.is_(None))
    with db.engine.connect() as connection:
        rows = connection.execute(query.order_by(OUTBOX.c.id.desc()).limit(limit)).all()
    return [_dead_letter(row) for row in rows]


def get_dead_letter(db: Database, dead_letter_id: uuid.UUID) -> DeadLetter:
    with db.engine.connect() as connection:
        row = connection.execute(
            select(OUTBOX).where(OUTBOX.c.event_id == dead_letter_id, OUTBOX.c.topic.like("%.dlq"))
        ).first()
    if row is None:
        raise NotFound("no dead letter with this id")
    return _dead_letter(row)


def redrive(db: Database, clock: Clock, dead_letter_id: uuid.UUID) -> uuid.UUID:
    """Put a dead letter's event back on its topic for the group that failed; return its event id."""
    letter = get_dead_letter(db, dead_letter_id)
    if letter.redriven_at is not None:
        raise Conflict("this dead letter was already redriven")
    if letter.original_event_id is None:
        raise Conflict("this dead letter does not name its original event")
    original_topic = str(letter.metadata.get("originalTopic", ""))
    spec = catalog.topic(original_topic)
    now = clock.now()
    with db.connect() as connection:
        row = connection.execute(select(OUTBOX).where(OUTBOX.c.event_id == dead_letter_id)).one()
        headers = json.loads(row.headers) if row.headers else {}
        key = headers.get(messages.H_ORIGINAL_KEY, row.key)
        occurred = headers.get(messages.H_ORIGINAL_OCCURRED_AT)
        causation = headers.get(messages.H_ORIGINAL_CAUSATION)
        kept = {k: v for k, v in headers.items() if not k.startswith("olly-original-")}
        kept["olly-redrive-of"] = str(dead_letter_id)
        marked = connection.execute(
            update(OUTBOX).where(OUTBOX.c.id == row.id, OUTBOX.c.redriven_at.is_(None)).values(redriven_at=now)
        ).rowcount
        if marked != 1:
            raise Conflict("this dead letter was already redriven")
        connection.execute(
            OUTBOX.insert().values(
                event_id=letter.original_event_id,
                topic=original_topic,
                partition=partition_for(key, spec.partitions),
                key=key,
                event_type=letter.original_event_type or str(letter.original_payload.get("eventType", "")),
                schema_version=str(letter.original_payload.get("schemaVersion", row.schema_version)),
                tenant_id=row.tenant_id,
                correlation_id=row.correlation_id,
                causation_id=uuid.UUID(causation) if causation else None,
                occurred_at=datetime.fromisoformat(occurred) if occurred else row.occurred_at,
                created_at=now,
                payload=encode_json(letter.original_payload),
                headers=encode_json(kept),
                redrive_group=str(letter.metadata.get("consumerGroup")),
            )
        )
    log.info("dead letter redriven", dead_letter_id=str(dead_letter_id), topic=original_topic)
    return letter.original_event_id
