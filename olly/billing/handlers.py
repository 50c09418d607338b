"""Billing's consumers: the first premium of a new individual-market enrollment, and approved
claims becoming claims payable."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Final

from olly.billing import recoveries, service
from olly.kernel.money import Money
from olly.platform.bus.messages import HandlerRegistry, Message
from olly.platform.db import UnitOfWork

ENROLLMENT_GROUP: Final = "billing-enrollment-consumer"
CLAIMS_GROUP: Final = "billing-claims-consumer"


def on_enrollment_submitted(uow: UnitOfWork, message: Message) -> None:
    """Individual market, new enrollment: issue the first invoice (the saga's next step: paid →
    enrollment activates it). Group enrollments are billed by the monthly list bill."""
    payload = message.payload
    if payload.get("groupId") is not None or payload.get("electionType") != "NEW":
        return
    service.issue_initial_invoice(uow, uuid.UUID(payload["enrollmentId"]), date.fromisoformat(payload["effectiveDate"]))


def on_claim_adjudicated(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    if payload.get("eventType") != "CLAIM_APPROVED":
        return
    service.record_approved_claim(
        uow,
        claim_id=uuid.UUID(payload["claimId"]),
        member_id=uuid.UUID(payload["memberId"]),
        provider_id=uuid.UUID(payload["providerId"]),
        paid=Money.parse(payload["paidAmount"], payload.get("currency", "USD")),
        payee=payload.get("payee", "PROVIDER"),
        approved_at=datetime.fromisoformat(payload["adjudicatedAt"]),
    )


def on_claim_reversed(uow: UnitOfWork, message: Message) -> None:
    payload = message.payload
    recoveries.record_reversal(
        uow,
        claim_id=uuid.UUID(payload["claimId"]),
        reversing_claim_id=uuid.UUID(payload["reversingClaimId"]),
        member_id=uuid.UUID(payload["memberId"]),
        provider_id=uuid.UUID(payload["providerId"]),
        payee=payload["payee"],
        amount=Money.parse(payload["reversedAmount"], payload.get("currency", "USD")),
        reversed_at=datetime.fromisoformat(payload["reversedAt"]),
    )


def register(registry: HandlerRegistry) -> None:
    registry.subscribe("enrollment.enrollment.submitted", ENROLLMENT_GROUP, on_enrollment_submitted)
    registry.subscribe("claims.claim.adjudicated", CLAIMS_GROUP, on_claim_adjudicated)
    registry.subscribe("claims.claim.reversed", CLAIMS_GROUP, on_claim_reversed)
