"""Publishing from read-only fast paths without a commit per request.

An eligibility check is a read; writing its ``eligibility.coverage.verified`` event in the request's
own transaction would turn every check into a write and a commit. ``BufferedPublisher`` queues such
events and a background thread writes them to the outbox in batches, one transaction per batch
(group commit). They are informational: a crash can lose the last ``flush_interval`` of them, which
the events documentation states. Events that other domains act on never take this path.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid

from olly.kernel.events import EventPayload
from olly.platform.db import Database
from olly.platform.logging import get_logger

log = get_logger("olly.bus.buffered")


class BufferedPublisher:
    def __init__(self, db: Database, *, batch_size: int = 500, flush_interval: float = 0.05) -> None:
        self.db = db
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._queue: queue.Queue[tuple[uuid.UUID, EventPayload, str] | threading.Event] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def publish(self, tenant_id: uuid.UUID, payload: EventPayload, key: str | uuid.UUID) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="olly-buffered-publisher", daemon=True)
                    self._thread.start()
        self._queue.put((tenant_id, payload, str(key)))

    def flush(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            raise TimeoutError("buffered events were not written in time")

    def close(self) -> None:
        if self._thread is not None:
            self.flush()
            self._closed = True
            self._queue.put(threading.Event())
            self._thread.join(timeout=10)
            self._thread = None
            self._closed = False

    def _run(self) -> None:
        while not self._closed:
            batch: list[tuple[uuid.UUID, EventPayload, str]] = []
            waiters: list[threading.Event] = []
            item = self._queue.get()
            deadline = time.monotonic() + self.flush_interval
            while True:
                if isinstance(item, threading.Event):
                    waiters.append(item)
                    break
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            self._write(batch)
            for waiter in waiters:
                waiter.set()

    def _write(self, batch: list[tuple[uuid.UUID, EventPayload, str]]) -> None:
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
