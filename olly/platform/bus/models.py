"""Tables of the event backbone (PostgreSQL schema ``platform``).

``bus_outbox`` is both the transactional outbox and, on the embedded transport, the log itself: a
row is written in the publisher's transaction, and the relay later gives it its place in the log
(``log_offset``, dense per topic partition) or produces it to Kafka; either way it stamps
``relayed_at``. Consumer groups keep their committed offsets and partition leases in
``bus_consumer_partitions``; ``bus_processed_events`` holds the ids each group has handled.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from olly.platform.db import Base

#: SQLite makes an ``INTEGER PRIMARY KEY`` the rowid (dense, ascending); BIGINT would not be.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")


class OutboxRecord(Base):
    __tablename__ = "bus_outbox"
    __table_args__ = (
        Index("uq_bus_outbox_position", "topic", "partition", "log_offset", unique=True),
        Index(
            "ix_bus_outbox_pending",
            "id",
            sqlite_where=text("relayed_at IS NULL"),
            postgresql_where=text("relayed_at IS NULL"),
        ),
        Index("ix_bus_outbox_topic_created", "topic", "created_at"),
        {"schema": "platform"},
    )

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(index=True)
    """The event's identity; a redriven copy keeps it, so a group that handled it once skips it."""
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[uuid.UUID | None]
    correlation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    causation_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime]
    """When the domain says it happened (the unit of work's clock)."""
    created_at: Mapped[datetime]
    """When the outbox row was written (the bus clock); lag is measured from here."""
    payload: Mapped[str] = mapped_column(Text)
    """The JSON wire body (camelCase, ``eventType``, ``schemaVersion``)."""
    headers: Mapped[str | None] = mapped_column(Text)
    log_offset: Mapped[int | None] = mapped_column(BigInteger)
    relayed_at: Mapped[datetime | None]
    redrive_group: Mapped[str | None] = mapped_column(String(200))
    """Set on a redriven copy: only this consumer group handles it; the others step over it."""
    redriven_at: Mapped[datetime | None]
    """Set on a dead-letter record once an operator redrove it."""


class ConsumerPartition(Base):
    """One consumer group's position in one topic partition, and which worker holds it."""

    __tablename__ = "bus_consumer_partitions"
    __table_args__ = {"schema": "platform"}

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    committed_offset: Mapped[int] = mapped_column(BigInteger)
    """The last log offset this group has finished with (-1 before the first)."""
    owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class GroupMember(Base):
    """A live worker of a consumer group; partitions are shared among the live members."""

    __tablename__ = "bus_group_members"
    __table_args__ = {"schema": "platform"}

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime]


class ProcessedEvent(Base):
    """An event a consumer group has handled (recorded in the handler's own transaction)."""

    __tablename__ = "bus_processed_events"
    __table_args__ = {"schema": "platform"}

    consumer_group: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    correlation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class NamedLease(Base):
    """A lease on a singleton job (the relay, the pruner): one holder at a time, taken over on expiry."""

    __tablename__ = "bus_leases"
    __table_args__ = {"schema": "platform"}

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
