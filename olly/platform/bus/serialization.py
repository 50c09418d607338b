"""Messages to and from their stored and transported forms; the value codecs (JSON, Avro).

On the embedded log a message is an outbox row. On Kafka its identity travels in headers
(``olly-event-id``, ``olly-correlation-id`` …) and its value is encoded by a codec: JSON by default,
or Avro in the Confluent wire format (magic byte 0, 4-byte schema id, Avro body) through
confluent-kafka's schema-registry serializer when ``OLLY_SCHEMA_REGISTRY_URL`` is set, registered
under the subject ``{topic}-value``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from olly.kernel.errors import ConfigurationError
from olly.platform.bus import catalog, messages
from olly.platform.bus.messages import Message
from olly.platform.jsonfast import dumps, loads


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


#: A message's ``bus_outbox`` columns, in the order ``message_from_values`` takes their values.
MESSAGE_COLUMNS: Final = (
    "topic",
    "partition",
    "log_offset",
    "key",
    "event_id",
    "event_type",
    "schema_version",
    "tenant_id",
    "correlation_id",
    "causation_id",
    "occurred_at",
    "created_at",
    "payload",
    "headers",
    "redrive_group",
)


def message_from_row(row: Any) -> Message:
    """A message from a ``bus_outbox`` row (embedded transport; also used by DLQ tooling)."""
    return message_from_values([getattr(row, name) for name in MESSAGE_COLUMNS])


def message_from_values(values: Sequence[Any]) -> Message:
    """A message from the values of a ``bus_outbox`` row's ``MESSAGE_COLUMNS``, in that order."""
    (
        topic,
        partition,
        log_offset,
        key,
        event_id,
        event_type,
        schema_version,
        tenant_id,
        correlation_id,
        causation_id,
        occurred_at,
        created_at,
        payload,
        headers,
        redrive_group,
    ) = values
    return Message(
        topic=topic,
        partition=int(partition),
        offset=int(log_offset) if log_offset is not None else -1,
        key=key,
        event_id=event_id,
        event_type=event_type,
        schema_version=schema_version,
        tenant_id=tenant_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        occurred_at=occurred_at,
        created_at=created_at,
        payload=loads(payload),
        headers=loads(headers) if headers else {},
        redrive_group=redrive_group,
    )


def kafka_headers(row: Any) -> list[tuple[str, bytes]]:
    """The message's identity as Kafka headers, from a ``bus_outbox`` row."""
    values = {
        messages.H_EVENT_ID: str(row.event_id),
        messages.H_EVENT_TYPE: row.event_type,
        messages.H_SCHEMA_VERSION: row.schema_version,
        messages.H_CORRELATION: str(row.correlation_id),
        messages.H_OCCURRED_AT: row.occurred_at.isoformat(),
        messages.H_CREATED_AT: row.created_at.isoformat(),
    }
    if row.tenant_id is not None:
        values[messages.H_TENANT] = str(row.tenant_id)
    if row.causation_id is not None:
        values[messages.H_CAUSATION] = str(row.causation_id)
    if row.redrive_group:
        values[messages.H_REDRIVE_GROUP] = row.redrive_group
    extra = loads(row.headers) if row.headers else {}
    values.update({f"x-{k}" if not k.startswith("olly-") else k: str(v) for k, v in extra.items()})
    return [(name, value.encode()) for name, value in values.items()]


def message_from_kafka(
    topic: str, partition: int, offset: int, key: bytes | None, payload: dict[str, Any], headers: list[Any] | None
) -> Message:
    values = {name: (value.decode() if isinstance(value, bytes) else str(value)) for name, value in headers or []}
    own = {k: v for k, v in values.items() if not k.startswith("x-")}
    extra = {k[2:]: v for k, v in values.items() if k.startswith("x-")}
    extra.update({k: v for k, v in own.items() if k.startswith("olly-original-")})
    created = own.get(messages.H_CREATED_AT)
    event_id = _uuid(own.get(messages.H_EVENT_ID))
    correlation = _uuid(own.get(messages.H_CORRELATION))
    if event_id is None or correlation is None:
        raise ValueError("a Kafka message without Olly's identity headers")
    return Message(
        topic=topic,
        partition=partition,
        offset=offset,
        key=key.decode() if key else "",
        event_id=event_id,
        event_type=own.get(messages.H_EVENT_TYPE, str(payload.get("eventType", ""))),
        schema_version=own.get(messages.H_SCHEMA_VERSION, str(payload.get("schemaVersion", ""))),
        tenant_id=_uuid(own.get(messages.H_TENANT)),
        correlation_id=correlation,
        causation_id=_uuid(own.get(messages.H_CAUSATION)),
        occurred_at=datetime.fromisoformat(own[messages.H_OCCURRED_AT]),
        created_at=datetime.fromisoformat(created) if created else None,
        payload=payload,
        headers=extra,
        redrive_group=own.get(messages.H_REDRIVE_GROUP),
    )


# ---------------------------------------------------------------------------------------------
# Codecs
# ---------------------------------------------------------------------------------------------
class Codec(Protocol):
    name: str

    def encode(self, topic: str, payload: dict[str, Any]) -> bytes: ...

    def decode(self, topic: str, value: bytes) -> dict[str, Any]: ...


class JsonCodec:
    name = "json"

    def encode(self, topic: str, payload: dict[str, Any]) -> bytes:
        return dumps(payload)

    def decode(self, topic: str, value: bytes) -> dict[str, Any]:
        decoded = loads(value)
        if not isinstance(decoded, dict):
            raise ValueError("a message value must be a JSON object")
        return decoded


class AvroCodec:
    """Avro in the Confluent wire format via a Schema Registry (subject ``{topic}-value``).

    Topics without payload models (the dead-letter topics, whose envelope wraps any payload) stay JSON.
    """

    name = "avro"

    def __init__(self, registry_url: str, registry_client: Any = None) -> None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        self.client = registry_client or SchemaRegistryClient.new_client({"url": registry_url})
        self._serializers: dict[str, Any] = {}
        self._deserializer: Any = None
        self._json = JsonCodec()

    def _avro_topic(self, topic: str) -> bool:
        from olly.platform.bus.payloads import payload_classes

        return not catalog.topic(topic).is_dlq and topic in payload_classes()

    def _serializer(self, topic: str) -> Any:
        if topic not in self._serializers:
            from confluent_kafka.schema_registry.avro import AvroSerializer

            from olly.platform.bus.avro import dumps, topic_schema
            from olly.platform.bus.payloads import payload_classes

            schema = dumps(topic_schema(payload_classes()[topic]))
            self._serializers[topic] = AvroSerializer(self.client, schema, to_dict=lambda value, _ctx: value)
        return self._serializers[topic]

    def encode(self, topic: str, payload: dict[str, Any]) -> bytes:
        if not self._avro_topic(topic):
            return self._json.encode(topic, payload)
        from confluent_kafka.serialization import MessageField, SerializationContext

        from olly.platform.bus.avro import record_name
        from olly.platform.bus.payloads import payload_classes, payload_for

        model = payload_for(topic, str(payload.get("eventType")))
        if model is None:
            raise ConfigurationError(f"no payload model for {payload.get('eventType')!r} on {topic}")
        datum: Any = model.model_validate(payload).model_dump(by_alias=True, mode="python")
        if len(payload_classes()[topic]) > 1:
            datum = (record_name(model), datum)
        encoded = self._serializer(topic)(datum, SerializationContext(topic, MessageField.VALUE))
        assert isinstance(encoded, bytes)
        return encoded

    def decode(self, topic: str, value: bytes) -> dict[str, Any]:
        if not value or value[0] != 0:
            return self._json.decode(topic, value)
        from confluent_kafka.schema_registry.avro import AvroDeserializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        from olly.platform.bus.payloads import payload_for

        if self._deserializer is None:
            self._deserializer = AvroDeserializer(self.client)
        datum = self._deserializer(value, SerializationContext(topic, MessageField.VALUE))
        model = payload_for(topic, str(datum.get("eventType")))
        if model is None:
            raise ValueError("an Avro value of an event type without a payload model")
        return model.model_validate(datum).wire()


def codec_for(registry_url: str | None) -> Codec:
    return AvroCodec(registry_url) if registry_url else JsonCodec()
