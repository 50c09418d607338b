"""The bus's own rows (outbox, processed ids) are stored exactly as a Core insert of the same values
stores them, on either engine: compared as the database holds them (raw, not read back through the
columns' types), so a UUID or a timestamp written in another form would show; likewise the relay's
numbering and the offset compare-and-set. And a consumer's fetch reads back the messages a Core
select of the rows gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Table, select, update
from sqlalchemy.engine import Connection

from olly.kernel.clock import FixedClock
from olly.kernel.events import OutgoingEvent
from olly.platform.bus.dispatch import _SEEN, DatabaseIdempotency, LostPartition
from olly.platform.bus.embedded import _FETCH, _Guard, _Owned
from olly.platform.bus.messages import Message
from olly.platform.bus.models import ConsumerPartition, OutboxRecord, ProcessedEvent
from olly.platform.bus.outbox import Outbox, partition_for
from olly.platform.bus.relay import LogSequencer
from olly.platform.bus.serialization import message_from_row, message_from_values
from olly.platform.db import table_of
from olly.platform.jsonfast import dumps_text
from olly.platform.runtime import Platform
from tests.integration.bus.helpers import TOPIC, claim_submitted

OUTBOX = table_of(OutboxRecord)
PROCESSED = table_of(ProcessedEvent)
#: Not UTC, with microseconds: the bind processing must turn it into the stored UTC form.
AT = datetime(2026, 3, 1, 9, 30, 15, 250, tzinfo=timezone(timedelta(hours=5, minutes=30)))


def _raw(connection: Connection, table: Table, columns: list[str], where: str) -> list[tuple[Any, ...]]:
    name = table.name if connection.dialect.name == "sqlite" else table.fullname
    listed = ", ".join(f'"{column}"' for column in columns)
    return [tuple(row) for row in connection.exec_driver_sql(f"SELECT {listed} FROM {name} WHERE {where}")]


def _message(n: int, correlation: uuid.UUID) -> Message:
    return Message(
        topic=TOPIC,
        partition=n % 3,
        offset=n,
        key=f"k{n}",
        event_id=uuid.UUID(int=(n + 1) << 64 | n),
        event_type="CLAIM_SUBMITTED",
        schema_version="1.0",
        tenant_id=None,
        correlation_id=correlation if n % 2 else uuid.UUID(int=n + 7),
        causation_id=None,
        occurred_at=AT,
        created_at=None,
        payload={},
    )


def test_processed_ids_are_stored_as_a_core_insert_stores_them(platform: Platform, tenant_id: uuid.UUID) -> None:
    correlation = uuid.UUID("0190a000-0000-7000-8000-0000000000aa")
    handled = [_message(n, correlation) for n in range(5)]
    with platform.db.unit_of_work(tenant_id) as uow:
        DatabaseIdempotency(FixedClock(AT)).record(uow, "billing-claims-consumer", handled, attempts=2)
        uow.session.execute(
            PROCESSED.insert(),
            [
                {
                    "consumer_group": "audit-claims-consumer",
                    "event_id": m.event_id,
                    "topic": m.topic,
                    "correlation_id": m.correlation_id,
                    "attempts": 2,
                    "processed_at": AT,
                }
                for m in handled
            ],
        )
    columns = ["event_id", "topic", "correlation_id", "attempts", "processed_at"]
    with platform.db.engine.connect() as connection:
        written = _raw(connection, PROCESSED, columns, "consumer_group = 'billing-claims-consumer' ORDER BY event_id")
        core = _raw(connection, PROCESSED, columns, "consumer_group = 'audit-claims-consumer' ORDER BY event_id")
    assert len(written) == 5
    assert written == core
    asked = [handled[1].event_id, uuid.UUID(int=99), handled[4].event_id]
    with platform.db.unit_of_work(tenant_id) as uow:
        seen = DatabaseIdempotency(FixedClock(AT)).seen(uow, "billing-claims-consumer", asked)
        params = {"group": "billing-claims-consumer", "ids": asked}
        assert _SEEN.rows(uow.session.connection(), params) == [
            tuple(row) for row in uow.session.execute(_SEEN.statement, params)
        ]
    assert seen == {handled[1].event_id, handled[4].event_id}  # a redelivered event is recognised


def test_outbox_rows_are_stored_as_a_core_insert_stores_them(platform: Platform, tenant_id: uuid.UUID) -> None:
    wire = claim_submitted().wire()
    correlation = uuid.UUID("0190a000-0000-7000-8000-0000000000bb")
    events = [
        OutgoingEvent(
            topic=TOPIC,
            key=f"member-{n}",
            payload=wire,
            event_id=uuid.UUID(int=(n + 1) << 80 | n),
            occurred_at=AT + timedelta(microseconds=n * 999_999) if n % 3 else AT,
            tenant_id=None if n == 3 else tenant_id,
            correlation_id=correlation if n % 2 else None,
            causation_id=uuid.UUID(int=n) if n % 2 else None,
            headers={"source": f"s{n}"} if n % 2 else {},
        )
        for n in range(6)
    ]
    created = datetime(2026, 3, 1, 4, 0, 1, tzinfo=UTC)
    with platform.db.unit_of_work(tenant_id) as uow:
        Outbox(platform.db, FixedClock(created)).write(uow, events)
        uow.session.execute(
            OUTBOX.insert(),
            [
                {
                    "event_id": e.event_id,
                    "topic": e.topic,
                    "partition": partition_for(e.key, 12),
                    "key": e.key,
                    "event_type": "CLAIM_SUBMITTED",
                    "schema_version": "1.0",
                    "tenant_id": e.tenant_id,
                    "correlation_id": e.correlation_id or e.event_id,
                    "causation_id": e.causation_id,
                    "occurred_at": e.occurred_at,
                    "created_at": created,
                    "payload": dumps_text(wire),
                    "headers": dumps_text(e.headers) if e.headers else None,
                }
                for e in events
            ],
        )
    columns = [c.name for c in OUTBOX.columns if c.name != "id"]
    with platform.db.engine.connect() as connection:
        rows = _raw(connection, OUTBOX, columns, "1 = 1 ORDER BY id")
    assert len(rows) == 12
    assert rows[:6] == rows[6:]


def test_fetched_messages_are_those_a_core_select_gives(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        first = uow.publish(claim_submitted(), key="same-key")
        uow.causation_id = first.event_id
        for n in range(4):
            uow.publish(claim_submitted(billed=f"{n}.00"), key="same-key")
    with platform.db.unit_of_work(None, all_tenants=True) as uow:
        uow.publish(claim_submitted(), key="same-key")  # no tenant
    with platform.db.engine.begin() as connection:
        connection.execute(update(OUTBOX).values(log_offset=OUTBOX.c.id, headers='{"source":"test"}'))
        connection.execute(update(OUTBOX).where(OUTBOX.c.id == 2).values(redrive_group="billing-claims-consumer"))
    partition = partition_for("same-key", 12)
    params = {"topic": TOPIC, "partition": partition, "committed": 1, "limit": 10}
    with platform.db.engine.connect() as connection:
        fetched = [message_from_values(row) for row in _FETCH.rows(connection, params)]
        core = [message_from_row(row) for row in connection.execute(_FETCH.statement, params)]
    assert [m.offset for m in fetched] == [2, 3, 4, 5, 6]
    assert {m.tenant_id for m in fetched} == {tenant_id, None}
    assert repr(fetched) == repr(core)  # the same values, of the same types (UUIDs, UTC-aware datetimes)


def test_an_advanced_offset_is_stored_as_a_core_update_stores_it(platform: Platform, tenant_id: uuid.UUID) -> None:
    partitions = table_of(ConsumerPartition)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with platform.db.engine.begin() as connection:
        for group in ("billing-claims-consumer", "audit-claims-consumer"):
            connection.execute(
                partitions.insert().values(
                    consumer_group=group, topic=TOPIC, partition=4, committed_offset=6, owner="w1", updated_at=start
                )
            )
    consumer = SimpleNamespace(group="billing-claims-consumer", member_id="w1", clock=FixedClock(AT))
    guard = _Guard(consumer, _Owned(TOPIC, 4, 6))  # type: ignore[arg-type]
    with platform.db.unit_of_work(tenant_id) as uow:
        guard.advance(uow.session, 9)
        uow.session.execute(
            update(partitions)
            .where(partitions.c.consumer_group == "audit-claims-consumer")
            .values(committed_offset=9, updated_at=AT)
        )
    with pytest.raises(LostPartition), platform.db.unit_of_work(tenant_id) as uow:
        guard.advance(uow.session, 10)  # it still takes 6 for the committed offset, where 9 is: refused
    columns = ["topic", "partition", "committed_offset", "owner", "updated_at"]
    with platform.db.engine.connect() as connection:
        advanced = _raw(connection, partitions, columns, "consumer_group = 'billing-claims-consumer'")
        core = _raw(connection, partitions, columns, "consumer_group = 'audit-claims-consumer'")
    assert advanced[0][2] == 9
    assert advanced == core


def test_numbered_rows_are_stored_as_a_core_update_stores_them(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        for n in range(6):
            uow.publish(claim_submitted(billed=f"{n}.00"), key="same-key")
    with platform.db.engine.begin() as connection:
        rows = connection.execute(select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.partition).order_by(OUTBOX.c.id)).all()
        LogSequencer().publish(connection, rows[:3], AT)
        for offset, row in enumerate(rows[3:], start=3):
            connection.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(log_offset=offset, relayed_at=AT))
    with platform.db.engine.connect() as connection:
        stored = _raw(connection, OUTBOX, ["log_offset", "relayed_at"], "1 = 1 ORDER BY id")
    assert [offset for offset, _ in stored] == [0, 1, 2, 3, 4, 5]
    assert len({at for _, at in stored}) == 1  # the same stored form whichever statement wrote it
