"""Eligibility's consumers: keep the coverage read model in step with enrollment."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Final

from olly.eligibility import service
from olly.eligibility.events import CoverageTerminated
from olly.eligibility.repository import EligibilityRepository
from olly.platform.bus.messages import HandlerRegistry, Message
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
    announce every person whose coverage now ends earlier than it did."""
    policy_id = uuid.UUID(message.payload["enrollmentId"])
    settings = uow.session.info["database"].settings
    before = _coverage_ends(uow, policy_id)
    service.sync_policy(uow, policy_id, shared_cache(settings.redis_url))
    if message.topic != "enrollment.enrollment.terminated":
        return
    reason = message.payload.get("reason", "OTHER")
    for party_id, (end, coverage_type, plan_id) in _coverage_ends(uow, policy_id).items():
        previous = before.get(party_id, (None, "", plan_id))[0]
        if end is None or (previous is not None and previous <= end):
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


def register(registry: HandlerRegistry) -> None:
    for topic in TOPICS:
        registry.subscribe(topic, GROUP, on_enrollment_changed)
    registry.subscribe("claims.accumulator.updated", "eligibility-claims-consumer", on_accumulator_updated)
