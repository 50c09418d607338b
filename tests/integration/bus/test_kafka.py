"""The Kafka transport against a real Kafka-protocol broker (Tansu) started for each test."""

from __future__ import annotations

import json
import threading
import uuid

from confluent_kafka import Consumer
from sqlalchemy import func, select

from olly.kernel.errors import BusinessRuleViolation
from olly.platform.bus import catalog, dlq
from olly.platform.bus.kafka import KafkaTransport
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.models import OutboxRecord, ProcessedEvent
from olly.platform.bus.relay import wait_until
from olly.platform.db import UnitOfWork, table_of
from olly.platform.runtime import Platform
from tests.integration.bus.helpers import GROUP, TOPIC, claim_submitted, runtime

OUTBOX = table_of(OutboxRecord)
PROCESSED = table_of(ProcessedEvent)


def kafka_settings(bootstrap: str, **extra: object) -> dict[str, object]:
    return {"bus": "kafka", "kafka_bootstrap": bootstrap, "kafka_session_timeout_ms": 2000, **extra}


def raw_messages(bootstrap: str, topic: str, count: int, timeout: float = 20.0) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"probe-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 2000,
            "heartbeat.interval.ms": 400,
        }
    )
    consumer.subscribe([topic])
    found: list = []
    try:
        wait_until(
            lambda: found.extend(m for m in consumer.consume(100, 0.2) if not m.error()) or len(found) >= count, timeout
        )
    finally:
        consumer.close()
    return found


def test_topics_are_created_from_the_catalog(kafka_bootstrap: str, platform: Platform) -> None:
    transport = KafkaTransport(platform.settings.model_copy(update=kafka_settings(kafka_bootstrap)))
    created = transport.ensure_topics()
    assert sorted(created) == sorted(catalog.TOPICS)
    topics = transport.admin().list_topics(timeout=10).topics
    for name, spec in catalog.TOPICS.items():
        assert len(topics[name].partitions) == spec.partitions, name
    assert len(topics["claims.claim.submitted"].partitions) == 12
    assert len(topics["claims.claim.submitted.dlq"].partitions) == 12
    assert transport.ensure_topics() == []  # idempotent


def test_events_flow_through_kafka_once_each_in_order_per_key(
    kafka_bootstrap: str, platform: Platform, tenant_id: uuid.UUID
) -> None:
    seen: list[Message] = []
    lock = threading.Lock()
    registry = HandlerRegistry()

    def record(uow: UnitOfWork, message: Message) -> None:
        with lock:
            seen.append(message)

    registry.subscribe(TOPIC, GROUP, record)
    bus = runtime(platform, registry, **kafka_settings(kafka_bootstrap))
    with platform.db.unit_of_work(tenant_id) as uow:
        ids = [uow.publish(claim_submitted(), key=str(i % 4)).event_id for i in range(40)]
    bus.start()
    try:
        assert wait_until(lambda: len(seen) >= 40, 30)
    finally:
        bus.stop()
    assert sorted(m.event_id for m in seen) == sorted(ids)
    for key in "0123":
        assert [m.event_id for m in seen if m.key == key] == [i for n, i in enumerate(ids) if str(n % 4) == key]
    first = seen[0]
    assert first.tenant_id == tenant_id
    assert first.correlation_id == first.event_id
    with platform.db.engine.connect() as connection:
        assert connection.execute(select(func.count()).where(OUTBOX.c.relayed_at.is_(None))).scalar() == 0
        assert connection.execute(select(func.count()).select_from(PROCESSED)).scalar() == 40
    # The same record is on the broker, in the partition the outbox chose, with Olly's headers.
    [raw] = [
        m
        for m in raw_messages(kafka_bootstrap, TOPIC, 40)
        if dict(m.headers())["olly-event-id"] == str(ids[0]).encode()
    ]
    assert raw.partition() == seen[[m.event_id for m in seen].index(ids[0])].partition
    assert json.loads(raw.value())["eventType"] == "CLAIM_SUBMITTED"


def test_a_poison_message_goes_to_the_kafka_dlq_topic(
    kafka_bootstrap: str, platform: Platform, tenant_id: uuid.UUID
) -> None:
    registry = HandlerRegistry()

    def refuse(uow: UnitOfWork, message: Message) -> None:
        raise BusinessRuleViolation("unknown plan")

    registry.subscribe(TOPIC, GROUP, refuse)
    dlq.register_monitor(registry)
    bus = runtime(platform, registry, **kafka_settings(kafka_bootstrap))
    with platform.db.unit_of_work(tenant_id) as uow:
        event = uow.publish(claim_submitted(), key="k").event_id
    bus.start()
    try:
        [raw] = raw_messages(kafka_bootstrap, "claims.claim.submitted.dlq", 1)
    finally:
        bus.stop()
    body = json.loads(raw.value())
    assert body["dlqMetadata"]["originalTopic"] == TOPIC
    assert body["dlqMetadata"]["consumerGroup"] == GROUP
    assert body["dlqMetadata"]["retryCount"] == 0
    assert body["originalPayload"]["eventType"] == "CLAIM_SUBMITTED"
    assert dict(raw.headers())["olly-original-event-id"] == str(event).encode()
    [letter] = dlq.list_dead_letters(platform.db)
    assert letter.original_event_id == event


def test_avro_values_carry_the_confluent_wire_format(
    kafka_bootstrap: str, platform: Platform, tenant_id: uuid.UUID
) -> None:
    seen: list[Message] = []
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, lambda uow, m: seen.append(m))
    bus = runtime(platform, registry, **kafka_settings(kafka_bootstrap, schema_registry_url="mock://olly-tests"))
    with platform.db.unit_of_work(tenant_id) as uow:
        published = claim_submitted(billed="1234.56")
        uow.publish(published, key="k")
    bus.start()
    try:
        assert wait_until(lambda: len(seen) == 1, 30)
    finally:
        bus.stop()
    assert seen[0].payload == published.wire()
    [raw] = raw_messages(kafka_bootstrap, TOPIC, 1)
    value = raw.value()
    assert value[0] == 0  # magic byte
    schema_id = int.from_bytes(value[1:5], "big")
    registry_client = bus._kafka.codec.client
    assert registry_client.get_latest_version(f"{TOPIC}-value").schema_id == schema_id
