"""Kafka transport (``OLLY_BUS=kafka``): topics from the catalog, an idempotent producer for the
relay, and consumer groups that commit offsets only after the handler's transaction has committed.

The producer runs with ``enable.idempotence=true`` and ``acks=all``; the relay marks outbox rows
relayed only once every delivery is acknowledged. Consumers disable auto-commit: a message's offset
is committed after its transaction (domain rows, processed id, any events it published) commits,
so a crash redelivers at most the messages after the last commit, and the processed-id check drops
those already applied.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection

from olly.config import Settings
from olly.kernel.errors import TransientError
from olly.platform.bus import catalog
from olly.platform.bus.dispatch import Dispatcher, LostPartition, Stopping
from olly.platform.bus.messages import Message, Subscription
from olly.platform.bus.models import OutboxRecord
from olly.platform.bus.serialization import Codec, codec_for, kafka_headers, message_from_kafka
from olly.platform.db import Database, table_of
from olly.platform.jsonfast import loads
from olly.platform.logging import get_logger

log = get_logger("olly.bus.kafka")
OUTBOX = table_of(OutboxRecord)


def producer_config(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": catalog.COMPRESSION,
        "linger.ms": 5,
        "message.max.bytes": catalog.MAX_MESSAGE_BYTES,
    }


def consumer_config(settings: Settings, group: str, member_id: str) -> dict[str, Any]:
    session_ms = settings.kafka_session_timeout_ms
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": group,
        "client.id": member_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": session_ms,
        "heartbeat.interval.ms": max(100, session_ms // 5),
    }


class KafkaPublisher:
    """The relay's publisher on Kafka: produce every row to its partition, then mark them relayed."""

    full_rows = True

    def __init__(self, settings: Settings, codec: Codec, flush_timeout: float = 30.0) -> None:
        from confluent_kafka import Producer

        self.producer = Producer(producer_config(settings))
        self.codec = codec
        self.flush_timeout = flush_timeout

    def reset(self) -> None:
        """Nothing is cached: every round produces what is still unmarked."""

    def publish(self, connection: Connection, rows: Sequence[Any], now: datetime) -> None:
        errors: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                errors.append(str(error))

        for row in rows:
            value = self.codec.encode(row.topic, loads(row.payload))
            while True:
                try:
                    self.producer.produce(
                        row.topic,
                        value=value,
                        key=row.key.encode(),
                        partition=row.partition,
                        headers=kafka_headers(row),  # type: ignore[arg-type]
                        on_delivery=delivered,
                    )
                    break
                except BufferError:
                    self.producer.poll(0.05)
            self.producer.poll(0)
        remaining = self.producer.flush(self.flush_timeout)
        if remaining or errors:
            raise TransientError(f"Kafka did not acknowledge {remaining + len(errors)} message(s)")
        connection.execute(
            update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id")).values(relayed_at=bindparam("relayed_at")),
            [{"row_id": row.id, "relayed_at": now} for row in rows],
        )

    def close(self) -> None:
        self.producer.flush(5)


class KafkaGroupConsumer:
    """One worker's member of a Kafka consumer group."""

    def __init__(
        self,
        settings: Settings,
        codec: Codec,
        dispatcher: Dispatcher,
        group: str,
        subscriptions: list[Subscription],
        *,
        member_id: str,
        fetch_size: int = 500,
    ) -> None:
        from confluent_kafka import Consumer

        self.group = group
        self.subscriptions = {s.topic: s for s in subscriptions}
        self.codec = codec
        self.dispatcher = dispatcher
        self.member_id = member_id
        self.fetch_size = fetch_size
        self.poll = settings.bus_poll_ms / 1000
        self.consumer = Consumer(consumer_config(settings, group, member_id))
        self.consumer.subscribe(sorted(self.subscriptions))
        self._closed = False

    # The embedded consumer's lifecycle hooks; Kafka's group protocol does this work itself.
    def heartbeat(self) -> None:
        """Kafka's client heartbeats on its own thread."""

    def rebalance(self) -> None:
        """Kafka's group coordinator assigns partitions."""

    def wake(self) -> None:
        """Consumers block in ``consume``; nothing to wake."""

    def _decode(self, raw: Any) -> Message:
        payload = self.codec.decode(raw.topic(), raw.value())
        return message_from_kafka(raw.topic(), raw.partition(), raw.offset(), raw.key(), payload, raw.headers())

    def poll_once(self, stop: threading.Event) -> int:
        from confluent_kafka import KafkaException, TopicPartition

        raws = self.consumer.consume(num_messages=self.fetch_size, timeout=self.poll)
        batches: dict[tuple[Any, Any], list[Any]] = {}
        for raw in raws:
            if raw.error():
                log.warning("kafka consumer error", group=self.group, error=str(raw.error()))
                continue
            batches.setdefault((raw.topic(), raw.partition()), []).append(raw)
        handled = 0
        for (topic, partition), items in batches.items():
            if stop.is_set():
                break
            batch = []
            for raw in items:
                try:
                    batch.append(self._decode(raw))
                except Exception as exc:  # noqa: BLE001 - an undecodable message is poison: log and step over
                    log.error(
                        "undecodable message skipped",
                        group=self.group,
                        topic=topic,
                        partition=partition,
                        offset=raw.offset(),
                        error_type=type(exc).__name__,
                    )
            try:
                if batch:
                    handled += self.dispatcher.process(self.subscriptions[topic], batch, None, stop)
            except (Stopping, LostPartition):
                break
            try:
                self.consumer.commit(
                    offsets=[TopicPartition(topic, partition, items[-1].offset() + 1)], asynchronous=False
                )
            except KafkaException as exc:
                # The partition moved to another member mid-batch: it will redeliver; processed ids dedupe.
                log.info("offset commit refused", group=self.group, topic=topic, error=str(exc))
        return handled

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once(stop)
            except Exception:
                log.exception("kafka consumer round failed", group=self.group)
                stop.wait(1.0)

    def leave(self) -> None:
        if not self._closed:
            self._closed = True
            self.consumer.close()


class KafkaTransport:
    def __init__(self, settings: Settings, codec: Codec | None = None) -> None:
        self.settings = settings
        self.codec = codec or codec_for(settings.schema_registry_url)
        self._publisher: KafkaPublisher | None = None

    def admin(self) -> Any:
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self.settings.kafka_bootstrap})

    def ensure_topics(self, timeout: float = 30.0) -> list[str]:
        """Create every catalog topic (and its DLQ) the cluster lacks; return those created."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

        admin = self.admin()
        metadata = admin.list_topics(timeout=timeout)
        brokers = max(1, len(metadata.brokers))
        missing = [spec for name, spec in catalog.TOPICS.items() if name not in metadata.topics]
        if not missing:
            return []
        futures = admin.create_topics(
            [
                NewTopic(
                    spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replication_factor(brokers),
                    config=spec.kafka_config(brokers),
                )
                for spec in missing
            ],
            operation_timeout=timeout,
        )
        created = []
        for name, future in futures.items():
            try:
                future.result(timeout)
                created.append(name)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
        log.info("kafka topics created", count=len(created))
        return created

    def publisher(self) -> KafkaPublisher:
        if self._publisher is None:
            self._publisher = KafkaPublisher(self.settings, self.codec)
        return self._publisher

    def consumer(
        self, db: Database, dispatcher: Dispatcher, group: str, subscriptions: list[Subscription], *, member_id: str
    ) -> KafkaGroupConsumer:
        return KafkaGroupConsumer(self.settings, self.codec, dispatcher, group, subscriptions, member_id=member_id)

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
