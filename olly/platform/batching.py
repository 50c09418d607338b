"""A background writer for hot paths: items are handed over in memory and written in batches.

Used by the audit trail (allowed reads' records) and the buffered event publisher (the eligibility
``verified`` events), where one commit per request would cost more than the request itself. Under
``olly serve`` those two hand their items to the writer process instead (``writer_process.py``), which
writes them with writers of this kind; both are a ``Sink``.

Handing an item over is an append to a deque: no lock and no wake-up of the writer thread. (With a
``queue.Queue`` every ``put`` notified the waiting writer, which then woke to take one item: a
thread switch per item, measured at about a tenth of a cached eligibility answer's CPU.) The writer
sleeps until the first item of a batch arrives, collects for ``flush_interval``, and writes what it
holds in batches of at most ``batch_size``; a full batch or a ``flush`` wakes it early.

The buffer is bounded: beyond ``max_pending`` items a submitter waits for the writer to catch up
(back-pressure) rather than let memory grow while the database is slow or down. What a crash can
lose is what is held in memory: items submitted in the last ``flush_interval`` (plus, while the
database is refusing writes, whatever is waiting for it, at most ``max_pending`` items).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from olly.platform.eventloop import refuse_on_event_loop
from olly.platform.logging import get_logger

log = get_logger("olly.batching")

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Sink(Protocol[T_contra]):
    """Where a hot path hands items to be written: a ``BatchWriter`` in this process, or the hand-off
    to the writer process (``olly.platform.writer_process``)."""

    def submit(self, item: T_contra) -> None: ...

    def flush(self, timeout: float = 30.0) -> None: ...


#: How long an idle writer sleeps before looking again on its own (a wake-up normally comes first).
IDLE_WAIT_SECONDS = 1.0


class BatchWriter(Generic[T]):
    """Writes submitted items with ``write(batch)`` on one background thread, in submission order.

    ``write`` decides what a failure means (retry until written, or log and drop); an exception it
    lets escape is logged and loses that batch, never the thread.
    """

    def __init__(
        self,
        write: Callable[[list[T]], None],
        *,
        name: str,
        batch_size: int,
        flush_interval: float,
        max_pending: int,
    ) -> None:
        if batch_size < 1 or max_pending < batch_size:
            raise ValueError("need 1 <= batch_size <= max_pending")
        self._write = write
        self.name = name
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self._pending: deque[T | threading.Event] = deque()
        self._wake = threading.Event()
        self._idle = False
        self._flushes = 0
        self._space = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stopping = False

    @property
    def pending(self) -> int:
        """Items (and flush requests) not yet taken by the writer."""
        return len(self._pending)

    def submit(self, item: T) -> None:
        """Hand ``item`` to the writer; it is written within about ``flush_interval``."""
        if self._thread is None:
            self._start()
        pending = self._pending
        if len(pending) >= self.max_pending:
            self._wait_for_space()
        pending.append(item)
        # Wake the writer only when it sleeps without a deadline, or when a batch is full; the
        # flag reads cost nothing, a needless ``set`` takes a lock.
        if (self._idle or len(pending) >= self.batch_size) and not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout: float = 30.0) -> None:
        """Block until every item submitted before the call is written."""
        if self._thread is None:
            return
        done = threading.Event()
        with self._start_lock:
            self._flushes += 1
        self._pending.append(done)
        self._wake.set()
        if not done.wait(timeout):
            raise TimeoutError(f"{self.name}: items were not written in time")

    def close(self) -> None:
        """Write what is pending and stop the thread (a later ``submit`` starts a new one)."""
        thread = self._thread
        if thread is None:
            return
        self.flush()
        self._stopping = True
        self._wake.set()
        thread.join(timeout=10)
        self._thread = None
        self._stopping = False

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _wait_for_space(self) -> None:
        refuse_on_event_loop(self.name)
        self._wake.set()
        with self._space:
            while len(self._pending) >= self.max_pending and self._thread is not None:
                self._space.wait(0.1)

    def _run(self) -> None:
        pending = self._pending
        while True:
            if not pending:
                if self._stopping:
                    return
                self._idle = True
                if not pending:  # looked at again after raising the flag: a submitter may have missed it
                    self._wake.wait(IDLE_WAIT_SECONDS)
                self._idle = False
                self._wake.clear()
                continue
            # Group commit: let the batch grow for one interval, unless it is full or awaited.
            if len(pending) < self.batch_size and not self._flushes and not self._stopping:
                self._wake.wait(self.flush_interval)
                self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        pending = self._pending
        batch: list[T] = []
        while pending:
            item = pending.popleft()
            if isinstance(item, threading.Event):
                if batch:
                    self._write_batch(batch)
                    batch = []
                with self._start_lock:
                    self._flushes -= 1
                item.set()
                continue
            batch.append(item)
            if len(batch) >= self.batch_size:
                self._write_batch(batch)
                batch = []
        if batch:
            self._write_batch(batch)

    def _write_batch(self, batch: list[T]) -> None:
        try:
            self._write(batch)
        except Exception:
            log.exception("batch not written", writer=self.name, items=len(batch))
        finally:
            if len(self._pending) < self.max_pending:
                with self._space:
                    self._space.notify_all()
