"""The batch writer behind the audit trail's and the buffered publisher's group commit."""

from __future__ import annotations

import threading
import time

import pytest

from olly.platform.batching import BatchWriter
from olly.platform.eventloop import WouldBlock, on_event_loop


class Recorder:
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = gate

    def __call__(self, batch: list[int]) -> None:
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append(list(batch))


def test_items_are_written_in_order_in_batches_no_larger_than_the_batch_size() -> None:
    recorder = Recorder()
    writer = BatchWriter(recorder, name="test-writer", batch_size=7, flush_interval=0.5, max_pending=100)
    try:
        for item in range(50):
            writer.submit(item)
        writer.flush()
        assert [i for batch in recorder.batches for i in batch] == list(range(50))
        assert max(len(b) for b in recorder.batches) == 7
        assert writer.pending == 0
    finally:
        writer.close()


def test_a_lone_item_is_written_within_the_flush_interval_without_a_flush() -> None:
    recorder = Recorder()
    writer = BatchWriter(recorder, name="test-writer", batch_size=100, flush_interval=0.02, max_pending=100)
    try:
        writer.submit(1)
        deadline = time.monotonic() + 5
        while not recorder.batches and time.monotonic() < deadline:
            time.sleep(0.005)
        assert recorder.batches == [[1]]
    finally:
        writer.close()


def test_close_writes_what_is_pending_and_a_later_submit_starts_again() -> None:
    recorder = Recorder()
    writer = BatchWriter(recorder, name="test-writer", batch_size=10, flush_interval=60, max_pending=100)
    writer.submit(1)
    writer.submit(2)
    writer.close()
    assert recorder.batches == [[1, 2]]
    writer.submit(3)
    writer.close()
    assert recorder.batches == [[1, 2], [3]]


def test_a_failing_write_loses_its_batch_but_not_the_writer() -> None:
    written: list[list[int]] = []

    def write(batch: list[int]) -> None:
        if batch == [1]:
            raise RuntimeError("database refused")
        written.append(batch)

    writer = BatchWriter(write, name="test-writer", batch_size=10, flush_interval=60, max_pending=100)
    try:
        writer.submit(1)
        writer.flush()
        writer.submit(2)
        writer.flush()
        assert written == [[2]]
    finally:
        writer.close()


def test_a_full_buffer_makes_the_submitter_wait_for_the_writer() -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    writer = BatchWriter(recorder, name="test-writer", batch_size=2, flush_interval=0.001, max_pending=4)
    try:
        writer.submit(0)
        deadline = time.monotonic() + 5
        while writer.pending and time.monotonic() < deadline:  # the writer holds [0], stuck at the gate
            time.sleep(0.005)
        for item in range(1, 5):
            writer.submit(item)
        assert writer.pending == 4
        fifth = threading.Thread(target=writer.submit, args=(5,))
        fifth.start()
        fifth.join(0.2)
        assert fifth.is_alive()  # waiting for room
        with pytest.raises(WouldBlock), on_event_loop():
            writer.submit(6)  # on the event loop the wait is refused instead
        gate.set()
        fifth.join(5)
        assert not fifth.is_alive()
        writer.flush()
        assert [i for batch in recorder.batches for i in batch] == [0, 1, 2, 3, 4, 5]
    finally:
        gate.set()
        writer.close()


def test_sizes_must_make_sense() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        BatchWriter(Recorder(), name="test-writer", batch_size=10, flush_interval=1, max_pending=5)
