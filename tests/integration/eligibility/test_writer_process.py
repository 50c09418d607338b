"""Eligibility checks with the writer process (as under ``olly serve``): every check's audit records
and verified event are written by it; when it is killed the server keeps answering, and nothing
handed over after the kill is lost; stopping the app writes what is buffered."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.app import create_app
from olly.eligibility.events import CoverageVerified
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from olly.platform.writer_process import WriterProcess
from tests.support.identity import (
    RecordingOutbox,
    World,
    app,
    audit_rows,
    control,
    https_client,
    outbox,
    settings,
    world,
)

__all__ = ["app", "control", "outbox", "settings", "world"]

SERVICE_DATE = "2026-02-03"
OUTBOX = table_of(OutboxRecord)


@pytest.fixture
def app_and_outbox(platform: Platform) -> tuple[FastAPI, RecordingOutbox]:
    """The app with its writer process; events go to the real outbox (the writer writes them there)."""
    return create_app(platform, writer_process=True), RecordingOutbox()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with https_client(app) as test_client:
        yield test_client


def check(client: TestClient, world: World, request_id: str) -> int:
    headers = {**world.persona("claims_examiner").headers, "X-Request-ID": request_id}
    params = {"memberId": str(world.parties["A"]), "serviceDate": SERVICE_DATE, "serviceType": "98"}
    return client.get("/api/v1/eligibility", params=params, headers=headers).status_code


def audited_checks(platform: Platform) -> Counter[str]:
    """How many records each request id has (a check writes two: the read's and the check's)."""
    return Counter(str(row["request_id"]) for row in audit_rows(platform) if row["action"].startswith("eligibility."))


def verified_events(platform: Platform, world: World) -> int:
    with platform.db.connect() as connection:
        rows = connection.execute(
            select(OUTBOX.c.key).where(
                OUTBOX.c.topic == CoverageVerified.TOPIC, OUTBOX.c.key == str(world.parties["A"])
            )
        )
        return len(rows.all())


def test_checks_are_answered_while_the_writer_is_replaced_and_every_one_is_written(
    client: TestClient, world: World, platform: Platform
) -> None:
    writer: WriterProcess = client.app.state.writer_process  # type: ignore[attr-defined]
    assert writer is not None and writer.pid != os.getpid()
    before = [f"check-before-{i:04d}" for i in range(20)]
    assert {check(client, world, request_id) for request_id in before} == {200}
    platform.audit.flush()  # written by the writer before it is killed
    assert writer.restarts == 0
    killed = writer.pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    after = [f"check-after-{i:04d}" for i in range(40)]
    assert {check(client, world, request_id) for request_id in after} == {200}  # no writer needed to answer
    deadline = time.monotonic() + 30
    while writer.restarts == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    platform.audit.flush()
    assert writer.pid not in (None, killed)
    assert audited_checks(platform) == Counter(dict.fromkeys(before + after, 2))
    assert verified_events(platform, world) == 60


def test_stopping_the_app_writes_what_was_handed_over(app: FastAPI, world: World, platform: Platform) -> None:
    with https_client(app) as client:
        writer: WriterProcess = client.app.state.writer_process  # type: ignore[attr-defined]
        assert writer is not None
        checks = [f"check-stop-{i:04d}" for i in range(30)]
        assert {check(client, world, request_id) for request_id in checks} == {200}
    # no flush: the app's shutdown closed the writer process, which committed everything first
    assert writer.in_process and writer.pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(writer.pid, 0)
    assert verified_events(platform, world) == 30
    assert audited_checks(platform) == Counter(dict.fromkeys(checks, 2))
