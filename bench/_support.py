"""Shared helpers for benchmarks: throwaway databases on both engines."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from olly.config import DEFAULT_TENANT_ID, Settings
from olly.kernel.clock import Clock
from olly.platform import migrate
from olly.platform.runtime import Platform, build_platform

POSTGRES_URL = os.environ.get("OLLY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_KEY = "YmVuY2gtbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nISE="


def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def fresh_platform(engine: str, clock: Clock | None = None, **settings: object) -> Iterator[Platform]:
    """A migrated, empty platform on ``engine`` ("sqlite" or "postgresql"), removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        name = f"olly_bench_{uuid.uuid4().hex[:10]}"
        if engine == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        config = Settings(database_url=url, data_dir=Path(tmp), master_key=BENCH_KEY, **settings)  # type: ignore[arg-type]
        platform = build_platform(config, clock)
        try:
            migrate.upgrade(platform.db)
            with platform.db.connect() as connection:
                platform.crypto.ensure_tenant_keys(connection, DEFAULT_TENANT_ID)
            yield platform
        finally:
            platform.close()
            if engine != "sqlite":
                with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def engines() -> list[str]:
    return ["sqlite", "postgresql"] if postgres_available() else ["sqlite"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


#: A run on a loaded machine can outlast the default 10-minute token; the served benchmarks' servers accept an hour.
SERVED_TOKEN_TTL_SECONDS = 3600
REDIS_URL = os.environ.get("OLLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@contextmanager
def served_environment(engine: str) -> Iterator[dict[str, str]]:
    """The environment for ``olly`` processes on a throwaway database: SQLite in a temporary
    directory, or a new PostgreSQL database with Redis as the cache; removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        name = f"olly_bench_{uuid.uuid4().hex[:10]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OLLY_")}
        env.update(
            OLLY_DATA_DIR=str(Path(tmp) / "var"),
            OLLY_MASTER_KEY=BENCH_KEY,
            OLLY_LOG_LEVEL="WARNING",
            OLLY_ACCESS_TOKEN_TTL_SECONDS=str(SERVED_TOKEN_TTL_SECONDS),
        )
        if engine == "sqlite":
            env["OLLY_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'olly.db'}"
        else:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            env["OLLY_DATABASE_URL"] = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
            env["OLLY_REDIS_URL"] = REDIS_URL
        try:
            yield env
        finally:
            if engine != "sqlite":
                with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
