"""The audit trail: hash-chained, append-only in the database, and verifiable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from olly.platform.audit import AuditEvent, AuditRecord, AuditTrail, record_hash, verify
from olly.platform.db import table_of
from olly.platform.runtime import Platform

EVENTS = table_of(AuditEvent)


def records(n: int, tenant_id: uuid.UUID) -> list[AuditRecord]:
    return [
        AuditRecord(
            subject=f"user-{i}",
            role="claims_examiner",
            action="read",
            resource_type="claim",
            resource_id=f"claim-{i}",
            purpose="treatment_payment_operations",
            request_id=f"req-{i:08d}",
            tenant_id=tenant_id,
            detail={"fields": ["status"]},
        )
        for i in range(n)
    ]


def fill(platform: Platform, tenant_id: uuid.UUID, n: int = 40) -> AuditTrail:
    trail = AuditTrail(platform.db, chains=1)
    for record in records(n, tenant_id):
        trail.record(record)
    return trail


@contextmanager
def triggers_disabled(platform: Platform) -> Iterator[Connection]:
    """What an attacker with DDL rights would do first; the chain must still tell."""
    with platform.db.connect() as connection:
        if platform.db.is_sqlite:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            connection.execute(text("ALTER TABLE platform.audit_events DISABLE TRIGGER audit_events_append_only"))
        yield connection


def row(platform: Platform, seq: int) -> dict[str, object]:
    with platform.db.connect() as connection:
        return dict(connection.execute(select(EVENTS).where(EVENTS.c.chain == 0, EVENTS.c.seq == seq)).mappings().one())


def test_an_intact_trail_verifies(platform: Platform, tenant_id: uuid.UUID) -> None:
    fill(platform, tenant_id)
    AuditTrail(platform.db).record(*records(5, tenant_id))  # a batch on a random chain
    report = verify(platform.db)
    assert report.ok and report.records == 45
    first = row(platform, 1)
    assert first["prev_hash"] == "0" * 64 and first["hash"] == record_hash(first)
    assert row(platform, 2)["prev_hash"] == first["hash"]


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_the_database_refuses_update_and_delete(platform: Platform, tenant_id: uuid.UUID, statement: str) -> None:
    fill(platform, tenant_id, 3)
    stmt = update(EVENTS).values(outcome="denied") if statement == "update" else delete(EVENTS)
    with pytest.raises(DBAPIError, match="append-only"), platform.db.connect() as connection:
        connection.execute(stmt.where(EVENTS.c.seq == 2))
    assert verify(platform.db).ok
    assert row(platform, 2)["outcome"] == "allowed"


def test_truncate_is_refused_on_postgresql(platform: Platform, tenant_id: uuid.UUID) -> None:
    fill(platform, tenant_id, 3)
    if platform.db.is_sqlite:
        return  # SQLite has no TRUNCATE; DELETE without WHERE is covered above
    with pytest.raises(DBAPIError, match="append-only"), platform.db.connect() as connection:
        connection.execute(text("TRUNCATE platform.audit_events"))


def test_a_modified_record_is_reported(platform: Platform, tenant_id: uuid.UUID) -> None:
    fill(platform, tenant_id)
    target = row(platform, 17)
    with triggers_disabled(platform) as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == target["id"]).values(outcome="denied"))
    report = verify(platform.db)
    assert [(b.chain, b.seq, b.kind, b.record_id) for b in report.broken] == [(0, 17, "modified", str(target["id"]))]


def test_a_modified_record_with_a_recomputed_hash_breaks_the_next_link(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    fill(platform, tenant_id)
    target = row(platform, 17)
    target["subject"] = "someone-else"
    with triggers_disabled(platform) as connection:
        connection.execute(
            update(EVENTS).where(EVENTS.c.id == target["id"]).values(subject="someone-else", hash=record_hash(target))
        )
    (broken,) = verify(platform.db).broken
    assert (broken.seq, broken.kind) == (18, "inserted")  # record 18 no longer follows record 17


def test_a_deleted_record_is_reported(platform: Platform, tenant_id: uuid.UUID) -> None:
    fill(platform, tenant_id)
    with triggers_disabled(platform) as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.chain == 0, EVENTS.c.seq == 23))
    (broken,) = verify(platform.db).broken
    assert (broken.chain, broken.seq, broken.kind) == (0, 23, "deleted")


def test_a_deleted_tail_is_reported(platform: Platform, tenant_id: uuid.UUID) -> None:
    fill(platform, tenant_id)
    with triggers_disabled(platform) as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.chain == 0, EVENTS.c.seq >= 39))
    (broken,) = verify(platform.db).broken
    assert (broken.seq, broken.kind) == (39, "deleted")


def test_an_inserted_record_is_reported(platform: Platform, tenant_id: uuid.UUID) -> None:
    fill(platform, tenant_id)
    forged = row(platform, 40)
    forged.update(id=uuid.uuid4(), seq=41, subject="forger", prev_hash=forged["hash"])
    forged["hash"] = record_hash(forged)  # a perfectly linked record, appended behind the head's back
    with platform.db.connect() as connection:
        connection.execute(EVENTS.insert().values(**forged))
    (broken,) = verify(platform.db).broken
    assert (broken.seq, broken.kind, broken.record_id) == (41, "inserted", str(forged["id"]))


def test_an_inserted_record_in_the_middle_is_reported(platform: Platform, tenant_id: uuid.UUID) -> None:
    fill(platform, tenant_id)
    original = row(platform, 10)
    with triggers_disabled(platform) as connection:
        # make room at seq 10 by removing the original, then slip a forged record in
        connection.execute(delete(EVENTS).where(EVENTS.c.id == original["id"]))
        forged = dict(original, id=uuid.uuid4(), subject="forger")
        forged["hash"] = record_hash(forged)
        connection.execute(EVENTS.insert().values(**forged))
    (broken,) = verify(platform.db).broken
    assert (broken.seq, broken.kind) == (11, "inserted")


def test_concurrent_appends_keep_every_chain_intact(platform: Platform, tenant_id: uuid.UUID) -> None:
    import threading

    trail = AuditTrail(platform.db, chains=4)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for record in records(25, tenant_id):
                trail.record(record)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify(platform.db)
    assert report.ok and report.records == 150


def test_the_group_commit_writer_loses_nothing_and_keeps_chains_intact(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    trail = AuditTrail(platform.db, chains=4, batch_size=64)
    try:
        for record in records(1_000, tenant_id):
            trail.submit(record)
        trail.flush()
        report = verify(platform.db)
        assert report.ok and report.records == 1_000
        with platform.db.connect() as connection:
            subjects = sorted(connection.execute(select(EVENTS.c.subject)).scalars())
        assert subjects == sorted(f"user-{i}" for i in range(1_000))
    finally:
        trail.close()
