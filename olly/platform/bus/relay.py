"""The relay: takes committed outbox rows, oldest first, and publishes them (at least once).

Only one relay works at a time, under the named lease ``relay`` (renewed every round, taken over
when it expires), so every process may run one and a crashed relay is replaced within a lease TTL.

* Embedded transport: publishing *is* giving each row its place in the log. The relay numbers the
  rows of each topic partition densely (``log_offset`` 0, 1, 2 …) in the order it reads them; a
  unique index on (topic, partition, log_offset) refuses a second numbering if two relays ever
  overlap. Consumers read only numbered rows, so they never see a gap that fills in later.
* Kafka transport: the rows are produced (idempotent producer, ``acks=all``) to their partition,
  and marked relayed once every delivery is acknowledged. A crash between the two produces them
  again: consumers drop the duplicates by event id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from olly.kernel.clock import Clock
from olly.platform.bus.dispatch import METRICS, BusMetrics
from olly.platform.bus.models import NamedLease, OutboxRecord
from olly.platform.db import Database, execute_values, table_of
from olly.platform.logging import get_logger

log = get_logger("olly.bus.relay")

OUTBOX = table_of(OutboxRecord)
LEASES = table_of(NamedLease)


def take_named_lease(connection: Connection, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``owner`` if it is free, expired or already ``owner``'s."""
    updated = connection.execute(
        update(LEASES)
        .where(LEASES.c.name == name, or_(LEASES.c.owner == owner, LEASES.c.expires_at < now))
        .values(owner=owner, expires_at=now + ttl)
    ).rowcount
    if updated:
        return True
    exists = connection.execute(select(LEASES.c.name).where(LEASES.c.name == name)).first()
    if exists is not None:
        return False
    try:
        with connection.begin_nested():
            connection.execute(LEASES.insert().values(name=name, owner=owner, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


def renew_named_lease(connection: Connection, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Renew the lease ``name`` if ``owner`` holds it and it has not run out (no one else can have
    held it since ``owner`` took it)."""
    renewed = connection.execute(
        update(LEASES)
        .where(LEASES.c.name == name, LEASES.c.owner == owner, LEASES.c.expires_at >= now)
        .values(expires_at=now + ttl)
    ).rowcount
    return bool(renewed)


def release_named_lease(connection: Connection, name: str, owner: str) -> None:
    connection.execute(delete(LEASES).where(LEASES.c.name == name, LEASES.c.owner == owner))


class Publisher(Protocol):
    full_rows: bool
    """Whether ``publish`` needs every column (Kafka) or only id, topic and partition (embedded)."""

    def publish(self, connection: Connection, rows: Sequence[Row[Any]], now: datetime) -> None:
        """Publish ``rows`` (in id order) and mark them relayed, inside ``connection``'s transaction."""

    def reset(self) -> None:
        """Forget any cached state (called when the relay (re)gains its lease or a round fails)."""


class LogSequencer:
    """Embedded transport: number the rows of each topic partition densely, in the order read."""

    full_rows = False

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], int] = {}

    def reset(self) -> None:
        self._next.clear()

    def publish(self, connection: Connection, rows: Sequence[Row[Any]], now: datetime) -> None:
        numbered = []
        for row in rows:
            position = (row.topic, row.partition)
            if position not in self._next:
                highest = connection.execute(
                    select(func.max(OUTBOX.c.log_offset)).where(
                        OUTBOX.c.topic == row.topic, OUTBOX.c.partition == row.partition
                    )
                ).scalar()
                self._next[position] = -1 if highest is None else int(highest)
            self._next[position] += 1
            numbered.append((self._next[position], now, row.id))
        execute_values(connection, _NUMBER, ("log_offset", "relayed_at", "row_id"), numbered)


#: Places one outbox row in the log.
_NUMBER = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row_id"))
    .values(log_offset=bindparam("log_offset"), relayed_at=bindparam("relayed_at"))
)


def idle_wait(wake: threading.Event, waited: float, poll: float, most: float) -> float:
    """Sleep until woken or ``waited`` has passed; return how long to wait next time if still idle.

    An idle loop doubles its wait, up to ``most``, so that a quiet process costs almost nothing; being
    woken (in-process, new rows on a topic it cares about) brings it back to ``poll``.
    """
    woken = wake.wait(waited)
    wake.clear()
    return poll if woken else min(waited * 2, most)


class Relay:
    LEASE = "relay"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        publisher: Publisher,
        *,
        owner: str,
        batch_size: int = 2000,
        lease_ttl_ms: int = 10000,
        poll_ms: int = 100,
        idle_poll_max_ms: int = 1000,
        metrics: BusMetrics = METRICS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.publisher = publisher
        self.owner = owner
        self.batch_size = batch_size
        self.lease_ttl = timedelta(milliseconds=lease_ttl_ms)
        self.poll = poll_ms / 1000
        self.idle_poll_max = max(poll_ms, idle_poll_max_ms) / 1000
        self.metrics = metrics
        self._wake = threading.Event()
        self._leader = False
        self.term = 0
        """How many times this relay has taken the lease: within one term it held the lease without
        a break, so every row placed in the log meanwhile is one it placed."""
        self.on_published: list[Callable[[frozenset[str]], None]] = []
        """Called with the topics of a round that published rows (in-process consumers of those
        topics wake at once; the others sleep on)."""

    def wake(self) -> None:
        self._wake.set()

    @property
    def leader(self) -> bool:
        """Whether the last round held the lease."""
        return self._leader

    def run_once(self) -> int:
        """One round: hold the lease, move up to ``batch_size`` rows. Returns how many moved."""
        now = self.clock.now()
        try:
            with self.db.connect() as connection:
                renewed = self._leader and renew_named_lease(connection, self.LEASE, self.owner, now, self.lease_ttl)
                if not renewed:
                    # Not held, or run out since the last round (another relay may have held it
                    # meanwhile): take it afresh, as a new term.
                    self._leader = False
                    if not take_named_lease(connection, self.LEASE, self.owner, now, self.lease_ttl):
                        return 0
                    self.publisher.reset()
                    self._leader = True
                    self.term += 1
                columns = (
                    list(OUTBOX.c) if self.publisher.full_rows else [OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.partition]
                )
                query = (
                    select(*columns).where(OUTBOX.c.relayed_at.is_(None)).order_by(OUTBOX.c.id).limit(self.batch_size)
                )
                rows = connection.execute(query).all()
                if rows:
                    self.publisher.publish(connection, rows, now)
        except DBAPIError:
            self.publisher.reset()
            self._leader = False
            raise
        if rows:
            self.metrics.add(relayed=len(rows))
            topics = frozenset(row.topic for row in rows)
            for listener in self.on_published:
                listener(topics)
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        idle = self.poll
        while not stop.is_set():
            try:
                moved = self.run_once()
            except Exception:
                log.exception("relay round failed")
                stop.wait(min(1.0, self.lease_ttl.total_seconds() / 2))
                continue
            if not self._leader:
                self._wake.wait(self.lease_ttl.total_seconds() / 2)
                self._wake.clear()
            elif moved == 0:
                # Rows committed in this process wake the relay at once; another process's rows are
                # found within ``idle_poll_max``.
                idle = idle_wait(self._wake, idle, self.poll, self.idle_poll_max)
            elif moved < self.batch_size:
                idle = self.poll
                self._wake.wait(self.poll)
                self._wake.clear()

    def release(self) -> None:
        with self.db.connect() as connection:
            release_named_lease(connection, self.LEASE, self.owner)
        self._leader = False


def wait_until(predicate: Any, timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (for tests and the CLI)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
