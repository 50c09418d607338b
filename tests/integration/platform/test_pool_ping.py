"""PostgreSQL's pool pings a connection before use only when it has been idle a while: a dropped
connection is still replaced without the caller seeing it, and a busy pool saves a round trip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from olly.platform import db as dbmod
from olly.platform.db import Database
from tests.conftest import make_database_url, make_settings
from tests.services import POSTGRES_URL


@pytest.fixture
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    urls = make_database_url("postgresql", request, tmp_path)
    url = next(urls)
    database = Database(make_settings(url, tmp_path))
    try:
        yield database
    finally:
        database.dispose()
        next(urls, None)


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_used_moments_ago_is_not_pinged(pg: Database) -> None:
    _backend_pid(pg)  # the pool now holds a connection returned just now
    pings: list[object] = []
    original = pg.engine.dialect.do_ping
    pg.engine.dialect.do_ping = lambda connection: pings.append(connection) or original(connection)  # type: ignore[method-assign]
    for _ in range(5):
        with pg.engine.connect() as connection:
            assert connection.execute(text("SELECT 41 + 1")).scalar_one() == 42
    assert pings == []


def test_an_idle_connection_the_server_dropped_is_replaced(pg: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _backend_pid(pg)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
    # the connection has now been idle "long enough": it is pinged, fails, and is replaced
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_SECONDS", 0.0)
    second = _backend_pid(pg)
    assert second != first
