"""Embedded transport, consumer side: consumer groups over the database log.

A group's position in each topic partition is a row of ``bus_consumer_partitions`` (committed
offset, lease owner, lease expiry). Several workers may run one group: each registers as a member
(``bus_group_members``, renewed by heartbeat), takes the share of partitions that falls to it
(partitions sorted, dealt round-robin over the live members sorted by id), and lets go of any
others. A worker that dies stops renewing; once its leases expire the others take its partitions
over from the committed offsets. The offset only ever moves inside the handler's transaction and
only if the worker still owns the partition, so a worker that lost its lease while busy cannot
commit on top of its successor.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from olly.kernel.clock import Clock
from olly.platform.bus import catalog
from olly.platform.bus.dispatch import Dispatcher, LostPartition, Stopping
from olly.platform.bus.messages import Message, Subscription
from olly.platform.bus.models import ConsumerPartition, GroupMember, OutboxRecord
from olly.platform.bus.relay import idle_wait
from olly.platform.bus.serialization import MESSAGE_COLUMNS, message_from_values
from olly.platform.db import Database, PlainSelect, table_of
from olly.platform.logging import get_logger

log = get_logger("olly.bus.embedded")

PARTITIONS = table_of(ConsumerPartition)
MEMBERS = table_of(GroupMember)
OUTBOX = table_of(OutboxRecord)
#: The compare-and-set of a group's committed offset, fenced by the lease.
_ADVANCE = (
    update(PARTITIONS)
    .where(
        PARTITIONS.c.consumer_group == bindparam("at_group"),
        PARTITIONS.c.topic == bindparam("at_topic"),
        PARTITIONS.c.partition == bindparam("at_partition"),
        PARTITIONS.c.committed_offset == bindparam("at_committed"),
        PARTITIONS.c.owner == bindparam("at_owner"),
    )
    .values(committed_offset=bindparam("at_offset"), updated_at=bindparam("at_now"))
)
#: A partition's next messages past the committed offset, in log order.
_FETCH = PlainSelect(
    select(*(OUTBOX.c[name] for name in MESSAGE_COLUMNS))
    .where(
        OUTBOX.c.topic == bindparam("topic"),
        OUTBOX.c.partition == bindparam("partition"),
        OUTBOX.c.log_offset > bindparam("committed"),
    )
    .order_by(OUTBOX.c.log_offset)
    .limit(bindparam("limit"))
)


@dataclass
class _Owned:
    topic: str
    partition: int
    committed: int


class _Guard:
    """Compare-and-set of the committed offset, fenced by lease ownership."""

    def __init__(self, consumer: EmbeddedGroupConsumer, owned: _Owned) -> None:
        self.consumer = consumer
        self.owned = owned

    def advance(self, session: Session, offset: int) -> None:
        params = {
            "at_group": self.consumer.group,
            "at_topic": self.owned.topic,
            "at_partition": self.owned.partition,
            "at_committed": self.owned.committed,
            "at_owner": self.consumer.member_id,
            "at_offset": offset,
            "at_now": self.consumer.clock.now(),
        }
        result: Any = session.connection().execute(_ADVANCE, params)  # in the session's transaction
        if result.rowcount != 1:
            raise LostPartition(f"{self.owned.topic}[{self.owned.partition}]")

    def committed(self, offset: int) -> None:
        self.owned.committed = offset


class EmbeddedGroupConsumer:
    """One worker's membership in one consumer group."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        dispatcher: Dispatcher,
        group: str,
        subscriptions: list[Subscription],
        *,
        member_id: str,
        lease_ttl_ms: int = 10000,
        poll_ms: int = 100,
        idle_poll_max_ms: int = 1000,
        fetch_size: int = 500,
    ) -> None:
        self.db = db
        self.clock = clock
        self.dispatcher = dispatcher
        self.group = group
        self.subscriptions = {s.topic: s for s in subscriptions}
        self.member_id = member_id
        self.lease_ttl = timedelta(milliseconds=lease_ttl_ms)
        self.poll = poll_ms / 1000
        self.idle_poll_max = max(poll_ms, idle_poll_max_ms) / 1000
        self.fetch_size = fetch_size
        self.owned: dict[tuple[str, int], _Owned] = {}
        self._wake = threading.Event()
        self._reader = db.engine.execution_options(olly_begin="DEFERRED") if db.is_sqlite else db.engine

    @property
    def all_partitions(self) -> list[tuple[str, int]]:
        return sorted((t, p) for t in self.subscriptions for p in range(catalog.topic(t).partitions))

    def wake(self) -> None:
        self._wake.set()

    def wake_for(self, topics: frozenset[str]) -> None:
        """Wake when new rows were placed on a topic this group consumes."""
        if not topics.isdisjoint(self.subscriptions):
            self._wake.set()

    # -- membership and leases -----------------------------------------------------------------
    def heartbeat(self) -> None:
        """Renew membership and every lease this member holds."""
        now = self.clock.now()
        with self.db.connect() as connection:
            expires = now + self.lease_ttl
            renewed = connection.execute(
                update(MEMBERS)
                .where(MEMBERS.c.consumer_group == self.group, MEMBERS.c.member_id == self.member_id)
                .values(expires_at=expires)
            ).rowcount
            if not renewed:
                connection.execute(
                    MEMBERS.insert().values(consumer_group=self.group, member_id=self.member_id, expires_at=expires)
                )
            connection.execute(
                update(PARTITIONS)
                .where(PARTITIONS.c.consumer_group == self.group, PARTITIONS.c.owner == self.member_id)
                .values(lease_expires_at=expires)
            )

    def rebalance(self) -> None:
        """Take this member's share of free or expired partitions and let go of the rest."""
        now = self.clock.now()
        with self.db.connect() as connection:
            connection.execute(
                delete(MEMBERS).where(MEMBERS.c.consumer_group == self.group, MEMBERS.c.expires_at < now)
            )
            members = sorted(
                connection.execute(select(MEMBERS.c.member_id).where(MEMBERS.c.consumer_group == self.group)).scalars()
            )
            if self.member_id not in members:
                members = sorted([*members, self.member_id])
            index = members.index(self.member_id)
            share = {p for i, p in enumerate(self.all_partitions) if i % len(members) == index}
            existing = {
                (row.topic, row.partition): row
                for row in connection.execute(
                    select(PARTITIONS).where(
                        PARTITIONS.c.consumer_group == self.group,
                        PARTITIONS.c.topic.in_(list(self.subscriptions)),
                    )
                )
            }
            for position in self.all_partitions:
                if position not in existing:
                    try:
                        with connection.begin_nested():
                            connection.execute(
                                PARTITIONS.insert().values(
                                    consumer_group=self.group,
                                    topic=position[0],
                                    partition=position[1],
                                    committed_offset=-1,
                                    owner=None,
                                    lease_expires_at=None,
                                    updated_at=now,
                                )
                            )
                    except IntegrityError:
                        pass
            # Forget partitions another member has taken over (our lease ran out while we were away).
            for position in list(self.owned):
                row = existing.get(position)
                if row is None or row.owner != self.member_id:
                    self.owned.pop(position, None)
            # Let go of what is not ours any more.
            for position in list(self.owned):
                if position not in share:
                    self._release(connection, position)
            # Take what is ours and free (never owned, released, or its holder's lease ran out).
            for topic, partition in sorted(share - set(self.owned)):
                row = connection.execute(
                    update(PARTITIONS)
                    .where(
                        PARTITIONS.c.consumer_group == self.group,
                        PARTITIONS.c.topic == topic,
                        PARTITIONS.c.partition == partition,
                        or_(
                            PARTITIONS.c.owner.is_(None),
                            PARTITIONS.c.owner == self.member_id,
                            PARTITIONS.c.lease_expires_at < now,
                        ),
                    )
                    .values(owner=self.member_id, lease_expires_at=now + self.lease_ttl, updated_at=now)
                    .returning(PARTITIONS.c.committed_offset)
                ).first()
                if row is not None:
                    self.owned[(topic, partition)] = _Owned(topic, partition, int(row.committed_offset))

    def _release(self, connection: Any, position: tuple[str, int]) -> None:
        connection.execute(
            update(PARTITIONS)
            .where(
                PARTITIONS.c.consumer_group == self.group,
                PARTITIONS.c.topic == position[0],
                PARTITIONS.c.partition == position[1],
                PARTITIONS.c.owner == self.member_id,
            )
            .values(owner=None, lease_expires_at=None)
        )
        self.owned.pop(position, None)

    def leave(self) -> None:
        """Let go of every partition and the membership (a clean shutdown hands over at once)."""
        with self.db.connect() as connection:
            for position in list(self.owned):
                self._release(connection, position)
            connection.execute(
                delete(MEMBERS).where(MEMBERS.c.consumer_group == self.group, MEMBERS.c.member_id == self.member_id)
            )

    # -- consuming -----------------------------------------------------------------------------
    def fetch(self, owned: _Owned, limit: int) -> list[Message]:
        params = {"topic": owned.topic, "partition": owned.partition, "committed": owned.committed, "limit": limit}
        with self._reader.connect() as connection:
            rows = _FETCH.rows(connection, params)
        return [message_from_values(row) for row in rows]

    def waiting(self) -> set[tuple[str, int]]:
        """The owned partitions with messages past the committed offset: one query for all of them."""
        if not self.owned:
            return set()
        with self._reader.connect() as connection:
            rows = connection.execute(
                select(OUTBOX.c.topic, OUTBOX.c.partition)
                .join(
                    PARTITIONS,
                    and_(
                        PARTITIONS.c.topic == OUTBOX.c.topic,
                        PARTITIONS.c.partition == OUTBOX.c.partition,
                        PARTITIONS.c.consumer_group == self.group,
                        PARTITIONS.c.owner == self.member_id,
                    ),
                )
                .where(OUTBOX.c.log_offset > PARTITIONS.c.committed_offset)
                .distinct()
            ).all()
        return {(row.topic, row.partition) for row in rows}

    def poll_once(self, stop: threading.Event) -> int:
        """Handle what is waiting in the partitions this member owns; return how many messages."""
        total = 0
        waiting = self.waiting()
        for position, owned in list(self.owned.items()):
            if stop.is_set():
                break
            if position not in waiting:
                continue
            batch = self.fetch(owned, self.fetch_size)
            if not batch:
                continue
            try:
                total += self.dispatcher.process(self.subscriptions[owned.topic], batch, _Guard(self, owned), stop)
            except LostPartition:
                log.info("partition lease lost", group=self.group, topic=owned.topic, partition=owned.partition)
                self.owned.pop(position, None)
            except Stopping:
                break
        return total

    def run(self, stop: threading.Event) -> None:
        last_rebalance = 0.0
        idle = self.poll
        while not stop.is_set():
            try:
                if time.monotonic() - last_rebalance >= self.lease_ttl.total_seconds() / 4:
                    self.rebalance()
                    last_rebalance = time.monotonic()
                handled = self.poll_once(stop)
            except Exception:
                log.exception("consumer round failed", group=self.group)
                self._reset_positions()
                stop.wait(min(1.0, self.lease_ttl.total_seconds() / 4))
                continue
            idle = self.poll if handled else idle_wait(self._wake, idle, self.poll, self.idle_poll_max)

    def _reset_positions(self) -> None:
        """After an unexpected failure, forget cached offsets; the next rebalance reloads them."""
        self.owned.clear()


def expire_now(db: Database, group: str, now: datetime) -> None:
    """Expire every lease of ``group`` (operators: hand partitions over without waiting)."""
    with db.connect() as connection:
        connection.execute(update(PARTITIONS).where(PARTITIONS.c.consumer_group == group).values(lease_expires_at=now))
