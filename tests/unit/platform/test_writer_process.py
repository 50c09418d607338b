"""What the server hands the writer process: audit records and events as plain values, read back
exactly; batches split into messages the writer reads whole; the writer's group commits."""

from __future__ import annotations

import marshal
import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, ClassVar, Literal

from olly.eligibility.events import CoverageVerified
from olly.kernel.events import EventPayload
from olly.platform import writer_process
from olly.platform.audit import AuditRecord
from olly.platform.writer_process import (
    MAX_MESSAGE_BYTES,
    decode_audit,
    decode_event,
    encode_audit,
    encode_event,
)

TENANT = uuid.UUID("00000000-0000-7000-8000-000000000001")
MEMBER = uuid.UUID("0190a8f2-7c1e-7a3b-9f00-0000000000aa")
PLAN = uuid.UUID("0190a8f2-7c1e-7a3b-9f00-0000000000bb")


def through_the_socket(value: Any) -> Any:
    """What the writer reads: the value marshalled and read back."""
    return marshal.loads(marshal.dumps(value))


def test_an_audit_record_is_read_back_exactly() -> None:
    record = AuditRecord(
        subject="account:0190a8f2-7c1e-7a3b-9f00-000000000001",
        role="claims_examiner",
        action="eligibility.check",
        resource_type="member",
        resource_id=str(MEMBER),
        outcome="allowed",
        purpose="treatment_payment_operations",
        request_id="req-00000001",
        tenant_id=TENANT,
        detail={"status": "COVERED", "fields": ["a", "b"], "count": 2, "flagged": True},
    )
    assert decode_audit(through_the_socket(encode_audit(record))) == record


def test_an_audit_record_without_tenant_or_detail_is_read_back_exactly() -> None:
    record = AuditRecord(subject="system", role="system", action="auth.login", resource_type="account")
    encoded = encode_audit(record)
    assert encoded[-2:] == (None, None)
    assert decode_audit(through_the_socket(encode_audit(record))) == record


def verified(**changes: object) -> CoverageVerified:
    fields: dict[str, object] = {
        "event_type": "COVERAGE_VERIFIED",
        "member_id": MEMBER,
        "plan_id": PLAN,
        "group_number": "G-100",
        "effective_date": date(2026, 1, 1),
        "termination_date": date(2026, 12, 31),
        "network_tier": "IN_NETWORK",
        "deductible_remaining": "1500.00",
        "oop_max_remaining": "6000.00",
        "currency": "USD",
        "verified_at": datetime(2026, 2, 3, 9, 15, 30, 123456, tzinfo=UTC),
    }
    fields.update(changes)
    return CoverageVerified.model_validate(fields)


def test_a_verified_event_is_read_back_exactly() -> None:
    payload = verified()
    tenant, decoded, key = decode_event(through_the_socket(encode_event((TENANT, payload, str(MEMBER)))))
    assert (tenant, key) == (TENANT, str(MEMBER))
    assert type(decoded) is CoverageVerified
    assert decoded == payload
    assert decoded.wire() == payload.wire()
    assert decoded.wire()["verifiedAt"] == "2026-02-03T09:15:30.123456Z"


def test_a_not_found_event_with_empty_fields_is_read_back_exactly() -> None:
    payload = verified(
        event_type="COVERAGE_NOT_FOUND",
        member_id=uuid.UUID(int=0),
        plan_id=None,
        group_number=None,
        effective_date=None,
        termination_date=None,
        network_tier=None,
        deductible_remaining=None,
        oop_max_remaining=None,
    )
    _, decoded, _ = decode_event(through_the_socket(encode_event((TENANT, payload, "unknown"))))
    assert decoded == payload
    assert decoded.wire() == payload.wire()


def test_a_timestamp_keeps_its_offset() -> None:
    at = datetime(2026, 2, 3, 4, 15, 30, 7, tzinfo=timezone(-timedelta(hours=5)))
    _, decoded, _ = decode_event(through_the_socket(encode_event((TENANT, verified(verified_at=at), "k"))))
    assert isinstance(decoded, CoverageVerified)
    assert decoded.verified_at == at
    assert decoded.verified_at.utcoffset() == -timedelta(hours=5)


class Listed(EventPayload):
    """A payload with a value marshal cannot carry as it is (a list of dates)."""

    TOPIC: ClassVar[str] = "eligibility.coverage.verified"
    event_type: Literal["LISTED"] = "LISTED"
    days: list[date]


def test_a_payload_with_other_values_is_pickled_and_read_back_exactly() -> None:
    payload = Listed(days=[date(2026, 1, 1), date(2026, 1, 2)])
    encoded = encode_event((TENANT, payload, "k"))
    assert encoded[0] == writer_process._EVENT_PICKLED
    _, decoded, _ = decode_event(through_the_socket(encoded))
    assert decoded == payload


def items(count: int, detail_size: int) -> list[tuple[object, ...]]:
    return [
        encode_audit(
            AuditRecord(
                subject="s",
                role="r",
                action="a",
                resource_type="t",
                request_id=f"r{i}",
                detail={"x": "y" * detail_size},
            )
        )
        for i in range(count)
    ]


def test_a_batch_is_split_into_messages_that_fit_in_order() -> None:
    process = writer_process.WriterProcess.__new__(writer_process.WriterProcess)
    batch = items(256, 1000)  # about 256 KB
    messages = process._messages(batch)
    assert len(messages) == 8
    assert all(m is not None and len(m) <= MAX_MESSAGE_BYTES for _, m in messages)
    assert [item for chunk, _ in messages for item in chunk] == batch
    assert [item for _, m in messages if m is not None for item in marshal.loads(m[1:])] == batch


def test_an_item_that_cannot_be_sent_is_set_apart() -> None:
    process = writer_process.WriterProcess.__new__(writer_process.WriterProcess)
    huge, plain = items(1, MAX_MESSAGE_BYTES), items(2, 10)
    odd = encode_audit(AuditRecord(subject="s", role="r", action="a", resource_type="t", detail={"x": object()}))
    messages = process._messages([plain[0], *huge, odd, plain[1]])
    assert [(chunk, message is None) for chunk, message in messages] == [
        ([plain[0]], False),
        (huge, True),
        ([odd], True),
        ([plain[1]], False),
    ]


def test_the_writer_is_given_no_secret() -> None:
    assert writer_process._secret_fields() == {
        "master_key",
        "master_key_previous",
        "token_signing_key",
        "metrics_token",
        "smtp_password",
        "oidc_client_secret",
    }


def test_the_writer_commits_a_kind_when_its_interval_has_passed_or_a_batch_is_full() -> None:
    written: list[list[int]] = []
    group = writer_process._GroupCommit(written.append, interval=60.0)
    group.add(1)
    group.add(2)
    group.write(time.monotonic())
    assert written == []  # not due yet
    group.write(time.monotonic() + 61)
    assert written == [[1, 2]]
    assert group.items == [] and group.due == float("inf")
    for item in range(1200):
        group.add(item)
    group.write(time.monotonic())  # 500 or more wait: written at once, 500 at a time
    assert [len(batch) for batch in written[1:]] == [500, 500, 200]
    assert [item for batch in written[1:] for item in batch] == list(range(1200))
    group.add(7)
    group.write()  # a flush: whether due or not
    assert written[-1] == [7]
