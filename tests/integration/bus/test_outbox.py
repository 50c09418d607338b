"""Publishing writes outbox rows in the publisher's transaction, and nowhere else."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select, update

from olly.kernel.errors import ConfigurationError
from olly.kernel.events import EventPayload
from olly.platform.bus.models import OutboxRecord
from olly.platform.bus.outbox import partition_for
from olly.platform.bus.serialization import kafka_headers, message_from_row
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from tests.integration.bus.helpers import TOPIC, claim_submitted

OUTBOX = table_of(OutboxRecord)


def _rows(platform: Platform) -> list:
    with platform.db.engine.connect() as connection:
        return connection.execute(select(OUTBOX).order_by(OUTBOX.c.id)).all()


def test_publish_writes_one_row_with_identity_key_and_partition(platform: Platform, tenant_id: uuid.UUID) -> None:
    member = uuid.UUID("0190a000-0000-7000-8000-000000000042")
    event = claim_submitted(member)
    with platform.db.unit_of_work(tenant_id) as uow:
        outgoing = uow.publish(event, key=member)
    [row] = _rows(platform)
    assert row.event_id == outgoing.event_id
    assert row.topic == "claims.claim.submitted"
    assert row.key == str(member)
    assert row.partition == partition_for(str(member), 12)
    assert row.event_type == "CLAIM_SUBMITTED"
    assert row.schema_version == "1.0"
    assert row.tenant_id == tenant_id
    assert row.correlation_id == outgoing.event_id  # the first event of a saga starts it
    assert row.causation_id is None
    assert row.log_offset is None
    assert row.relayed_at is None
    body = json.loads(row.payload)
    assert body["eventType"] == "CLAIM_SUBMITTED"
    assert body["totalBilledAmount"] == "250.00"
    assert body["serviceDate"] == "2026-01-15"
    assert body["submittedAt"] == "2026-01-16T10:00:00Z"
    assert body["priorAuthId"] is None


def test_a_row_reads_back_as_its_message_whichever_json_encoder_wrote_it(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    event = claim_submitted()
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(event, key="k")
    [row] = _rows(platform)
    body = event.wire()
    assert row.payload == json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    assert message_from_row(row).payload == body
    # a row in another JSON style (spaces, ASCII escapes) reads as the same message
    headers = {"olly-original-key": "clé-1", "trace": "Ünïcode"}
    with platform.db.connect() as connection:
        connection.execute(
            update(OUTBOX).where(OUTBOX.c.id == row.id).values(payload=json.dumps(body), headers=json.dumps(headers))
        )
    [former] = _rows(platform)
    assert "\\u00dcn\\u00efcode" in former.headers
    message = message_from_row(former)
    assert (message.payload, message.headers) == (body, headers)
    sent = dict(kafka_headers(former))
    assert (sent["olly-original-key"], sent["x-trace"]) == ("clé-1".encode(), "Ünïcode".encode())


def test_correlation_and_causation_come_from_the_unit_of_work(platform: Platform, tenant_id: uuid.UUID) -> None:
    correlation, cause = uuid.uuid4(), uuid.uuid4()
    with platform.db.unit_of_work(tenant_id, correlation_id=correlation, causation_id=cause) as uow:
        uow.publish(claim_submitted(), key="k")
        uow.publish(claim_submitted(), key="k")
    rows = _rows(platform)
    assert [(r.correlation_id, r.causation_id) for r in rows] == [(correlation, cause)] * 2


def test_a_rolled_back_unit_of_work_leaves_no_outbox_row(platform: Platform, tenant_id: uuid.UUID) -> None:
    def fail_after_publishing() -> None:
        with platform.db.unit_of_work(tenant_id) as uow:
            uow.publish(claim_submitted(), key="k")
            raise RuntimeError("the domain change failed")

    with pytest.raises(RuntimeError):
        fail_after_publishing()
    assert _rows(platform) == []


def test_an_event_type_outside_the_catalog_is_refused_and_nothing_is_written(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    class Stray(EventPayload):
        TOPIC = TOPIC
        event_type: str = "CLAIM_TELEPORTED"

    with pytest.raises(ConfigurationError), platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(Stray(), key="k")
    with platform.db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OUTBOX)).scalar() == 0


def test_a_topic_outside_the_catalog_is_refused(platform: Platform, tenant_id: uuid.UUID) -> None:
    class Elsewhere(EventPayload):
        TOPIC = "claims.claim.teleported"
        event_type: str = "CLAIM_TELEPORTED"

    with pytest.raises(ConfigurationError), platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(Elsewhere(), key="k")
    assert _rows(platform) == []
