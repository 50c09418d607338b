"""Crash test: worker processes are SIGKILLed at random moments while 10,000 events flow through a
counting handler. Afterwards no event is lost, none is applied twice, and each key's events were
applied in publication order. Embedded on SQLite and PostgreSQL, and Kafka.

CI runs one seed per transport; ``OLLY_CRASH_SEEDS=1,2,3,4,5`` runs more (``make bench`` does).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from olly.config import Settings
from olly.platform.db import Database
from olly.platform.runtime import build_platform
from tests.conftest import TEST_MASTER_KEY, make_database_url
from tests.integration.bus.helpers import claim_submitted

EVENTS = int(os.environ.get("OLLY_CRASH_EVENTS", "10000"))
SEEDS = [int(s) for s in os.environ.get("OLLY_CRASH_SEEDS", "1").split(",")]
KILLS = int(os.environ.get("OLLY_CRASH_KILLS", "4"))
KEYS = 50
WORKERS = 2
#: Seconds between kills. Kafka moves a dead member's partitions only after its session times out
#: (2 s here) and a rebalance, so killing faster than that would only measure rebalancing.
KILL_INTERVAL = {"embedded": (0.3, 1.2), "kafka": (2.0, 3.5)}
ROOT = Path(__file__).resolve().parents[3]
CASES = [("embedded", "sqlite"), ("embedded", "postgresql"), ("kafka", "postgresql")]


@pytest.fixture
def crash_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    transport, engine = request.param
    urls = make_database_url(engine, request, tmp_path)
    url = next(urls)
    env = {
        **os.environ,
        "OLLY_DATABASE_URL": url,
        "OLLY_DATA_DIR": str(tmp_path / "var"),
        "OLLY_MASTER_KEY": TEST_MASTER_KEY,
        "OLLY_ENV": "test",
        "OLLY_BUS": transport,
        "OLLY_BUS_LEASE_TTL_MS": "1000",
        "OLLY_BUS_HEARTBEAT_MS": "200",
        "OLLY_BUS_POLL_MS": "20",
        "OLLY_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "OLLY_REDIS_URL": "",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("OLLY_REDIS_URL")
    if transport == "kafka":
        env["OLLY_KAFKA_BOOTSTRAP"] = request.getfixturevalue("kafka_bootstrap")
    try:
        yield env
    finally:
        for _ in urls:
            pass


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.bus.crash_worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def _applied(db: Database) -> list[tuple[str, str, int]]:
    with db.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text("SELECT event_id, k, seq FROM crash_applied ORDER BY id"))]


@pytest.mark.slow
@pytest.mark.parametrize("crash_env", CASES, indirect=True, ids=["embedded-sqlite", "embedded-postgresql", "kafka"])
@pytest.mark.parametrize("seed", SEEDS)
def test_sigkilled_workers_lose_nothing_and_apply_nothing_twice(
    crash_env: dict[str, str], seed: int, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=crash_env["OLLY_DATABASE_URL"],
        data_dir=Path(crash_env["OLLY_DATA_DIR"]),
        master_key=TEST_MASTER_KEY,  # type: ignore[arg-type]
    )
    platform = build_platform(settings)
    db = platform.db
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if db.is_sqlite else "BIGSERIAL PRIMARY KEY"
    with db.connect() as connection:
        connection.execute(
            text(f"CREATE TABLE crash_applied (id {serial}, event_id VARCHAR(36), k VARCHAR(20), seq INTEGER)")
        )

    rng = random.Random(seed)
    log = tmp_path / "workers.log"
    workers = [_spawn(crash_env, log) for _ in range(WORKERS)]
    published: dict[str, list[str]] = defaultdict(list)
    kills = 0
    interval = KILL_INTERVAL[crash_env["OLLY_BUS"]]
    next_kill = time.monotonic() + rng.uniform(*interval)
    sequence = [0] * KEYS
    tenant = settings.default_tenant_id
    deadline = time.monotonic() + 180
    try:
        sent = 0
        while time.monotonic() < deadline:
            if sent < EVENTS:
                with db.unit_of_work(tenant) as uow:
                    for _ in range(min(250, EVENTS - sent)):
                        k = rng.randrange(KEYS)
                        sequence[k] += 1
                        event = claim_submitted(claim_id=uuid.UUID(int=(k << 32) | sequence[k]))
                        published[f"key-{k}"].append(str(uow.publish(event, key=f"key-{k}").event_id))
                        sent += 1
            if kills < KILLS and time.monotonic() >= next_kill:
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                kills += 1
                workers[victim] = _spawn(crash_env, log)
                next_kill = time.monotonic() + rng.uniform(*interval)
            if sent >= EVENTS:
                done = len({row[0] for row in _applied(db)})
                if done >= EVENTS and kills >= KILLS:
                    break
                time.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
    applied = _applied(db)
    platform.close()

    assert kills == KILLS
    ids = [row[0] for row in applied]
    expected = {event for events in published.values() for event in events}
    assert len(expected) == EVENTS
    assert set(ids) == expected, f"lost {len(expected - set(ids))} event(s)"
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} event(s) applied twice"
    per_key: dict[str, list[str]] = defaultdict(list)
    for event_id, key, _seq in applied:
        per_key[key].append(event_id)
    assert per_key == published, "a key's events were applied out of order"
