"""SQLite writers of one process take turns on a lock held from BEGIN IMMEDIATE to COMMIT/ROLLBACK:
every write lands, a failed or discarded transaction gives its turn back, and readers never wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from olly.platform.db import build_engine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    built = build_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with built.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield built
    built.dispose()


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_concurrent_writers_all_land(engine: Engine) -> None:
    def write() -> None:
        for _ in range(100):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t VALUES (1)"))

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count(engine) == 800


def test_a_failed_transaction_gives_its_turn_back(engine: Engine) -> None:
    with pytest.raises(Exception, match="no such table"), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.execute(text("INSERT INTO missing VALUES (1)"))
    began = time.monotonic()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
    assert time.monotonic() - began < 1
    assert count(engine) == 1  # the failed transaction's first row was rolled back


def test_an_invalidated_connection_gives_its_turn_back(engine: Engine) -> None:
    connection = engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO t VALUES (1)"))
    connection.invalidate()
    connection.close()
    began = time.monotonic()
    with engine.begin() as other:
        other.execute(text("INSERT INTO t VALUES (2)"))
    assert time.monotonic() - began < 1
    assert count(engine) == 1


def test_readers_do_not_wait_for_a_writer(engine: Engine) -> None:
    reader = engine.execution_options(olly_begin="DEFERRED")
    with engine.begin() as writer:
        writer.execute(text("INSERT INTO t VALUES (1)"))
        done: list[int] = []

        def read() -> None:
            with reader.begin() as connection:
                done.append(int(connection.execute(text("SELECT count(*) FROM t")).scalar_one()))

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=5)
        assert done == [0]  # read the last committed state while the writer still held its turn


def test_a_second_writer_waits_for_the_first_to_commit(engine: Engine) -> None:
    order: list[str] = []
    first_began = threading.Event()

    def second() -> None:
        first_began.wait()
        with engine.begin() as connection:
            order.append("second began")
            connection.execute(text("INSERT INTO t VALUES (2)"))

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        first_began.set()
        time.sleep(0.3)
        order.append("first commits")
    thread.join(timeout=10)
    assert order == ["first commits", "second began"]
    assert count(engine) == 2
