"""A file-backed SQLite engine copies its write-ahead log into the database file on a thread of its
own, so no writer holding the write turn pays for a checkpoint; the thread ends when idle or disposed."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from olly.platform import db
from olly.platform.db import build_engine


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "wal.db"


@pytest.fixture
def engine(path: Path) -> Iterator[Engine]:
    built = build_engine(f"sqlite:///{path}")
    with built.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield built
    built.dispose()


def checkpointers(path: Path) -> int:
    """The checkpoint threads running for this database file."""
    return sum(1 for thread in threading.enumerate() if thread.name == f"olly-sqlite-checkpoint {path}")


def rows_in_main_file(path: Path, copy: Path) -> int | None:
    """Rows visible in the database file alone, without its write-ahead log."""
    shutil.copyfile(path, copy)
    try:
        with sqlite3.connect(copy) as connection:
            return int(connection.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.Error:
        return None  # not there yet (or a copy taken mid-write)
    finally:
        connection.close()


def test_commits_reach_the_database_file_without_a_writer_checkpointing(engine: Engine, path: Path) -> None:
    for n in range(20):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
    # 20 one-row commits are far below any writer's autocheckpoint: only the checkpointer copies them.
    deadline = time.monotonic() + 10
    seen = None
    while time.monotonic() < deadline:
        seen = rows_in_main_file(path, path.with_name("copy.db"))
        if seen == 20:
            break
        time.sleep(0.05)
    assert seen == 20


def test_writers_keep_a_larger_autocheckpoint_as_a_backstop(engine: Engine) -> None:
    with engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert pages == db.SQLITE_WRITER_AUTOCHECKPOINT_PAGES


def test_the_thread_ends_when_idle_and_starts_again_on_the_next_commit(
    engine: Engine, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_CHECKPOINTER_IDLE_SECONDS", 0.2)
    monkeypatch.setattr(db, "SQLITE_CHECKPOINT_EVERY_SECONDS", 0.01)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    assert checkpointers(path) == 1
    deadline = time.monotonic() + 5
    while checkpointers(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpointers(path) == 0
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
    assert checkpointers(path) == 1


def test_dispose_ends_the_thread(path: Path) -> None:
    engine = build_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    assert checkpointers(path) == 1
    engine.dispose()
    assert checkpointers(path) == 0
