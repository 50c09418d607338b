"""The event log's retention and the forgetting of processed ids, on both engines."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import structlog
from sqlalchemy import select

from olly.kernel.clock import FixedClock
from olly.platform.bus import catalog, retention
from olly.platform.bus.relay import LogSequencer
from olly.platform.jobs import JobScheduler, discover_jobs
from olly.platform.runtime import Platform

OUTBOX = retention.OUTBOX
POSITIONS = retention.POSITIONS
PROCESSED = retention.PROCESSED

SUBMITTED = catalog.topic("claims.claim.submitted")
DLQ = catalog.topic(SUBMITTED.dlq)
GROUP = "billing-claims-consumer"


def add_row(
    platform: Platform,
    topic: str,
    created_at: datetime,
    *,
    partition: int = 0,
    log_offset: int | None = None,
    relayed: bool = True,
) -> int:
    with platform.db.connect() as connection:
        row_id = connection.execute(
            OUTBOX.insert()
            .values(
                event_id=uuid.uuid4(),
                topic=topic,
                partition=partition,
                key="k",
                event_type="CLAIM_SUBMITTED",
                schema_version="1",
                tenant_id=None,
                correlation_id=uuid.uuid4(),
                causation_id=None,
                occurred_at=created_at,
                created_at=created_at,
                payload="{}",
                headers=None,
                log_offset=log_offset,
                relayed_at=created_at if relayed else None,
            )
            .returning(OUTBOX.c.id)
        ).scalar_one()
    return int(row_id)


def add_position(platform: Platform, group: str, topic: str, partition: int, committed: int, at: datetime) -> None:
    with platform.db.connect() as connection:
        connection.execute(
            POSITIONS.insert().values(
                consumer_group=group,
                topic=topic,
                partition=partition,
                committed_offset=committed,
                owner=None,
                lease_expires_at=None,
                updated_at=at,
            )
        )


def remaining(platform: Platform) -> set[int]:
    with platform.db.connect() as connection:
        return set(connection.execute(select(OUTBOX.c.id)).scalars())


def test_relayed_rows_past_their_topics_retention_go_and_the_rest_stay(platform: Platform, clock: FixedClock) -> None:
    now = clock.now()
    past_submitted = now - timedelta(days=SUBMITTED.retention_days, hours=1)
    within_submitted = now - timedelta(days=SUBMITTED.retention_days) + timedelta(hours=1)
    # Kafka transport: relayed rows carry no log offset
    old = add_row(platform, SUBMITTED.name, past_submitted)
    young = add_row(platform, SUBMITTED.name, within_submitted)
    unrelayed = add_row(platform, SUBMITTED.name, now - timedelta(days=90), relayed=False)
    # the dead-letter topic keeps its rows for 30 days: one as old as ``old`` stays
    dead_letter = add_row(platform, DLQ.name, past_submitted)
    dead_letter_old = add_row(platform, DLQ.name, now - timedelta(days=DLQ.retention_days, hours=1))

    assert retention.prune_log(platform.db, now) == 2
    assert remaining(platform) == {young, unrelayed, dead_letter}
    assert old not in remaining(platform) and dead_letter_old not in remaining(platform)
    assert retention.prune_log(platform.db, now) == 0


def test_the_last_row_of_each_partition_is_kept_so_its_offsets_never_start_again(
    platform: Platform, clock: FixedClock
) -> None:
    now = clock.now()
    old = now - timedelta(days=SUBMITTED.retention_days + 3)
    first = [add_row(platform, SUBMITTED.name, old, partition=0, log_offset=offset) for offset in range(3)]
    other = [add_row(platform, SUBMITTED.name, old, partition=1, log_offset=offset) for offset in range(2)]

    assert retention.prune_log(platform.db, now) == 3
    assert remaining(platform) == {first[2], other[1]}

    # the relay, starting afresh, numbers partition 0 on from its last offset, not from 0 again
    fresh = add_row(platform, SUBMITTED.name, now, partition=0, relayed=False)
    with platform.db.connect() as connection:
        rows = connection.execute(select(OUTBOX).where(OUTBOX.c.id == fresh)).all()
        LogSequencer().publish(connection, rows, now)
        assert connection.execute(select(OUTBOX.c.log_offset).where(OUTBOX.c.id == fresh)).scalar_one() == 3


def test_an_active_group_keeps_what_it_has_not_read_and_a_retired_one_does_not(
    platform: Platform, clock: FixedClock
) -> None:
    now = clock.now()
    old = now - timedelta(days=SUBMITTED.retention_days + 3)
    cutoff = now - timedelta(days=SUBMITTED.retention_days)
    rows = [add_row(platform, SUBMITTED.name, old, partition=0, log_offset=offset) for offset in range(5)]
    # partition 0: billing is active and has read offsets 0 and 1; notifications has read everything
    add_position(platform, GROUP, SUBMITTED.name, 0, committed=1, at=now - timedelta(minutes=5))
    add_position(platform, "notifications-claims-consumer", SUBMITTED.name, 0, committed=4, at=old)
    retired = [add_row(platform, SUBMITTED.name, old, partition=1, log_offset=offset) for offset in range(3)]
    # partition 1: billing stopped at offset 0 and has not moved for longer than the retention
    add_position(platform, GROUP, SUBMITTED.name, 1, committed=0, at=cutoff - timedelta(hours=1))

    with structlog.testing.capture_logs() as logs:
        assert retention.prune_log(platform.db, now) == 4
    assert remaining(platform) == {rows[2], rows[3], rows[4], retired[2]}
    warnings = [entry for entry in logs if entry.get("alert") == "bus.group_past_retention"]
    assert [(w["consumer_group"], w["topic"], w["partition"], w["committed_offset"]) for w in warnings] == [
        (GROUP, SUBMITTED.name, 1, 0)
    ]

    # once billing commits offset 3, rows 2 and 3 go; the partition's last row stays
    with platform.db.connect() as connection:
        connection.execute(
            POSITIONS.update()
            .where(POSITIONS.c.consumer_group == GROUP, POSITIONS.c.partition == 0)
            .values(committed_offset=3, updated_at=now)
        )
    assert retention.prune_log(platform.db, now) == 2
    assert remaining(platform) == {rows[4], retired[2]}


def test_large_backlogs_are_deleted_in_batches(
    platform: Platform, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)
    now = clock.now()
    old = now - timedelta(days=SUBMITTED.retention_days + 1)
    kept = [add_row(platform, SUBMITTED.name, now) for _ in range(2)]
    for _ in range(7):
        add_row(platform, SUBMITTED.name, old)
    assert retention.prune_log(platform.db, now) == 7
    assert remaining(platform) == set(kept)


def add_processed(platform: Platform, group: str, at: datetime) -> uuid.UUID:
    event_id = uuid.uuid4()
    with platform.db.connect() as connection:
        connection.execute(
            PROCESSED.insert().values(
                consumer_group=group,
                event_id=event_id,
                topic=SUBMITTED.name,
                correlation_id=uuid.uuid4(),
                attempts=1,
                processed_at=at,
            )
        )
    return event_id


def test_processed_ids_are_kept_as_long_as_a_copy_of_their_event_could_arrive(
    platform: Platform, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    now = clock.now()
    longest = max(spec.retention_days for spec in catalog.TOPICS.values())
    assert retention.processed_cutoff(now) == now - timedelta(days=longest + 1)
    forgotten = [
        add_processed(platform, group, now - timedelta(days=longest + 1, minutes=1))
        for group in (GROUP, GROUP, "notifications-claims-consumer", GROUP, "claims-claims-consumer")
    ]
    kept = [
        add_processed(platform, GROUP, now - timedelta(days=longest, hours=23)),
        add_processed(platform, "claims-claims-consumer", now),
    ]
    assert retention.forget_processed(platform.db, now) == len(forgotten)
    with platform.db.connect() as connection:
        assert set(connection.execute(select(PROCESSED.c.event_id)).scalars()) == set(kept)


def test_the_scheduler_runs_retention_once_over_the_whole_database(platform: Platform, clock: FixedClock) -> None:
    now = clock.now()
    old = add_row(platform, SUBMITTED.name, now - timedelta(days=SUBMITTED.retention_days + 1))
    young = add_row(platform, SUBMITTED.name, now)
    stale = add_processed(platform, GROUP, now - timedelta(days=400))

    scheduler = JobScheduler(platform.db, "test")
    found = discover_jobs(scheduler)
    assert found[0] == "olly.platform.bus.retention"
    assert scheduler.jobs[retention.RETENTION_JOB].every_seconds == 3600
    assert scheduler.run_job(scheduler.jobs[retention.RETENTION_JOB])
    assert remaining(platform) == {young}
    assert old not in remaining(platform)
    with platform.db.connect() as connection:
        assert stale not in set(connection.execute(select(PROCESSED.c.event_id)).scalars())
    assert retention.run(platform.db) == retention.RetentionResult(log_rows=0, processed_ids=0)
