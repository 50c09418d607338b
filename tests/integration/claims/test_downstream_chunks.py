"""The downstream consumers of claims' events read a chunk at once (their ``prepare`` step) and
store exactly what handling the same events one by one stores: billing's payables, ledger
postings and entries; the member notifications; appeals' read model; eligibility's accumulator
balances. A chunk delivered again changes nothing, whether the bus skips it as already processed
or the handlers see it again.

The chunk is what real adjudications published (Ana and Ben of one family, Ana twice, a member
alone, a denial of a member claims knows no coverage for, a claim pended for its authorisation),
plus what must see an earlier event of the same chunk or an older one: a re-adjudication of a
claim of the chunk paying more, the same claim adjudicated in an older event arriving late,
accumulator totals older than the chunk's, and a reimbursement paid to a member. One claim is held
by billing before the chunk (its re-adjudication takes the usual path).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from olly.billing import handlers as billing_handlers
from olly.billing.models import ClaimPayable, ClaimRecovery, LedgerEntry, LedgerPosting
from olly.claims import appeal_handlers, public, service
from olly.claims.authorization_models import AppealableClaim
from olly.claims.schemas import ClaimCreate
from olly.eligibility.models import AccumulatorBalance
from olly.kernel.ids import uuid7
from olly.notifications import handlers as notification_handlers
from olly.notifications.models import Notification
from olly.platform.bus import dlq
from olly.platform.bus.dispatch import DatabaseIdempotency, Dispatcher, RetryPolicy
from olly.platform.bus.messages import Handler, Message, Subscription
from olly.platform.bus.models import OutboxRecord
from olly.platform.bus.runtime import default_registry
from olly.platform.bus.serialization import message_from_row
from olly.platform.db import Base, OllySession, UnitOfWork
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, claim_body, line, seed

#: (topics, consumer group, the tables it writes)
CONSUMERS: dict[str, tuple[tuple[str, ...], str, tuple[type[Base], ...]]] = {
    "billing": (
        ("claims.claim.adjudicated",),
        billing_handlers.CLAIMS_GROUP,
        (ClaimPayable, ClaimRecovery, LedgerPosting, LedgerEntry),
    ),
    "notifications": (
        ("claims.claim.adjudicated", "claims.claim.paid"),
        notification_handlers.CLAIMS_GROUP,
        (Notification,),
    ),
    "appeals": (("claims.claim.adjudicated",), appeal_handlers.GROUP, (AppealableClaim,)),
    "eligibility": (("claims.accumulator.updated",), "eligibility-claims-consumer", (AccumulatorBalance,)),
}
GENERATED = {"id", "posting_id"}
"""Ids each run makes anew (a ledger entry's posting is compared through the posting's values)."""


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def adjudicate(platform: Platform, tenant_id: uuid.UUID, body: dict[str, Any]) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id
    with platform.db.unit_of_work(tenant_id) as uow:
        service.adjudicate_claim(uow, claim_id)
    return claim_id


def published(platform: Platform, topics: Sequence[str]) -> list[Message]:
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic.in_(topics)).order_by(OutboxRecord.id))
        return [dataclasses.replace(message_from_row(row), offset=index) for index, row in enumerate(rows)]


def another(message: Message, **changes: Any) -> Message:
    """A new event (new id) with the same payload but for ``changes``."""
    return dataclasses.replace(message, event_id=uuid7(), payload=message.payload | changes)


def the_chunk(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> list[Message]:
    """The events of the chunk, in log order."""
    held = adjudicate(platform, tenant_id, claim_body(world.solo, line("10060", "500.00")))
    for member in (world.ana, world.ben, world.ana, world.solo):
        adjudicate(platform, tenant_id, claim_body(member, line("99213", "150.00")))
    adjudicate(platform, tenant_id, claim_body(uuid.uuid4(), line("99213", "150.00")))  # no coverage: denied
    adjudicate(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00")))  # pended: no event
    adjudications = published(platform, ["claims.claim.adjudicated"])
    accumulators = published(platform, ["claims.accumulator.updated"])
    assert {m.payload["eventType"] for m in adjudications} == {"CLAIM_APPROVED", "CLAIM_DENIED"}
    approved = next(m for m in adjudications[1:] if m.payload["eventType"] == "CLAIM_APPROVED")
    first_of_held = adjudications[0]
    assert first_of_held.payload["claimId"] == str(held)
    later = (approved.occurred_at + timedelta(days=3)).isoformat()
    earlier = (approved.occurred_at - timedelta(days=3)).isoformat()
    again = another(approved, adjudicationSequence=2, adjudicatedAt=later, paidAmount="95.00")
    stale = another(approved, adjudicationSequence=0, adjudicatedAt=earlier, paidAmount="1.00")
    held_again = another(first_of_held, adjudicationSequence=2, adjudicatedAt=later, paidAmount="12.00")
    newest = accumulators[-1]
    older_totals = another(newest, updatedAt=earlier, deductibleUsedInNetwork="999.00")
    reimbursement = dataclasses.replace(
        approved,
        topic="claims.claim.paid",
        event_id=uuid7(),
        event_type="CLAIM_PAID",
        payload={
            "eventType": "CLAIM_PAID",
            "claimId": approved.payload["claimId"],
            "memberId": approved.payload["memberId"],
            "providerId": approved.payload["providerId"],
            "paymentId": str(uuid.uuid4()),
            "paidAmount": "40.00",
            "currency": "USD",
            "payee": "MEMBER",
            "paidAt": later,
        },
    )
    to_provider = another(reimbursement, payee="PROVIDER")
    chunk = [
        *adjudications[1:],
        again,
        stale,
        held_again,
        *accumulators,
        older_totals,
        reimbursement,
        to_provider,
    ]
    # Billing holds the first claim before the chunk comes (its first adjudication handled alone).
    with platform.db.unit_of_work(tenant_id) as uow:
        billing_handlers.on_claim_adjudicated(uow, first_of_held)
    return [dataclasses.replace(m, offset=index) for index, m in enumerate(chunk)]


def stored(uow: UnitOfWork, tables: Sequence[type[Base]]) -> dict[str, list[str]]:
    """Every stored value of ``tables`` (but for generated ids), comparable."""
    uow.flush()
    postings = {p.id: (p.kind, p.reference_id, p.total_minor) for p in uow.session.scalars(select(LedgerPosting))}
    found: dict[str, list[str]] = {}
    for model in tables:
        rows = []
        for row in uow.session.scalars(select(model)):
            values = {attr.key: getattr(row, attr.key) for attr in model.__mapper__.column_attrs}
            if model is LedgerEntry:
                values["posting"] = postings[values["posting_id"]]
            rows.append(
                json.dumps({k: v for k, v in values.items() if k not in GENERATED}, sort_keys=True, default=str)
            )
        found[model.__name__] = sorted(rows)
    return found


def handle(uow: UnitOfWork, subscriptions: dict[str, Subscription], messages: Sequence[Message]) -> None:
    """Each subscription's messages in log order, read at once through its ``prepare``."""
    for topic, subscription in subscriptions.items():
        mine = [m for m in messages if m.topic == topic]
        if not mine:
            continue
        assert subscription.prepare is not None
        handler = subscription.prepare(uow, mine)
        for message in mine:
            uow.correlation_id, uow.causation_id = message.correlation_id, message.event_id
            handler(uow, message)


def counting(subscription: Subscription, prepared: list[int]) -> Subscription:
    """The subscription, its ``prepare`` noting the size of each chunk it reads."""
    prepare = subscription.prepare
    assert prepare is not None

    def counted(uow: UnitOfWork, messages: Sequence[Message]) -> Handler:
        prepared.append(len(messages))
        return prepare(uow, messages)

    return dataclasses.replace(subscription, prepare=counted)


def deliver(
    platform: Platform, subscriptions: dict[str, Subscription], messages: Sequence[Message], *, batch_size: int
) -> None:
    """Through the bus's dispatcher: ``batch_size`` messages of a topic per transaction."""
    dispatcher = Dispatcher(
        platform.db, platform.clock, RetryPolicy(()), DatabaseIdempotency(platform.clock), batch_size=batch_size
    )
    for topic, subscription in subscriptions.items():
        mine = [m for m in messages if m.topic == topic]
        assert dispatcher.process(subscription, mine, None, threading.Event()) == len(mine)
    assert not dlq.list_dead_letters(platform.db)


@contextmanager
def trial(platform: Platform, tenant_id: uuid.UUID) -> Iterator[Callable[[], UnitOfWork]]:
    """Units of work on one connection whose commits last only until the trial ends (they release
    savepoints of an outer transaction, rolled back at the end)."""
    db = platform.db
    with db.engine.connect() as connection:
        outer = connection.begin()

        def unit_of_work() -> UnitOfWork:
            session = OllySession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
            session.info.update(db.session_info)
            session.info.update(tenant_id=tenant_id, all_tenants=False, database=db)
            return UnitOfWork(session, tenant_id, db.clock, db.outbox_writer)

        try:
            yield unit_of_work
        finally:
            outer.rollback()


def one_by_one(
    platform: Platform,
    tenant_id: uuid.UUID,
    subscriptions: dict[str, Subscription],
    messages: Sequence[Message],
    tables: Sequence[type[Base]],
) -> dict[str, list[str]]:
    """What the handlers alone store, one message per transaction (left uncommitted)."""
    with trial(platform, tenant_id) as unit_of_work:
        for message in messages:
            with unit_of_work() as uow:
                uow.correlation_id, uow.causation_id = message.correlation_id, message.event_id
                subscriptions[message.topic].handler(uow, message)
        with unit_of_work() as uow:
            return stored(uow, tables)


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
def test_a_chunk_read_at_once_stores_what_one_by_one_does_and_a_redelivery_changes_nothing(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld, consumer: str
) -> None:
    topics, group, tables = CONSUMERS[consumer]
    registry = default_registry()
    subscriptions = {topic: sub for topic in topics if (sub := registry.get(topic, group)) is not None}
    assert set(subscriptions) == set(topics) and all(s.prepare is not None for s in subscriptions.values())
    chunk = the_chunk(platform, tenant_id, world)

    def now() -> dict[str, list[str]]:
        with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
            return stored(uow, tables)

    before = now()
    alone = one_by_one(platform, tenant_id, subscriptions, [m for m in chunk if m.topic in subscriptions], tables)
    assert alone != before  # the chunk does something
    assert now() == before

    # The whole chunk in one transaction, each topic's messages read once, together (no failure sent
    # them one by one); delivered again, the bus skips them all before reading anything.
    prepared: list[int] = []
    counted = {topic: counting(s, prepared) for topic, s in subscriptions.items()}
    for _ in range(2):
        deliver(platform, counted, chunk, batch_size=len(chunk))
        assert now() == alone
    assert prepared == [len([m for m in chunk if m.topic == topic]) for topic in subscriptions]
    # The handlers themselves see the chunk again (the processed-events record aside): nothing moves.
    with platform.db.unit_of_work(tenant_id) as uow:
        handle(uow, subscriptions, chunk)
    assert now() == alone
