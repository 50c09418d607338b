"""Payload models speak the catalog's wire format."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from olly.billing.events import PaymentMissed
from olly.claims.events import ClaimApproved, ClaimDenied
from olly.enrollment.events import EnrollmentSubmitted
from olly.kernel.money import Money

ID = uuid.UUID("0190a000-0000-7000-8000-000000000001")


def test_claim_approved_matches_the_seed_example() -> None:
    event = ClaimApproved(
        claim_id=ID,
        member_id=ID,
        provider_id=ID,
        status="APPROVED",
        total_billed_amount=Money.parse("250.00", "USD").to_decimal_string(),
        allowed_amount="180.00",
        paid_amount="144.00",
        member_responsibility="36.00",
        deductible_applied="0.00",
        copay_applied="36.00",
        coinsurance_applied="0.00",
        adjudicated_at=datetime(2026, 1, 17, 14, 30, tzinfo=UTC),
        eob_s3_key="eob/2026/01/x.pdf",
    )
    assert event.wire() == {
        "eventType": "CLAIM_APPROVED",
        "schemaVersion": "1.0",
        "claimId": str(ID),
        "memberId": str(ID),
        "providerId": str(ID),
        "status": "APPROVED",
        "totalBilledAmount": "250.00",
        "allowedAmount": "180.00",
        "paidAmount": "144.00",
        "memberResponsibility": "36.00",
        "deductibleApplied": "0.00",
        "copayApplied": "36.00",
        "coinsuranceApplied": "0.00",
        "currency": "USD",
        "adjudicatedAt": "2026-01-17T14:30:00Z",
        "eobS3Key": "eob/2026/01/x.pdf",
        "payee": "PROVIDER",  # Olly's addition (schema v2): billing pays the provider or the member
        "adjudicationSequence": None,  # Olly's addition (schema v3): a re-adjudication's is higher
        "billingNpi": None,  # Olly's addition (schema v4): whom billing pays a provider claim to
    }
    assert ClaimApproved.model_validate(event.wire()) == event


def test_grace_period_keeps_premium_cents_an_integer() -> None:
    event = PaymentMissed(
        event_type="GRACE_PERIOD_STARTED",
        member_id=ID,
        invoice_id=ID,
        grace_period_end_date=date(2026, 3, 30),
        premium_cents=48000,
        missed_at=datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
    )
    wire = event.wire()
    assert wire["premiumCents"] == 48000
    assert wire["gracePeriodEndDate"] == "2026-03-30"
    assert wire["missedAt"] == "2026-02-28T23:59:59Z"


@pytest.mark.parametrize("amount", ["250.0.0", "1e3", "250,00", "-", "00.10"])
def test_money_must_be_a_decimal_string(amount: str) -> None:
    with pytest.raises(ValidationError):
        EnrollmentSubmitted(
            enrollment_id=ID,
            member_id=ID,
            plan_id=ID,
            election_type="NEW",
            effective_date=date(2026, 1, 1),
            tier_code="EE+FAM",
            member_premium=amount,
            total_premium="1200.00",
            dependent_count=2,
            submitted_at=datetime(2025, 11, 15, 10, tzinfo=UTC),
        )


def test_an_event_type_outside_the_model_is_refused() -> None:
    with pytest.raises(ValidationError):
        ClaimDenied.model_validate(
            {
                "eventType": "CLAIM_APPROVED",
                "claimId": str(ID),
                "memberId": str(ID),
                "providerId": str(ID),
                "denialReasonCode": "CO-197",
                "denialReasonText": "Precertification absent",
                "appealDeadline": "2026-07-16",
                "adjudicatedAt": "2026-01-17T14:30:00Z",
            }
        )


def test_payloads_refuse_unknown_fields() -> None:
    wire = PaymentMissed(
        event_type="PAYMENT_MISSED",
        member_id=ID,
        invoice_id=ID,
        grace_period_end_date=date(2026, 3, 30),
        premium_cents=1,
        missed_at=datetime(2026, 2, 28, tzinfo=UTC),
    ).wire()
    with pytest.raises(ValidationError):
        PaymentMissed.model_validate({**wire, "memberName": "someone"})
