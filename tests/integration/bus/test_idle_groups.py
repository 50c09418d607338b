"""Consumer groups with nothing to do cost (almost) nothing: set-based partition registration and
take-over, one renewal for all of a worker's groups, a rebalance that only reads when nothing is to
change, and a drain that polls again only the groups whose topics moved."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from olly.kernel.clock import FixedClock
from olly.platform.bus.embedded import EmbeddedGroupConsumer, renew
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.bus.models import ConsumerPartition, GroupMember
from olly.platform.db import UnitOfWork, table_of
from olly.platform.runtime import Platform
from tests.integration.bus.helpers import GROUP, TOPIC, claim_submitted, runtime

PARTITIONS = table_of(ConsumerPartition)
MEMBERS = table_of(GroupMember)
IDLE_GROUP = "audit-eligibility-consumer"
IDLE_TOPIC = "eligibility.coverage.verified"
FORWARDED = "claims.claim.adjudicated"


@contextmanager
def statements(platform: Platform) -> Iterator[list[str]]:
    """The SQL statements run meanwhile (transaction control and SQLite PRAGMAs left out)."""
    seen: list[str] = []

    def counted(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if not sql.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            seen.append(sql)

    event.listen(platform.db.engine, "before_cursor_execute", counted)
    try:
        yield seen
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", counted)


def _registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.subscribe(TOPIC, GROUP, lambda uow, m: None)
    registry.subscribe(IDLE_TOPIC, IDLE_GROUP, lambda uow, m: None)
    return registry


def test_a_new_member_registers_and_takes_its_partitions_in_one_statement_each(platform: Platform) -> None:
    bus = runtime(platform, _registry(), member_id="worker-a")
    consumer = next(c for c in bus.consumers if c.group == GROUP)
    assert isinstance(consumer, EmbeddedGroupConsumer)
    renew([consumer])
    with statements(platform) as seen:
        consumer.rebalance()
    # read members, read holders, register the 12 partitions, take them
    assert len(seen) == 4
    assert sorted(consumer.owned) == consumer.all_partitions
    assert all(owned.committed == -1 for owned in consumer.owned.values())
    # Nothing to change: the rebalance only reads.
    with statements(platform) as seen:
        consumer.rebalance()
    assert len(seen) == 2
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in seen)


def test_one_renewal_covers_every_group_of_a_worker(platform: Platform) -> None:
    bus = runtime(platform, _registry(), member_id="worker-a")  # the system clock: it moves between groups
    consumers = [c for c in bus.consumers if isinstance(c, EmbeddedGroupConsumer)]
    with statements(platform) as seen:
        renew(consumers)  # joining: update, look for the memberships, insert them, renew the leases
    assert len(seen) == 4
    for consumer in consumers:
        consumer.rebalance()
    before = datetime.now(UTC)
    with statements(platform) as seen:
        renew(consumers)
    assert len(seen) == 2
    with platform.db.engine.connect() as connection:
        members = connection.execute(select(MEMBERS.c.consumer_group, MEMBERS.c.expires_at)).all()
        leases = connection.execute(select(PARTITIONS.c.owner, PARTITIONS.c.lease_expires_at)).all()
    assert sorted(group for group, _ in members) == sorted([GROUP, IDLE_GROUP])
    [expires] = {expires.replace(tzinfo=UTC) for _, expires in members}
    assert expires >= before + consumers[0].lease_ttl
    assert len(leases) == 12 + 6
    assert {(owner, lease.replace(tzinfo=UTC)) for owner, lease in leases} == {("worker-a", expires)}


def test_a_drain_polls_again_only_the_groups_whose_topics_moved(platform: Platform, tenant_id: uuid.UUID) -> None:
    handled: dict[str, list[uuid.UUID]] = {}
    registry = HandlerRegistry()

    def forward(uow: UnitOfWork, message: Message) -> None:
        handled.setdefault(GROUP, []).append(message.event_id)
        uow.publish(claim_submitted(billed="1.00"), key=message.key)

    registry.subscribe(TOPIC, GROUP, forward)
    registry.subscribe(IDLE_TOPIC, IDLE_GROUP, lambda uow, m: handled.setdefault(IDLE_GROUP, []).append(m.event_id))
    with platform.db.unit_of_work(tenant_id) as uow:
        first = uow.publish(claim_submitted(), key="k").event_id
    bus = runtime(platform, registry, member_id="worker-a")
    polls: dict[str, int] = {}

    def counting(consumer: EmbeddedGroupConsumer) -> Callable[[threading.Event], int]:
        original = consumer.poll_once

        def counted(stop: threading.Event) -> int:
            polls[consumer.group] = polls.get(consumer.group, 0) + 1
            return original(stop)

        return counted

    for consumer in bus.consumers:
        consumer.poll_once = counting(consumer)
    # Each round the forwarding group handles what the round before published, for ever: stop at 5.
    assert bus.drain(max_rounds=5) == 5
    assert len(handled[GROUP]) == 5 and handled[GROUP][0] == first
    assert IDLE_GROUP not in handled
    assert polls == {GROUP: 5, IDLE_GROUP: 1}


def test_a_relay_that_lost_its_lease_meanwhile_starts_a_new_term(platform: Platform) -> None:
    clock = FixedClock(datetime(2026, 1, 16, 10, 0, tzinfo=UTC))
    a = runtime(platform, HandlerRegistry(), member_id="worker-a", clock=clock)
    b = runtime(platform, HandlerRegistry(), member_id="worker-b", clock=clock)
    assert a.relay is not None and b.relay is not None
    a.relay.run_once()
    a.relay.run_once()
    assert (a.relay.leader, a.relay.term) == (True, 1)
    past_the_lease = a.relay.lease_ttl + timedelta(seconds=1)
    clock.advance(past_the_lease)
    b.relay.run_once()  # a stalled: b took over
    assert (b.relay.leader, b.relay.term) == (True, 1)
    clock.advance(past_the_lease)
    a.relay.run_once()  # b stalled in turn: a takes it back, but rows may have been placed meanwhile
    assert (a.relay.leader, a.relay.term) == (True, 2)
    b.relay.run_once()
    assert not b.relay.leader
