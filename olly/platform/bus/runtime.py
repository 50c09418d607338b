"""One process's share of the event backbone: the relay and its consumer groups, in threads.

``olly worker`` runs one of these; ``olly serve`` runs one inside the web process in the embedded
default (FastAPI lifespan), so a single command runs everything. Any number of processes may run
at once: the relay is a singleton under a lease and consumer groups share partitions.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from olly.config import Settings
from olly.kernel.clock import Clock, SystemClock
from olly.kernel.ids import uuid7
from olly.platform.bus import dlq
from olly.platform.bus.dispatch import METRICS, BusMetrics, DatabaseIdempotency, Dispatcher, Idempotency, RetryPolicy
from olly.platform.bus.embedded import EmbeddedGroupConsumer, read_groups, renew
from olly.platform.bus.messages import HandlerRegistry, discover_handlers
from olly.platform.bus.outbox import Outbox
from olly.platform.bus.relay import LogSequencer, Publisher, Relay
from olly.platform.db import Database
from olly.platform.logging import get_logger

log = get_logger("olly.bus")


def member_name() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid7().hex[-8:]}"


def default_registry(*, monitor_dead_letters: bool = True) -> HandlerRegistry:
    """Every installed domain's handlers, plus the dead-letter monitor."""
    registry = HandlerRegistry()
    discover_handlers(registry)
    if monitor_dead_letters:
        dlq.register_monitor(registry)
    return registry


def build_idempotency(settings: Settings, clock: Clock) -> Idempotency:
    if settings.redis_url:
        from olly.platform.bus.idempotency import RedisIdempotency

        return RedisIdempotency(settings.redis_url, clock, settings.bus_idempotency_ttl_seconds)
    return DatabaseIdempotency(clock)


@dataclass
class BusRuntime:
    db: Database
    settings: Settings
    registry: HandlerRegistry
    outbox: Outbox
    clock: Clock = field(default_factory=SystemClock)
    member_id: str = field(default_factory=member_name)
    run_relay: bool = True
    groups: list[str] | None = None
    """Only these consumer groups (default: every registered group)."""
    metrics: BusMetrics = field(default_factory=lambda: METRICS)
    idempotency: Idempotency | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.idempotency = self.idempotency or build_idempotency(self.settings, self.clock)
        self.transport = self.settings.bus
        self.relay: Relay | None = None
        self.dispatcher = Dispatcher(
            self.db,
            self.clock,
            RetryPolicy(tuple(self.settings.bus_retry_delays_ms)),
            self.idempotency,
            batch_size=self.settings.bus_batch_size,
            metrics=self.metrics,
        )
        self.consumers: list[Any] = []
        self._kafka: Any = None
        selected = self.registry.groups()
        if self.groups is not None:
            selected = {g: subs for g, subs in selected.items() if g in self.groups}
        publisher: Publisher
        if self.transport == "kafka":
            from olly.platform.bus.kafka import KafkaTransport

            self._kafka = KafkaTransport(self.settings)
            publisher = self._kafka.publisher()
            for group, subscriptions in sorted(selected.items()):
                self.consumers.append(
                    self._kafka.consumer(self.db, self.dispatcher, group, subscriptions, member_id=self.member_id)
                )
        else:
            publisher = LogSequencer()
            for group, subscriptions in sorted(selected.items()):
                self.consumers.append(
                    EmbeddedGroupConsumer(
                        self.db,
                        self.clock,
                        self.dispatcher,
                        group,
                        subscriptions,
                        member_id=self.member_id,
                        lease_ttl_ms=self.settings.bus_lease_ttl_ms,
                        poll_ms=self.settings.bus_poll_ms,
                        idle_poll_max_ms=self.settings.bus_idle_poll_max_ms,
                    )
                )
        if self.run_relay:
            self.relay = Relay(
                self.db,
                self.clock,
                publisher,
                owner=self.member_id,
                batch_size=self.settings.bus_relay_batch_size,
                lease_ttl_ms=self.settings.bus_lease_ttl_ms,
                poll_ms=self.settings.bus_poll_ms,
                idle_poll_max_ms=self.settings.bus_idle_poll_max_ms,
                metrics=self.metrics,
            )
            self.outbox.on_commit(self.relay.wake)
            self.dispatcher.on_dead_letter = self.relay.wake

    # -- threads -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._kafka is not None:
            self._kafka.ensure_topics()
        if self.relay is not None:
            self._spawn("bus-relay", self.relay.run)
        embedded = [c for c in self.consumers if isinstance(c, EmbeddedGroupConsumer)]
        if embedded:
            renew(embedded)
            self._spawn("bus-heartbeat", self._heartbeat_loop)
        for consumer in self.consumers:
            self._spawn(f"bus-{consumer.group}", consumer.run)
        if self.relay is not None:
            # In one process the relay wakes the consumers of the topics it has just placed rows on
            # (a busy topic nobody here consumes, such as the eligibility checks, wakes no one).
            self.relay.on_published.extend(c.wake_for for c in embedded)
        log.info(
            "bus started",
            transport=self.transport,
            member=self.member_id,
            relay=self.relay is not None,
            groups=[c.group for c in self.consumers],
        )

    def _spawn(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _heartbeat_loop(self, stop: threading.Event) -> None:
        """Renew every group's membership and leases together (one transaction, two statements)."""
        interval = self.settings.bus_heartbeat_ms / 1000
        embedded = [c for c in self.consumers if isinstance(c, EmbeddedGroupConsumer)]
        while not stop.wait(interval):
            try:
                renew(embedded)
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried; the lease TTL allows for it
                log.warning("heartbeat failed", groups=len(embedded))

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        for consumer in self.consumers:
            try:
                consumer.leave()
            except Exception:  # noqa: BLE001 - shutting down: leases expire on their own
                log.warning("leaving the group failed", group=consumer.group)
        if self.relay is not None:
            try:
                self.relay.release()
            except Exception:  # noqa: BLE001 - shutting down: the lease expires on its own
                log.warning("releasing the relay lease failed")
        if self._kafka is not None:
            self._kafka.close()
        log.info("bus stopped", member=self.member_id)

    def wait(self) -> None:
        """Block until stopped (``olly worker`` in the foreground)."""
        while not self._stop.wait(0.5):
            pass

    def request_stop(self) -> None:
        self._stop.set()

    def _placed_by_us_alone(self, term: int | None) -> bool:
        """Whether every row placed in the log since the last round was placed by this runtime's
        relay (embedded transport, and its lease held without a break since then)."""
        relay = self.relay
        return (
            term is not None and self.transport != "kafka" and relay is not None and relay.leader and relay.term == term
        )

    # -- synchronous driving (tests, the CLI's one-shot commands) ------------------------------
    def drain(self, max_rounds: int = 10_000) -> int:
        """Relay and consume in this thread until nothing moves; return the messages handled.

        The first round polls every consumer. After it, while this runtime's relay holds the lease
        (so every row placed in the log is one it placed), a consumer is polled again only if it
        handled something in the round before (a full fetch leaves more) or the relay has just
        placed rows on one of its topics; the others have nothing new and are left alone. Without
        the lease, every consumer is polled every round, as rows may arrive from elsewhere.
        """
        stop = threading.Event()
        handled = 0
        embedded = [c for c in self.consumers if isinstance(c, EmbeddedGroupConsumer)]
        if embedded:
            renew(embedded)
            views = read_groups(embedded[0]._reader, [c.group for c in embedded], embedded[0].clock.now())
        for consumer in self.consumers:
            if isinstance(consumer, EmbeddedGroupConsumer):
                consumer.rebalance(views[consumer.group])
            else:
                consumer.heartbeat()
                consumer.rebalance()
        published: set[str] = set()
        if self.relay is not None:
            self.relay.on_published.append(published.update)
        try:
            busy: list[Any] = list(self.consumers)
            term = None
            for _ in range(max_rounds):
                published.clear()
                moved = self.relay.run_once() if self.relay else 0
                if self._placed_by_us_alone(term):
                    due = [c for c in self.consumers if c in busy or not published.isdisjoint(c.subscriptions)]
                else:
                    due = list(self.consumers)
                term = self.relay.term if self.relay is not None and self.relay.leader else None
                busy = []
                this_round = 0
                for consumer in due:
                    count = consumer.poll_once(stop)
                    if count:
                        this_round += count
                        busy.append(consumer)
                handled += this_round
                if not moved and not this_round:
                    break
        finally:
            if self.relay is not None:
                self.relay.on_published.remove(published.update)
        return handled
