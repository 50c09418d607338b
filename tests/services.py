"""Which external services the tests may use, and what to do when one is missing.

Without a service a test skips with a message that says how to enable it; with
``OLLY_REQUIRE_SERVICES=1`` (as CI runs) it fails instead, so a missing service never hides.
"""

from __future__ import annotations

import functools
import os

import pytest

REQUIRE_SERVICES = os.environ.get("OLLY_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("OLLY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OLLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unavailable(service: str, how: str) -> None:
    message = f"{service} is not available; {how}"
    if REQUIRE_SERVICES:
        pytest.fail(f"OLLY_REQUIRE_SERVICES=1 but {message}", pytrace=False)
    pytest.skip(message)


@functools.cache
def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_postgres() -> str:
    if not postgres_available():
        unavailable(
            "PostgreSQL",
            f"start one and set OLLY_TEST_POSTGRES_URL (default {POSTGRES_URL}) to run these tests",
        )
    return POSTGRES_URL


@functools.cache
def redis_available() -> bool:
    try:
        import redis
    except ImportError:
        return False
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except redis.RedisError:
        return False


def require_redis() -> str:
    if not redis_available():
        unavailable("Redis", f"start one and set OLLY_TEST_REDIS_URL (default {REDIS_URL}) to run these tests")
    return REDIS_URL
