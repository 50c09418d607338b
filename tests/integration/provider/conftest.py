"""Fixtures for provider integration tests.

``outbox`` installs a capturing outbox writer on the platform: events are recorded only when their
unit of work commits, as the real outbox would hold them. When the event backbone's outbox lands,
these tests should read the outbox table instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from olly.kernel.events import OutgoingEvent
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform


class CapturedOutbox:
    def __init__(self) -> None:
        self.events: list[OutgoingEvent] = []

    def write(self, uow: UnitOfWork, events: list[OutgoingEvent]) -> None:
        pending = list(events)
        uow.after_commit(lambda: self.events.extend(pending))

    def payloads(self, topic: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.events if e.topic == topic]

    def types(self, topic: str) -> list[str]:
        return [p["eventType"] for p in self.payloads(topic)]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def outbox(platform: Platform) -> CapturedOutbox:
    captured = CapturedOutbox()
    platform.db.outbox_writer = captured.write
    return captured


@pytest.fixture
def work(platform: Platform, tenant_id: uuid.UUID, outbox: CapturedOutbox):  # type: ignore[no-untyped-def]
    """``with work() as uow:`` — one committed unit of work for the default tenant."""

    @contextmanager
    def _work() -> Iterator[UnitOfWork]:
        with platform.db.unit_of_work(tenant_id) as uow:
            yield uow

    return _work
