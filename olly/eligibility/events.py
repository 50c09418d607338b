"""Events the eligibility domain publishes (see docs/events.md).

The catalog's example of ``COVERAGE_VERIFIED`` also shows the member number; it is left out here
because a health plan beneficiary number is a HIPAA identifier and events travel unencrypted:
consumers key on the opaque ``memberId``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from olly.kernel.events import Amount, Currency, EventPayload


class CoverageVerified(EventPayload):
    """A coverage check was answered: covered (with what is left to meet) or not found."""

    TOPIC: ClassVar[str] = "eligibility.coverage.verified"

    event_type: Literal["COVERAGE_VERIFIED", "COVERAGE_NOT_FOUND"]
    member_id: uuid.UUID
    plan_id: uuid.UUID | None = None
    group_number: str | None = None
    effective_date: date | None = None
    termination_date: date | None = None
    coverage_type: Literal["MEDICAL", "DENTAL", "VISION", "PHARMACY"] = "MEDICAL"
    network_tier: Literal["IN_NETWORK", "OUT_OF_NETWORK", "TIER_1", "TIER_2"] | None = None
    deductible_remaining: Amount | None = None
    oop_max_remaining: Amount | None = None
    currency: Currency = "USD"
    verified_at: datetime


class CoverageTerminated(EventPayload):
    """A member's coverage ended on ``terminationDate`` (the last covered day)."""

    TOPIC: ClassVar[str] = "eligibility.coverage.terminated"

    event_type: Literal["COVERAGE_TERMINATED"] = "COVERAGE_TERMINATED"
    member_id: uuid.UUID
    plan_id: uuid.UUID
    coverage_type: Literal["MEDICAL", "DENTAL", "VISION", "PHARMACY"] = "MEDICAL"
    termination_date: date
    reason: Literal["VOLUNTARY", "NON_PAYMENT", "LOSS_OF_ELIGIBILITY", "PLAN_CHANGE", "OTHER"]
    terminated_at: datetime
