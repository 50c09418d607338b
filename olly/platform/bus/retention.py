"""Retention: the log forgets rows past their topic's retention, and groups forget old processed ids.

Run hourly as the platform job ``platform.bus-retention`` (under its lease, one process at a time),
or at once with ``olly jobs run``. Each batch is its own short transaction, so on SQLite the writer
lock is never held for long however much there is to delete.

* **The log** (``bus_outbox``). A relayed row older than its topic's retention (the catalog's, the
  same figure Kafka is configured with) is deleted, with two exceptions on the embedded transport:

  - the last row of each topic partition stays, because the relay numbers a partition on from its
    highest ``log_offset``; were a partition emptied, numbering would start again at 0 and every
    group's committed offset would skip the new rows;
  - a row stays while a consumer group that is still active on its partition has not committed it
    (the embedded log does not drop what a group has yet to read). A group whose position has not
    moved for longer than the topic's retention is taken as retired and holds nothing, as Kafka
    forgets an idle group's offsets; a warning names such groups when rows go past them.

  Rows the relay has not published yet are never deleted, however old.
* **Processed ids** (``bus_processed_events``). A group needs an event id only while a copy of that
  event could still arrive: a relay's second delivery, or an operator's redrive of a dead letter,
  which lives no longer than the longest retention of any topic. Ids older than that, plus a day,
  are deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, not_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from olly.platform.bus import catalog
from olly.platform.bus.models import ConsumerPartition, OutboxRecord, ProcessedEvent
from olly.platform.db import Database, table_of
from olly.platform.logging import get_logger

log = get_logger("olly.bus.retention")

OUTBOX = table_of(OutboxRecord)
POSITIONS = table_of(ConsumerPartition)
PROCESSED = table_of(ProcessedEvent)

#: The job's name (its lease is ``job:platform.bus-retention``) and how often it runs.
RETENTION_JOB = "platform.bus-retention"
EVERY_SECONDS = 3600.0
#: Rows deleted per transaction.
BATCH = 5000
#: Processed ids outlive the longest retention by this much.
PROCESSED_MARGIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RetentionResult:
    log_rows: int
    processed_ids: int


def _expired(topic: str, cutoff: datetime) -> list[ColumnElement[bool]]:
    """The conditions under which a row of ``topic`` may be deleted at ``cutoff``."""
    later = OUTBOX.alias("later")
    last_offset = (
        select(func.max(later.c.log_offset))
        .where(later.c.topic == OUTBOX.c.topic, later.c.partition == OUTBOX.c.partition)
        .scalar_subquery()
    )
    unread_by_active_group = exists().where(
        POSITIONS.c.topic == OUTBOX.c.topic,
        POSITIONS.c.partition == OUTBOX.c.partition,
        POSITIONS.c.committed_offset < OUTBOX.c.log_offset,
        POSITIONS.c.updated_at >= cutoff,
    )
    return [
        OUTBOX.c.topic == topic,
        OUTBOX.c.created_at < cutoff,
        OUTBOX.c.relayed_at.is_not(None),
        or_(
            OUTBOX.c.log_offset.is_(None),
            and_(OUTBOX.c.log_offset < last_offset, not_(unread_by_active_group)),
        ),
    ]


def _delete_log_batches(db: Database, conditions: list[ColumnElement[bool]]) -> int:
    """Delete the log rows meeting ``conditions``, ``BATCH`` at a time, each batch its own transaction."""
    removed = 0
    while True:
        batch = select(OUTBOX.c.id).where(*conditions).limit(BATCH).scalar_subquery()
        with db.connect() as connection:
            deleted = connection.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(batch))).rowcount
        removed += deleted
        if deleted < BATCH:
            return removed


def _warn_retired_groups(connection: Connection, topic: str, cutoff: datetime) -> None:
    """Name the groups that had not read rows now past retention and no longer hold them back."""
    behind = connection.execute(
        select(POSITIONS.c.consumer_group, POSITIONS.c.partition, POSITIONS.c.committed_offset)
        .where(
            POSITIONS.c.topic == topic,
            POSITIONS.c.updated_at < cutoff,
            exists().where(
                OUTBOX.c.topic == POSITIONS.c.topic,
                OUTBOX.c.partition == POSITIONS.c.partition,
                OUTBOX.c.log_offset > POSITIONS.c.committed_offset,
                OUTBOX.c.created_at < cutoff,
            ),
        )
        .order_by(POSITIONS.c.consumer_group, POSITIONS.c.partition)
    ).all()
    for group, partition, committed in behind:
        log.warning(
            "consumer group idle past retention: its unread rows are deleted",
            alert="bus.group_past_retention",
            consumer_group=group,
            topic=topic,
            partition=partition,
            committed_offset=committed,
        )


def prune_log(db: Database, now: datetime) -> int:
    """Delete the log rows past their topic's retention (see the module's rules); how many went."""
    removed = 0
    for spec in catalog.TOPICS.values():
        cutoff = now - timedelta(milliseconds=spec.retention_ms)
        with db.connect() as connection:
            _warn_retired_groups(connection, spec.name, cutoff)
        removed += _delete_log_batches(db, _expired(spec.name, cutoff))
    return removed


def processed_cutoff(now: datetime) -> datetime:
    """Processed ids recorded before this may be forgotten."""
    longest = max(spec.retention_ms for spec in catalog.TOPICS.values())
    return now - timedelta(milliseconds=longest) - PROCESSED_MARGIN


def forget_processed(db: Database, now: datetime) -> int:
    """Delete processed ids older than any copy of their event could be; how many went."""
    cutoff = processed_cutoff(now)
    removed = 0
    while True:
        with db.connect() as connection:
            oldest = (
                select(PROCESSED.c.consumer_group, PROCESSED.c.event_id)
                .where(PROCESSED.c.processed_at < cutoff)
                .limit(BATCH)
            )
            keys = connection.execute(oldest).all()
            by_group: dict[str, list[uuid.UUID]] = {}
            for group, event_id in keys:
                by_group.setdefault(group, []).append(event_id)
            for group, ids in by_group.items():
                connection.execute(
                    delete(PROCESSED).where(PROCESSED.c.consumer_group == group, PROCESSED.c.event_id.in_(ids))
                )
        removed += len(keys)
        if len(keys) < BATCH:
            return removed


def run(db: Database) -> RetentionResult:
    """One retention round at the database clock's now."""
    now = db.clock.now()
    result = RetentionResult(log_rows=prune_log(db, now), processed_ids=forget_processed(db, now))
    if result.log_rows or result.processed_ids:
        log.info("bus retention", log_rows=result.log_rows, processed_ids=result.processed_ids)
    return result
