"""The embedded transport end to end: relay, consumer groups, retries, dead letters, redrive."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from olly.kernel.clock import FixedClock
from olly.kernel.errors import BusinessRuleViolation, Conflict, TransientError
from olly.platform.bus import dlq
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.models import ConsumerPartition, OutboxRecord, ProcessedEvent
from olly.platform.db import UnitOfWork, table_of
from olly.platform.runtime import Platform
from tests.integration.bus.helpers import GROUP, TOPIC, claim_submitted, runtime

OUTBOX = table_of(OutboxRecord)
PROCESSED = table_of(ProcessedEvent)
PARTITIONS = table_of(ConsumerPartition)
FAILED_AT = datetime(2026, 1, 16, 10, 5, 32, tzinfo=UTC)


def _publish(platform: Platform, tenant_id: uuid.UUID, count: int, keys: int = 3) -> list[uuid.UUID]:
    ids = []
    with platform.db.unit_of_work(tenant_id) as uow:
        for i in range(count):
            ids.append(uow.publish(claim_submitted(uuid.UUID(int=i % keys + 1)), key=str(i % keys)).event_id)
    return ids


def test_every_event_is_handled_once_in_order_per_key(platform: Platform, tenant_id: uuid.UUID) -> None:
    seen: list[Message] = []
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, lambda uow, m: seen.append(m))
    ids = _publish(platform, tenant_id, 30)
    bus = runtime(platform, registry)
    assert bus.drain() == 30
    assert sorted(m.event_id for m in seen) == sorted(ids)
    for key in ("0", "1", "2"):
        published = [i for n, i in enumerate(ids) if str(n % 3) == key]
        assert [m.event_id for m in seen if m.key == key] == published
    assert all(m.tenant_id == tenant_id and m.payload["eventType"] == "CLAIM_SUBMITTED" for m in seen)
    # A second drain finds nothing new.
    assert bus.drain() == 0
    with platform.db.engine.connect() as connection:
        processed = connection.execute(select(PROCESSED.c.event_id).where(PROCESSED.c.consumer_group == GROUP))
        assert sorted(processed.scalars()) == sorted(ids)


def test_events_a_handler_publishes_join_the_saga(platform: Platform, tenant_id: uuid.UUID) -> None:
    registry = HandlerRegistry()

    def forward(uow: UnitOfWork, message: Message) -> None:
        if message.payload["totalBilledAmount"] == "1.00":
            uow.publish(claim_submitted(billed="2.00"), key=message.key)

    registry.subscribe(TOPIC, GROUP, forward)
    with platform.db.unit_of_work(tenant_id) as uow:
        first = uow.publish(claim_submitted(billed="1.00"), key="k")
    runtime(platform, registry).drain()
    with platform.db.engine.connect() as connection:
        rows = connection.execute(select(OUTBOX).order_by(OUTBOX.c.id)).all()
    assert len(rows) == 2
    assert rows[1].correlation_id == first.event_id
    assert rows[1].causation_id == first.event_id


def test_a_poison_message_reaches_the_dlq_after_exactly_three_retries(platform: Platform, tenant_id: uuid.UUID) -> None:
    calls: list[uuid.UUID] = []
    registry = HandlerRegistry()

    def flaky(uow: UnitOfWork, message: Message) -> None:
        calls.append(message.event_id)
        if message.payload["totalBilledAmount"] == "666.00":
            raise TransientError("EligibilityService unavailable")

    registry.subscribe(TOPIC, GROUP, flaky)
    with platform.db.unit_of_work(tenant_id) as uow:
        before = uow.publish(claim_submitted(billed="1.00"), key="k").event_id
        poison = uow.publish(claim_submitted(billed="666.00"), key="k").event_id
        after = uow.publish(claim_submitted(billed="2.00"), key="k").event_id
    bus = runtime(platform, registry, clock=FixedClock(FAILED_AT))
    bus.drain()
    # The chunk of three fails once, then one by one: `before` again, poison 1 + 3 retries, `after`.
    assert calls == [before, poison, before, poison, poison, poison, poison, after]
    [letter] = dlq.list_dead_letters(platform.db)
    with platform.db.engine.connect() as connection:
        original = connection.execute(select(OUTBOX).where(OUTBOX.c.event_id == poison)).one()
    assert letter.topic == "claims.claim.submitted.dlq"
    assert letter.original_event_id == poison
    assert letter.metadata == {
        "originalTopic": "claims.claim.submitted",
        "originalPartition": original.partition,
        "originalOffset": original.log_offset,
        "failureReason": "temporarily_unavailable: EligibilityService unavailable after 3 retries",
        "failedAt": "2026-01-16T10:05:32Z",
        "consumerGroup": GROUP,
        "retryCount": 3,
    }
    assert letter.original_payload == original_payload(platform, poison)
    assert letter.correlation_id == original.correlation_id
    # The dead-letter record itself is on the .dlq topic's same partition, in the log.
    with platform.db.engine.connect() as connection:
        row = connection.execute(select(OUTBOX).where(OUTBOX.c.event_id == letter.id)).one()
    assert (row.partition, row.log_offset is not None, row.causation_id) == (original.partition, True, poison)


def original_payload(platform: Platform, event_id: uuid.UUID) -> dict:
    import json

    with platform.db.engine.connect() as connection:
        return json.loads(connection.execute(select(OUTBOX.c.payload).where(OUTBOX.c.event_id == event_id)).scalar())


def test_a_terminal_failure_skips_the_retries(platform: Platform, tenant_id: uuid.UUID) -> None:
    calls: list[uuid.UUID] = []
    registry = HandlerRegistry()

    def refuse(uow: UnitOfWork, message: Message) -> None:
        calls.append(message.event_id)
        raise BusinessRuleViolation("claim refers to an unknown plan")

    registry.subscribe(TOPIC, GROUP, refuse)
    [event] = _publish(platform, tenant_id, 1)
    runtime(platform, registry, clock=FixedClock(FAILED_AT)).drain()
    assert calls == [event, event]  # once in the chunk, once alone: never retried
    [letter] = dlq.list_dead_letters(platform.db)
    assert letter.metadata["retryCount"] == 0
    assert letter.metadata["failureReason"] == (
        "business_rule_violation: claim refers to an unknown plan (terminal: not retried)"
    )


def test_a_redriven_message_is_processed_once_by_the_failed_group_only(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    broken = threading.Event()
    broken.set()
    billing: list[uuid.UUID] = []
    notifications: list[uuid.UUID] = []
    registry = HandlerRegistry()

    def bill(uow: UnitOfWork, message: Message) -> None:
        if broken.is_set():
            raise BusinessRuleViolation("plan not loaded yet")
        billing.append(message.event_id)

    registry.subscribe(TOPIC, GROUP, bill)
    registry.subscribe(TOPIC, "notifications-claims-consumer", lambda uow, m: notifications.append(m.event_id))
    [event] = _publish(platform, tenant_id, 1)
    bus = runtime(platform, registry)
    bus.drain()
    assert billing == []
    assert notifications == [event]
    [letter] = dlq.list_dead_letters(platform.db)

    broken.clear()
    assert dlq.redrive(platform.db, platform.clock, letter.id) == event
    bus.drain()
    assert billing == [event]
    assert notifications == [event]  # the other group stepped over the redriven copy
    assert dlq.list_dead_letters(platform.db) == []
    assert dlq.get_dead_letter(platform.db, letter.id).redriven_at == platform.clock.now()
    with pytest.raises(Conflict):
        dlq.redrive(platform.db, platform.clock, letter.id)
    bus.drain()
    assert billing == [event]


def test_a_redelivered_event_is_not_applied_twice(platform: Platform, tenant_id: uuid.UUID) -> None:
    applied: list[uuid.UUID] = []
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, lambda uow, m: applied.append(m.event_id))
    ids = _publish(platform, tenant_id, 5)
    bus = runtime(platform, registry)
    bus.drain()
    # Rewind the group as if its offsets had been lost: everything is delivered again.
    with platform.db.connect() as connection:
        connection.execute(PARTITIONS.update().values(committed_offset=-1))
    for consumer in bus.consumers:
        consumer.owned.clear()
    bus.drain()
    assert sorted(applied) == sorted(ids)


def test_a_handler_failure_rolls_back_its_own_writes(platform: Platform, tenant_id: uuid.UUID) -> None:
    registry = HandlerRegistry()

    def publish_then_fail(uow: UnitOfWork, message: Message) -> None:
        uow.publish(claim_submitted(billed="9.00"), key="k")
        raise BusinessRuleViolation("refused")

    registry.subscribe(TOPIC, GROUP, publish_then_fail)
    _publish(platform, tenant_id, 1)
    runtime(platform, registry).drain()
    with platform.db.engine.connect() as connection:
        topics = sorted(connection.execute(select(OUTBOX.c.topic)).scalars())
    # Only the original and its dead letter: the handler's own event never left.
    assert topics == ["claims.claim.submitted", "claims.claim.submitted.dlq"]


def test_two_workers_share_a_group_and_one_takes_over_when_the_other_dies(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    registry = HandlerRegistry()
    handled: list[str] = []
    registry.subscribe(TOPIC, GROUP, lambda uow, m: handled.append(m.key))
    a = runtime(platform, registry, member_id="worker-a")
    b = runtime(platform, registry, member_id="worker-b", run_relay=False)
    [ca], [cb] = a.consumers, b.consumers
    for consumer in (ca, cb):
        consumer.heartbeat()
    for consumer in (ca, cb, ca):
        consumer.rebalance()
    assert len(ca.owned) == 6
    assert len(cb.owned) == 6
    assert not set(ca.owned) & set(cb.owned)
    # b dies: it stops heartbeating. Once its leases expire a takes everything over.
    clock = FixedClock(datetime.now(UTC))
    ca.clock = clock
    clock.advance(timedelta(seconds=5))
    ca.heartbeat()
    ca.rebalance()
    assert len(ca.owned) == 12
    _publish(platform, tenant_id, 12, keys=12)
    a.relay.run_once()
    stop = threading.Event()
    assert ca.poll_once(stop) == 12
    # The dead worker, waking up, finds nothing of its own to do and, at its next rebalance, learns
    # that its partitions moved; nothing is handled twice.
    assert cb.poll_once(stop) == 0
    cb.rebalance()
    assert cb.owned == {}
    assert sorted(handled) == sorted(str(k) for k in range(12))


def test_the_relay_wakes_only_the_groups_that_consume_what_it_placed(platform: Platform, tenant_id: uuid.UUID) -> None:
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, lambda uow, m: None)
    registry.subscribe("eligibility.coverage.verified", "audit-eligibility-consumer", lambda uow, m: None)
    bus = runtime(platform, registry)
    placed: list[frozenset[str]] = []
    assert bus.relay is not None
    bus.relay.on_published.append(placed.append)
    _publish(platform, tenant_id, 2)
    assert bus.relay.run_once() == 2
    assert placed == [frozenset({TOPIC})]
    consumers = {c.group: c for c in bus.consumers}
    for consumer in consumers.values():
        consumer.wake_for(placed[0])
    assert consumers[GROUP]._wake.is_set()
    assert not consumers["audit-eligibility-consumer"]._wake.is_set()


def test_a_prepare_step_reads_a_chunk_once_and_its_messages_keep_their_own_saga_and_failures(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    prepared: list[list[uuid.UUID]] = []
    handled: list[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]] = []
    registry = HandlerRegistry()
    ids = _publish(platform, tenant_id, 6, keys=1)
    poison = ids[2]

    def handle(uow: UnitOfWork, message: Message) -> None:
        if message.event_id not in ids:
            return  # what this handler published (same topic)
        if message.event_id == poison:
            raise BusinessRuleViolation("refused")
        uow.publish(claim_submitted(billed="9.00"), key="k")
        handled.append((message.event_id, uow.correlation_id, uow.causation_id))

    def prepare(uow: UnitOfWork, messages: Sequence[Message]) -> Callable[[UnitOfWork, Message], None]:
        mine = [m.event_id for m in messages if m.event_id in ids]
        if mine:
            prepared.append(mine)
        return handle

    registry.subscribe(TOPIC, GROUP, handle, prepare=prepare)
    runtime(platform, registry).drain()
    # The whole chunk once; it fails on the poison, so each message is then handled in its own
    # transaction (prepared alone): the five good ones once each, the poison dead-lettered.
    assert prepared == [ids] + [[event_id] for event_id in ids]
    assert [event_id for event_id, _, _ in handled] == [ids[0], ids[1], ids[0], ids[1], *ids[3:]]
    assert all(correlation == causation == event_id for event_id, correlation, causation in handled)
    [letter] = dlq.list_dead_letters(platform.db)
    assert (letter.original_event_id, letter.metadata["retryCount"]) == (poison, 0)
    with platform.db.engine.connect() as connection:
        published = connection.execute(select(OUTBOX.c.causation_id).where(OUTBOX.c.payload.contains('"9.00"')))
        assert sorted(published.scalars()) == sorted(i for i in ids if i != poison)
