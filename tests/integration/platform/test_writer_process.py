"""The writer process: what the server hands over is written once, in order, by a process of its own;
a killed writer is replaced without losing what waits in the socket; a writer that keeps dying is
given up and the server writes; closing writes everything; a slow writer makes submitters wait."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import structlog
from sqlalchemy import select

from olly.config import Settings
from olly.eligibility.events import CoverageVerified
from olly.platform.audit import AuditEvent, AuditRecord, AuditTrail, verify
from olly.platform.bus.buffered import BufferedPublisher
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from olly.platform.writer_process import WriterProcess
from tests.conftest import START

AUDIT = table_of(AuditEvent)
OUTBOX = table_of(OutboxRecord)
MEMBER = uuid.UUID("0190a8f2-7c1e-7a3b-9f00-0000000000aa")


def record(i: int, tenant_id: uuid.UUID) -> AuditRecord:
    return AuditRecord(
        subject="account:0190a8f2-7c1e-7a3b-9f00-000000000001",
        role="claims_examiner",
        action="eligibility.check",
        resource_type="member",
        resource_id=str(MEMBER),
        purpose="treatment_payment_operations",
        request_id=f"req-{i:05d}",
        tenant_id=tenant_id,
        detail={"status": "COVERED"},
    )


def event(i: int) -> CoverageVerified:
    return CoverageVerified(
        event_type="COVERAGE_VERIFIED",
        member_id=MEMBER,
        group_number=f"G-{i:05d}",
        effective_date=date(2026, 1, 1),
        deductible_remaining="1500.00",
        verified_at=datetime(2026, 2, 3, 9, 0, 0, i, tzinfo=UTC),
    )


def audited(platform: Platform) -> list[tuple[str, datetime]]:
    """(request id, occurred at) of every audit record, in chain order (one chain)."""
    with platform.db.connect() as connection:
        rows = connection.execute(select(AUDIT.c.request_id, AUDIT.c.occurred_at).order_by(AUDIT.c.chain, AUDIT.c.seq))
        return [(str(r.request_id), r.occurred_at) for r in rows]


def published(platform: Platform) -> list[str]:
    """The group number of every verified event in the outbox, in the order written."""
    with platform.db.connect() as connection:
        rows = connection.execute(
            select(OUTBOX.c.payload).where(OUTBOX.c.topic == CoverageVerified.TOPIC).order_by(OUTBOX.c.id)
        )
        return [CoverageVerified.model_validate_json(r.payload).group_number or "" for r in rows]


def request_ids(numbers: range) -> list[str]:
    return [f"req-{i:05d}" for i in numbers]


@pytest.fixture
def one_chain(settings: Settings) -> Settings:
    """One chain, so the chain's order is the order of writing."""
    return settings.model_copy(update={"audit_chains": 1})


@pytest.fixture
def writers(platform: Platform, one_chain: Settings) -> Iterator[Callable[..., WriterProcess]]:
    """Start writer processes (closed at the end) for a one-chain trail and a publisher on ``platform``."""
    started: list[WriterProcess] = []
    trail = AuditTrail(platform.db, chains=1)
    publisher = BufferedPublisher(platform.db)

    def start(**options: object) -> WriterProcess:
        writer = WriterProcess(one_chain, trail, publisher, **options)  # type: ignore[arg-type]
        assert writer.start()
        started.append(writer)
        return writer

    yield start
    for writer in started:
        writer.close()
    trail.close()
    publisher.close()


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_records_and_events_are_written_once_in_order_by_the_writer_process(
    platform: Platform, tenant_id: uuid.UUID, writers: Callable[..., WriterProcess]
) -> None:
    writer = writers()
    for i in range(1500):
        writer.audit.submit(record(i, tenant_id))
        if i % 3 == 0:
            writer.events.publish(tenant_id, event(i), key=MEMBER)
    writer.audit.flush()
    rows = audited(platform)
    assert [request_id for request_id, _ in rows] == request_ids(range(1500))
    # Written by the writer, on its own (system) clock; this process's clock stands at START.
    assert writer.pid != os.getpid()
    assert all(occurred_at != START for _, occurred_at in rows)
    assert published(platform) == [f"G-{i:05d}" for i in range(0, 1500, 3)]
    report = verify(platform.db)
    assert report.ok and report.records == 1500
    assert writer.restarts == 0 and not writer.in_process


def test_a_killed_writer_is_replaced_and_nothing_handed_over_since_is_lost(
    platform: Platform, tenant_id: uuid.UUID, writers: Callable[..., WriterProcess]
) -> None:
    writer = writers()
    for i in range(100):
        writer.audit.submit(record(i, tenant_id))
    writer.audit.flush()
    first = writer.pid
    assert first is not None
    with structlog.testing.capture_logs() as logs:
        os.kill(first, signal.SIGKILL)
        for i in range(100, 300):  # handed over while no writer runs: they wait in the socket
            writer.audit.submit(record(i, tenant_id))
            writer.events.publish(tenant_id, event(i), key=MEMBER)
        wait_until(lambda: writer.restarts == 1)
    for i in range(300, 400):
        writer.audit.submit(record(i, tenant_id))
    writer.audit.flush()
    assert writer.pid not in (None, first)
    assert [request_id for request_id, _ in audited(platform)] == request_ids(range(400))
    assert published(platform) == [f"G-{i:05d}" for i in range(100, 300)]
    assert verify(platform.db).ok
    exits = [line for line in logs if line["event"] == "writer process exited: starting another"]
    assert exits == [
        {
            "event": "writer process exited: starting another",
            "exit_code": -signal.SIGKILL,
            "pid": first,
            "log_level": "error",
        }
    ]


def test_closing_writes_everything_handed_over_and_hands_back_to_this_process(
    platform: Platform, tenant_id: uuid.UUID, writers: Callable[..., WriterProcess]
) -> None:
    writer = writers()
    for i in range(700):
        writer.audit.submit(record(i, tenant_id))
        writer.events.publish(tenant_id, event(i), key=MEMBER)
    writer.close()  # no flush first
    assert writer.restarts == 0
    assert [request_id for request_id, _ in audited(platform)] == request_ids(range(700))
    assert published(platform) == [f"G-{i:05d}" for i in range(700)]
    writer.audit.submit(record(700, tenant_id))  # after closing: this process writes it
    writer.audit.flush()
    assert audited(platform)[-1] == ("req-00700", START)


def test_a_writer_that_keeps_dying_is_given_up_and_this_process_writes(
    platform: Platform, tenant_id: uuid.UUID, writers: Callable[..., WriterProcess]
) -> None:
    with structlog.testing.capture_logs() as logs:
        writer = writers(command=[sys.executable, "-c", "import sys; sys.exit(3)"])
        for i in range(300):
            writer.audit.submit(record(i, tenant_id))
            writer.events.publish(tenant_id, event(i), key=MEMBER)
        writer.audit.flush()  # waits until it is given up, then writes here
    assert writer.in_process
    rows = audited(platform)
    assert [request_id for request_id, _ in rows] == request_ids(range(300))
    assert {occurred_at for _, occurred_at in rows} == {START}  # this process's clock
    assert published(platform) == [f"G-{i:05d}" for i in range(300)]
    events = [line["event"] for line in logs if line["log_level"] == "error"]
    assert events == ["writer process exited: starting another"] * 5 + [
        "writer process keeps exiting: writing audit records and events in this process"
    ]
    for i in range(300, 310):  # from now on written here
        writer.audit.submit(record(i, tenant_id))
    writer.audit.flush()
    assert [request_id for request_id, _ in audited(platform)] == request_ids(range(310))


def test_a_stalled_writer_makes_submitters_wait_and_loses_nothing(
    platform: Platform, tenant_id: uuid.UUID, writers: Callable[..., WriterProcess]
) -> None:
    writer = writers(max_pending=1000)
    writer.audit.submit(record(0, tenant_id))
    writer.audit.flush()
    assert writer.pid is not None
    os.kill(writer.pid, signal.SIGSTOP)
    done = threading.Event()

    def submit_many() -> None:
        for i in range(1, 6001):  # more than the socket and the sender's 1,000 hold
            writer.audit.submit(record(i, tenant_id))
        done.set()

    submitter = threading.Thread(target=submit_many)
    try:
        submitter.start()
        assert not done.wait(2)  # waiting for room
        assert writer._sender.pending >= 1000
    finally:
        os.kill(writer.pid, signal.SIGCONT)
    assert done.wait(60)
    submitter.join()
    writer.audit.flush()
    assert [request_id for request_id, _ in audited(platform)] == request_ids(range(6001))


def test_the_writer_is_given_the_settings_but_no_secret(
    platform: Platform, one_chain: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLY_MASTER_KEY", "a-master-key-from-the-environment")
    seen = tmp_path / "seen"
    script = (
        "import os, sys; from pathlib import Path; "
        f"Path({str(seen)!r}).write_text(sys.stdin.read() + '|' + os.environ.get('OLLY_MASTER_KEY', 'unset')); "
        "sys.exit(0)"
    )
    writer = WriterProcess(
        one_chain, AuditTrail(platform.db), BufferedPublisher(platform.db), command=[sys.executable, "-c", script]
    )
    assert writer.start()
    try:
        wait_until(seen.exists)
        wait_until(lambda: seen.read_text().endswith(("|unset", "|a-master-key-from-the-environment")))
    finally:
        writer.close()
    given, environment_key = seen.read_text().rsplit("|", 1)
    assert environment_key == "unset"
    assert json.loads(given) == {
        "env": "test",
        "data_dir": str(one_chain.data_dir),
        "database_url": one_chain.database_url,
        "database_pool_size": 10,
        "audit_chains": 1,
        "log_level": "INFO",
        "log_format": "json",
    }
