"""Eligibility's consumers: keep the coverage read model in step with enrollment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Final

from olly.eligibility import service
from olly.eligibility.events import CoverageTerminated
from olly.eligibility.repository import EligibilityRepository
from olly.platform.bus.messages import Handler, HandlerRegistry, Message
from olly.platform.cache import shared_cache
from olly.platform.db import UnitOfWork

GROUP: Final = "eligibility-enrollment-consumer"
TOPICS: Final = (
    "enrollment.enrollment.submitted",
    "enrollment.enrollment.activated",
    "enrollment.enrollment.terminated",
    "enrollment.enrollment.plan_changed",
)


def _coverage_ends(uow: UnitOfWork, policy_id: uuid.UUID) -> dict[uuid.UUID, tuple[date | None, str, uuid.UUID]]:
    """Each person's last covered day on the policy (None while open), with coverage type and plan."""
    ends: dict[uuid.UUID, tuple[date | None, str, uuid.UUID]] = {}
    for record in sorted(EligibilityRepository(uow).records_of_policy(policy_id), key=lambda r: r.valid_from):
        ends[record.party_id] = (record.valid_to, record.coverage_type, record.plan_id)
    return ends


def on_enrollment_changed(uow: UnitOfWork, message: Message) -> None:
    """Re-copy the policy's coverage (idempotent: the copy is of enrollment's current knowledge), and
    on a termination announce whose coverage it ended.

    Who is announced comes from the termination itself, not from what the copy changed: enrollment
    also publishes ``plan_changed`` when a dependent leaves (the policy is repriced), and topics are
    not ordered with each other, so that copy may already hold the ended coverage when the
    ``terminated`` event arrives. A ``terminated`` event is handled once (the consumer is
    idempotent), so each termination is announced once.
    """
    policy_id = uuid.UUID(message.payload["enrollmentId"])
    settings = uow.session.info["database"].settings
    service.sync_policy(uow, policy_id, shared_cache(settings.redis_url))
    if message.topic != "enrollment.enrollment.terminated":
        return
    reason = message.payload.get("reason", "OTHER")
    member = uuid.UUID(message.payload["memberId"])
    last_day = date.fromisoformat(message.payload["terminationDate"])
    ends = _coverage_ends(uow, policy_id)
    subscriber = next((r.subscriber_party_id for r in EligibilityRepository(uow).records_of_policy(policy_id)), None)
    # The subscriber's termination ends the policy: everyone still covered up to that day. A
    # dependent's ends their own coverage only.
    ended = [p for p, (end, _, _) in ends.items() if end == last_day] if member == subscriber else [member]
    for party_id in ended:
        end, coverage_type, plan_id = ends.get(party_id, (None, "", uuid.UUID(int=0)))
        if end is None:  # reinstated (or never copied) since: nothing ended
            continue
        uow.publish(
            CoverageTerminated(
                member_id=party_id,
                plan_id=plan_id,
                coverage_type=coverage_type,
                termination_date=end,
                reason=reason if reason in {"VOLUNTARY", "NON_PAYMENT", "LOSS_OF_ELIGIBILITY"} else "OTHER",
                terminated_at=uow.clock.now(),
            ),
            key=party_id,
        )


def on_accumulator_updated(uow: UnitOfWork, message: Message) -> None:
    """Keep the member's (and family's) spending for the fast path's "remaining" amounts."""
    settings = uow.session.info["database"].settings
    service.record_accumulators(uow, message.payload, shared_cache(settings.redis_url))


def prepare_accumulators(uow: UnitOfWork, messages: Sequence[Message]) -> Handler:
    """Read the balances and families a chunk of accumulator events names in two queries; store
    each event's totals in turn (written with the chunk's flush)."""
    chunk = service.AccumulatorChunk(uow, [message.payload for message in messages])
    cache = shared_cache(uow.session.info["database"].settings.redis_url)

    def on_accumulator_updated_in_chunk(uow: UnitOfWork, message: Message) -> None:
        service.record_accumulators(uow, message.payload, cache, chunk=chunk)

    return on_accumulator_updated_in_chunk


def register(registry: HandlerRegistry) -> None:
    for topic in TOPICS:
        registry.subscribe(topic, GROUP, on_enrollment_changed)
    registry.subscribe(
        "claims.accumulator.updated",
        "eligibility-claims-consumer",
        on_accumulator_updated,
        prepare=prepare_accumulators,
    )
