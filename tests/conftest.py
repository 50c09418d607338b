"""Shared fixtures.

``platform`` is parametrised over both engines: every database test runs on SQLite and on
PostgreSQL. Each test gets a fresh database: SQLite copies a migrated template file; PostgreSQL
creates a database from a migrated template database (unique names, so parallel runs never
collide), and drops it afterwards.
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql

from olly.config import DEFAULT_TENANT_ID, Settings
from olly.kernel.clock import FixedClock
from olly.platform import migrate
from olly.platform.db import Database
from olly.platform.runtime import Platform, build_platform
from tests.services import POSTGRES_URL, require_postgres

# Property tests judge results, not speed: on a busy machine (a test worker per core) an example can
# take longer than hypothesis's 200 ms default without anything being wrong.
settings.register_profile("olly", deadline=None)
settings.load_profile("olly")
# The CLI's tables are as wide as the terminal; test workers have none, so give them a wide one
# (a narrow table wraps or truncates the values the CLI tests look for).
os.environ.setdefault("COLUMNS", "200")

TEST_MASTER_KEY = base64.b64encode(b"olly-test-master-key-32-bytes!!!").decode()
START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
ENGINES = ["sqlite", "postgresql"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def _admin_url(database: str) -> str:
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-template")
    path = directory / "olly.db"
    db = Database(Settings(database_url=f"sqlite:///{path}", data_dir=directory))
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    require_postgres()
    name = f"olly_tpl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = Database(Settings(database_url=_admin_url(name)))
    migrate.upgrade(db)
    db.dispose()
    yield name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def make_database_url(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of ``engine`` for one test."""
    if engine == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "olly.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"olly_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_name))
        )
    try:
        yield _admin_url(name)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from make_database_url(request.param, request, tmp_path)


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        data_dir=tmp_path / "var",
        master_key=TEST_MASTER_KEY,  # type: ignore[arg-type]
        audit_chains=4,
    )


def start_platform(settings: Settings, clock: FixedClock) -> Platform:
    built = build_platform(settings, clock)
    with built.db.connect() as connection:
        built.crypto.ensure_tenant_keys(connection, DEFAULT_TENANT_ID)
    return built


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def platform(settings: Settings, clock: FixedClock) -> Iterator[Platform]:
    """A running platform on a fresh database, once on SQLite and once on PostgreSQL."""
    built = start_platform(settings, clock)
    yield built
    built.close()


@pytest.fixture
def sqlite_platform(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[Platform]:
    """For the few tests about SQLite itself (its files on disk)."""
    for url in make_database_url("sqlite", request, tmp_path):
        built = start_platform(make_settings(url, tmp_path), clock)
        yield built
        built.close()


@pytest.fixture
def tenant_id() -> uuid.UUID:
    return DEFAULT_TENANT_ID


@pytest.fixture
def kafka_bootstrap(tmp_path: Path) -> Iterator[str]:
    """A fresh Kafka-protocol broker (Tansu, memory storage) on loopback for one test."""
    from tests.services import TansuBroker, start_kafka

    broker = start_kafka(str(tmp_path / "tansu.log"))
    if isinstance(broker, TansuBroker):
        try:
            yield broker.bootstrap
        finally:
            broker.stop()
    else:
        yield broker
