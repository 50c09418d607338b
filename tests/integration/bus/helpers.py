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
