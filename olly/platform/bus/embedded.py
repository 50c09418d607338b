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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, delete, exists, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
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


#: The owned partitions with messages past the committed offset (one look-up per partition,
#: stopping at the first such message).
_WAITING = PlainSelect(
    select(PARTITIONS.c.topic, PARTITIONS.c.partition).where(
        PARTITIONS.c.consumer_group == bindparam("group"),
        PARTITIONS.c.owner == bindparam("member"),
        exists().where(
            OUTBOX.c.topic == PARTITIONS.c.topic,
            OUTBOX.c.partition == PARTITIONS.c.partition,
            OUTBOX.c.log_offset > PARTITIONS.c.committed_offset,
        ),
    )
)
_ABSENT: Final = object()


@dataclass
class GroupView:
    """What a rebalance needs to know of one group: its members and who holds each partition."""

    members: list[str] = field(default_factory=list)
    """The live members (lease not expired)."""
    expired: list[str] = field(default_factory=list)
    """Members whose lease ran out (to be forgotten)."""
    owners: dict[tuple[str, int], str | None] = field(default_factory=dict)
    """Every registered partition of the group and its holder (``None``: free)."""


def read_groups(engine: Engine, groups: Iterable[str], now: datetime) -> dict[str, GroupView]:
    """The members and partition holders of ``groups``, in one read transaction (two statements)."""
    groups = sorted(set(groups))
    views = {group: GroupView() for group in groups}
    with engine.connect() as connection:
        members = connection.execute(
            select(MEMBERS.c.consumer_group, MEMBERS.c.member_id, (MEMBERS.c.expires_at < now).label("expired")).where(
                MEMBERS.c.consumer_group.in_(groups)
            )
        ).all()
        holders = connection.execute(
            select(PARTITIONS.c.consumer_group, PARTITIONS.c.topic, PARTITIONS.c.partition, PARTITIONS.c.owner).where(
                PARTITIONS.c.consumer_group.in_(groups)
            )
        ).all()
    for group, member, expired in members:
        (views[group].expired if expired else views[group].members).append(member)
    for group, topic, partition, owner in holders:
        views[group].owners[(topic, int(partition))] = owner
    return views


def renew(consumers: Sequence[EmbeddedGroupConsumer]) -> None:
    """Renew the memberships and leases of ``consumers`` (one worker's groups): one transaction and
    two statements for all of them (three when a membership is new)."""
    by_member: dict[tuple[int, str], list[EmbeddedGroupConsumer]] = {}
    for consumer in consumers:
        by_member.setdefault((id(consumer.db), consumer.member_id), []).append(consumer)
    for same in by_member.values():
        first = same[0]
        now = first.clock.now()  # one instant for all: one expiry, so one statement, per lease TTL
        expiring = {c.group: now + c.lease_ttl for c in same}
        with first.db.connect() as connection:
            for expires, groups in _by_value(expiring).items():
                renewed = connection.execute(
                    update(MEMBERS)
                    .where(MEMBERS.c.member_id == first.member_id, MEMBERS.c.consumer_group.in_(groups))
                    .values(expires_at=expires)
                ).rowcount
                if renewed != len(groups):
                    _join(connection, first.member_id, groups, expires)
                connection.execute(
                    update(PARTITIONS)
                    .where(PARTITIONS.c.owner == first.member_id, PARTITIONS.c.consumer_group.in_(groups))
                    .values(lease_expires_at=expires)
                )


def _by_value(expiring: dict[str, datetime]) -> dict[datetime, list[str]]:
    grouped: dict[datetime, list[str]] = {}
    for group, expires in sorted(expiring.items()):
        grouped.setdefault(expires, []).append(group)
    return grouped


def _join(connection: Connection, member_id: str, groups: list[str], expires: datetime) -> None:
    """Register ``member_id`` in those of ``groups`` it is not yet a member of."""
    present = set(
        connection.execute(
            select(MEMBERS.c.consumer_group).where(
                MEMBERS.c.member_id == member_id, MEMBERS.c.consumer_group.in_(groups)
            )
        ).scalars()
    )
    joining = [g for g in groups if g not in present]
    if joining:
        connection.execute(
            MEMBERS.insert(),
            [{"consumer_group": g, "member_id": member_id, "expires_at": expires} for g in joining],
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

        self._all_partitions = sorted((t, p) for t in self.subscriptions for p in range(catalog.topic(t).partitions))

    @property
    def all_partitions(self) -> list[tuple[str, int]]:
        return list(self._all_partitions)

    def wake(self) -> None:
        self._wake.set()

    def wake_for(self, topics: frozenset[str]) -> None:
        """Wake when new rows were placed on a topic this group consumes."""
        if not topics.isdisjoint(self.subscriptions):
            self._wake.set()

    # -- membership and leases -----------------------------------------------------------------
    def heartbeat(self) -> None:
        """Renew membership and every lease this member holds."""
        renew([self])

    def rebalance(self, view: GroupView | None = None) -> None:
        """Take this member's share of free or expired partitions and let go of the rest.

        ``view`` is what :func:`read_groups` found for this group (read now if not given). Reading
        takes no write lock; a write transaction is opened only when something is to change (an
        expired member to forget, partitions to register, take or let go), and every write is
        fenced, so a view a moment old can only make this member take or let go a round later.
        """
        now = self.clock.now()
        if view is None:
            view = read_groups(self._reader, [self.group], now).get(self.group, GroupView())
        members = sorted({*view.members, self.member_id})
        index = members.index(self.member_id)
        share = {p for i, p in enumerate(self._all_partitions) if i % len(members) == index}
        # Forget partitions another member has taken over (our lease ran out while we were away).
        for position in list(self.owned):
            if view.owners.get(position, _ABSENT) != self.member_id:
                self.owned.pop(position, None)
        missing = [p for p in self._all_partitions if p not in view.owners]
        release = [p for p in self.owned if p not in share]
        take = sorted(share - set(self.owned))
        if not (view.expired or missing or release or take):
            return
        with self.db.connect() as connection:
            if view.expired:
                connection.execute(
                    delete(MEMBERS).where(
                        MEMBERS.c.consumer_group == self.group,
                        MEMBERS.c.member_id.in_(view.expired),
                        MEMBERS.c.expires_at < now,
                    )
                )
            if missing:
                register = (sqlite_insert if self.db.is_sqlite else pg_insert)(PARTITIONS).on_conflict_do_nothing()
                connection.execute(
                    register,
                    [
                        {
                            "consumer_group": self.group,
                            "topic": topic,
                            "partition": partition,
                            "committed_offset": -1,
                            "owner": None,
                            "lease_expires_at": None,
                            "updated_at": now,
                        }
                        for topic, partition in missing
                    ],
                )
            # Let go of what is not ours any more.
            if release:
                self._release(connection, release)
            # Take what is ours and free (never owned, released, or its holder's lease ran out).
            if take:
                rows = connection.execute(
                    update(PARTITIONS)
                    .where(
                        PARTITIONS.c.consumer_group == self.group,
                        tuple_(PARTITIONS.c.topic, PARTITIONS.c.partition).in_(take),
                        or_(
                            PARTITIONS.c.owner.is_(None),
                            PARTITIONS.c.owner == self.member_id,
                            PARTITIONS.c.lease_expires_at < now,
                        ),
                    )
                    .values(owner=self.member_id, lease_expires_at=now + self.lease_ttl, updated_at=now)
                    .returning(PARTITIONS.c.topic, PARTITIONS.c.partition, PARTITIONS.c.committed_offset)
                ).all()
                for row in sorted(rows, key=lambda r: (r.topic, r.partition)):
                    position = (row.topic, int(row.partition))
                    self.owned[position] = _Owned(position[0], position[1], int(row.committed_offset))

    def _release(self, connection: Any, positions: list[tuple[str, int]]) -> None:
        connection.execute(
            update(PARTITIONS)
            .where(
                PARTITIONS.c.consumer_group == self.group,
                tuple_(PARTITIONS.c.topic, PARTITIONS.c.partition).in_(positions),
                PARTITIONS.c.owner == self.member_id,
            )
            .values(owner=None, lease_expires_at=None)
        )
        for position in positions:
            self.owned.pop(position, None)

    def leave(self) -> None:
        """Let go of every partition and the membership (a clean shutdown hands over at once)."""
        with self.db.connect() as connection:
            if self.owned:
                self._release(connection, list(self.owned))
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
            rows = _WAITING.rows(connection, {"group": self.group, "member": self.member_id})
        return {(topic, int(partition)) for topic, partition in rows}

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
