"""Publishing from read-only fast paths without a commit per request.

An eligibility check is a read; writing its ``eligibility.coverage.verified`` event in the request's
own transaction would turn every check into a write and a commit. ``BufferedPublisher`` queues such
events and a background thread writes them to the outbox in batches, one transaction per batch
(group commit, ``olly.platform.batching``); under ``olly serve`` that thread is in the writer process
(``olly.platform.writer_process``). They are informational: a crash can lose the last 50 ms of them,
which the events documentation states; a database failure drops the batch (logged) rather than stall
the fast path. Events that other domains act on never take this path.
"""

from __future__ import annotations

import uuid

from olly.kernel.events import EventPayload
from olly.platform.batching import BatchWriter, Sink
from olly.platform.db import Database
from olly.platform.logging import get_logger

log = get_logger("olly.bus.buffered")

Pending = tuple[uuid.UUID, EventPayload, str]


class BufferedPublisher:
    """Queues events for a background writer: a thread of this process, or, once ``hand_over_to`` is
    given the writer process's hand-off (``olly serve``), a process of its own."""

    def __init__(
        self, db: Database, *, batch_size: int = 500, flush_interval: float = 0.05, max_pending: int = 50_000
    ) -> None:
        self.db = db
        self._writer: BatchWriter[Pending] = BatchWriter(
            self.write_batch,
            name="olly-buffered-publisher",
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_pending=max_pending,
        )
        self._sink: Sink[Pending] = self._writer

    def publish(self, tenant_id: uuid.UUID, payload: EventPayload, key: str | uuid.UUID) -> None:
        self._sink.submit((tenant_id, payload, str(key)))

    def hand_over_to(self, sink: Sink[Pending] | None) -> None:
        """Send published events to ``sink`` from now on, or with ``None`` back to this process's
        writer. What this process's writer holds is written first."""
        if sink is not None:
            self._writer.flush()
        self._sink = sink or self._writer

    def flush(self, timeout: float = 30.0) -> None:
        self._writer.flush(timeout)
        if self._sink is not self._writer:
            self._sink.flush(timeout)

    def close(self) -> None:
        self._writer.close()

    def write_batch(self, batch: list[Pending]) -> None:
        """Write ``batch`` to the outbox, one transaction per tenant; a refused transaction is logged
        and its events dropped."""
        by_tenant: dict[uuid.UUID, list[tuple[EventPayload, str]]] = {}
        for tenant_id, payload, key in batch:
            by_tenant.setdefault(tenant_id, []).append((payload, key))
        for tenant_id, events in by_tenant.items():
            try:
                with self.db.unit_of_work(tenant_id) as uow:
                    for payload, key in events:
                        uow.publish(payload, key=key)
            except Exception:  # informational events: log and carry on rather than stall the fast path
                log.exception("buffered events not written", events=len(events))
