"""``olly events trace CORRELATION_ID``: the chain of events of one saga and what each group did."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from olly.platform.bus import catalog
from olly.platform.bus.models import OutboxRecord, ProcessedEvent
from olly.platform.db import Database, table_of

OUTBOX = table_of(OutboxRecord)
PROCESSED = table_of(ProcessedEvent)


@dataclass
class Outcome:
    group: str
    outcome: str
    """``handled``, ``dead-lettered`` or ``pending``."""
    at: datetime | None = None
    attempts: int | None = None
    detail: str | None = None


@dataclass
class TracedEvent:
    event_id: uuid.UUID
    topic: str
    event_type: str
    key: str
    occurred_at: datetime
    causation_id: uuid.UUID | None
    relayed: bool
    outcomes: list[Outcome] = field(default_factory=list)
    caused: list[TracedEvent] = field(default_factory=list)


def trace(db: Database, correlation_id: uuid.UUID, redis: Any = None) -> list[TracedEvent]:
    """The saga's events as a forest (roots first, each event's consequences under it)."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(OUTBOX).where(OUTBOX.c.correlation_id == correlation_id).order_by(OUTBOX.c.id)
        ).all()
        processed = connection.execute(select(PROCESSED).where(PROCESSED.c.correlation_id == correlation_id)).all()
    done = {(p.event_id, p.consumer_group): p for p in processed}
    letters: dict[tuple[uuid.UUID, str], tuple[datetime, str]] = {}
    events: dict[uuid.UUID, TracedEvent] = {}
    order: list[TracedEvent] = []
    for row in rows:
        if row.topic.endswith(catalog.DLQ_SUFFIX):
            meta = json.loads(row.payload).get("dlqMetadata", {})
            if row.causation_id is not None:
                letters[(row.causation_id, str(meta.get("consumerGroup")))] = (
                    row.created_at,
                    meta.get("failureReason"),
                )
            continue
        if row.event_id in events:  # a redriven copy: same event
            continue
        traced = TracedEvent(
            row.event_id,
            row.topic,
            row.event_type,
            row.key,
            row.occurred_at,
            row.causation_id,
            row.relayed_at is not None,
        )
        events[row.event_id] = traced
        order.append(traced)
    for traced in order:
        groups = set(catalog.topic(traced.topic).consumer_groups)
        groups |= {g for (e, g) in done if e == traced.event_id} | {g for (e, g) in letters if e == traced.event_id}
        for group in sorted(groups):
            record = done.get((traced.event_id, group))
            if record is not None:
                traced.outcomes.append(Outcome(group, "handled", record.processed_at, record.attempts))
            elif (traced.event_id, group) in letters:
                at, reason = letters[(traced.event_id, group)]
                traced.outcomes.append(Outcome(group, "dead-lettered", at, detail=reason))
            elif redis is not None and (found := redis.lookup(group, traced.event_id)) is not None:
                at = datetime.fromisoformat(found["processedAt"])
                traced.outcomes.append(Outcome(group, "handled", at, int(found["attempts"])))
            else:
                traced.outcomes.append(Outcome(group, "pending"))
    roots: list[TracedEvent] = []
    for traced in order:
        parent = events.get(traced.causation_id) if traced.causation_id else None
        (parent.caused if parent else roots).append(traced)
    return roots


def render(roots: list[TracedEvent]) -> list[str]:
    lines: list[str] = []

    def walk(event: TracedEvent, depth: int) -> None:
        pad = "  " * depth
        state = "" if event.relayed else " (not yet relayed)"
        lines.append(
            f"{pad}{event.occurred_at.isoformat()} {event.topic} {event.event_type} key={event.key} "
            f"id={event.event_id}{state}"
        )
        for outcome in event.outcomes:
            extra = f" after {outcome.attempts} attempt(s)" if outcome.attempts else ""
            when = f" at {outcome.at.isoformat()}" if outcome.at else ""
            why = f": {outcome.detail}" if outcome.detail else ""
            lines.append(f"{pad}  → {outcome.group}: {outcome.outcome}{when}{extra}{why}")
        for child in event.caused:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines
