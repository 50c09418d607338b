"""Shared pieces of the event-backbone tests: fast bus settings, a sample event, a bus runtime."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from olly.claims.events import ClaimSubmitted
from olly.kernel.clock import Clock
from olly.platform.bus.messages import HandlerRegistry
from olly.platform.bus.runtime import BusRuntime
from olly.platform.runtime import Platform

FAST_BUS: dict[str, Any] = {
    "bus_retry_delays_ms": [10, 20, 40],
    "bus_lease_ttl_ms": 1500,
    "bus_heartbeat_ms": 200,
    "bus_poll_ms": 10,
    "bus_idle_poll_max_ms": 50,
}
TOPIC = ClaimSubmitted.TOPIC
GROUP = "billing-claims-consumer"


def claim_submitted(member: uuid.UUID | None = None, billed: str = "250.00", claim_id: uuid.UUID | None = None):
    return ClaimSubmitted(
        claim_id=claim_id or uuid.uuid4(),
        member_id=member or uuid.UUID(int=1),
        provider_id=uuid.UUID(int=2),
        plan_id=uuid.UUID(int=3),
        claim_type="PROFESSIONAL",
        total_billed_amount=billed,
        service_date=date(2026, 1, 15),
        submitted_at=datetime(2026, 1, 16, 10, 0, tzinfo=UTC),
        requires_prior_auth=False,
    )


def runtime(
    platform: Platform,
    registry: HandlerRegistry,
    *,
    clock: Clock | None = None,
    member_id: str | None = None,
    run_relay: bool = True,
    **overrides: Any,
) -> BusRuntime:
    settings = platform.settings.model_copy(update={**FAST_BUS, **overrides})
    extra: dict[str, Any] = {}
    if clock is not None:
        extra["clock"] = clock
    if member_id is not None:
        extra["member_id"] = member_id
    return BusRuntime(platform.db, settings, registry, platform.outbox, run_relay=run_relay, **extra)


def dead_letter(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> uuid.UUID:
    """A dead letter of ``tenant_id`` (an enrollment event eligibility failed on), written by the
    dispatcher's own dead-lettering, without running a bus."""
    from olly.kernel.errors import BusinessRuleViolation
    from olly.platform.bus.dispatch import DatabaseIdempotency, Dispatcher, RetryPolicy
    from olly.platform.bus.messages import Message

    now = platform.clock.now()
    message = Message(
        topic="enrollment.enrollment.submitted",
        partition=0,
        offset=0,
        key=str(policy_id),
        event_id=uuid.uuid4(),
        event_type="ENROLLMENT_SUBMITTED",
        schema_version="1",
        tenant_id=tenant_id,
        correlation_id=uuid.uuid4(),
        causation_id=None,
        occurred_at=now,
        created_at=now,
        payload={"enrollmentId": str(policy_id)},
    )
    dispatcher = Dispatcher(platform.db, platform.clock, RetryPolicy(), DatabaseIdempotency(platform.clock))
    failure = BusinessRuleViolation("read model unavailable")
    return dispatcher.dead_letter("eligibility-enrollment-consumer", message, failure, 3, None)
