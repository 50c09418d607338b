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
