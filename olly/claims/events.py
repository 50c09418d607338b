"""Events the claims domain publishes (see docs/events.md for the generated catalog).

Ids are opaque UUIDs; money is a decimal string with its ISO currency; no names, diagnoses or
other PHI travel in these payloads: a consumer that needs more asks the claims domain's public API.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from olly.kernel.events import Amount, Currency, EventPayload


class ClaimSubmitted(EventPayload):
    """A claim was received and accepted for adjudication."""

    TOPIC: ClassVar[str] = "claims.claim.submitted"

    event_type: Literal["CLAIM_SUBMITTED"] = "CLAIM_SUBMITTED"
    claim_id: uuid.UUID
    member_id: uuid.UUID
    provider_id: uuid.UUID
    plan_id: uuid.UUID
    claim_type: Literal["PROFESSIONAL", "INSTITUTIONAL", "DENTAL", "PHARMACY"]
    total_billed_amount: Amount
    currency: Currency = "USD"
    service_date: date
    submitted_at: datetime
    requires_prior_auth: bool
    prior_auth_id: uuid.UUID | None = None


class ClaimApproved(EventPayload):
    """A claim was approved, in full or in part; the amounts are the claim's totals over its lines."""

    TOPIC: ClassVar[str] = "claims.claim.adjudicated"

    event_type: Literal["CLAIM_APPROVED"] = "CLAIM_APPROVED"
    claim_id: uuid.UUID
    member_id: uuid.UUID
    provider_id: uuid.UUID
    status: Literal["APPROVED", "PARTIALLY_APPROVED"]
    total_billed_amount: Amount
    allowed_amount: Amount
    paid_amount: Amount
    member_responsibility: Amount
    deductible_applied: Amount
    copay_applied: Amount
    coinsurance_applied: Amount
    currency: Currency = "USD"
    adjudicated_at: datetime
    eob_s3_key: str | None = None
    """Object-store key of the explanation of benefits document (the document itself is encrypted)."""
    payee: Literal["PROVIDER", "MEMBER"] = "PROVIDER"
    """Who billing pays: the provider, or the member for a member reimbursement claim (schema v2)."""
    adjudication_sequence: int | None = None
    """Which adjudication of the claim this is (1, 2, …; schema v3): a re-adjudication (an appeal
    overturned, an authorisation decided after a final result) publishes a higher one, so a consumer
    tells it from a redelivery of an earlier result."""
    billing_npi: str | None = None
    """The claim's billing provider NPI (schema v4), whom billing pays a provider claim to; absent
    from earlier events, whose consumers ask ``claims.public.billing_npis``."""


class ClaimDenied(EventPayload):
    """A claim was denied; the reason is a CARC with its group code (``CO-197``)."""

    TOPIC: ClassVar[str] = "claims.claim.adjudicated"

    event_type: Literal["CLAIM_DENIED"] = "CLAIM_DENIED"
    claim_id: uuid.UUID
    member_id: uuid.UUID
    provider_id: uuid.UUID
    denial_reason_code: str
    denial_reason_text: str
    appeal_deadline: date
    adjudicated_at: datetime
    adjudication_sequence: int | None = None
    """Which adjudication of the claim this is (1, 2, …; schema v3): see ``ClaimApproved``."""


class ClaimPaid(EventPayload):
    """Payment for an adjudicated claim was issued (billing publishes; claims mirrors it for audit)."""

    TOPIC: ClassVar[str] = "claims.claim.paid"

    event_type: Literal["CLAIM_PAID"] = "CLAIM_PAID"
    claim_id: uuid.UUID
    member_id: uuid.UUID
    provider_id: uuid.UUID
    payment_id: uuid.UUID
    paid_amount: Amount
    currency: Currency = "USD"
    payee: Literal["PROVIDER", "MEMBER"]
    paid_at: datetime


class ClaimReversed(EventPayload):
    """A paid claim was voided (frequency 8) or replaced (7): its payment is taken back (an Olly extension).

    ``claimId`` is the earlier claim, ``reversingClaimId`` the void or replacement; ``reversedAmount``
    is what the earlier claim paid (positive). Billing recovers it from the payee's next payments.
    """

    TOPIC: ClassVar[str] = "claims.claim.reversed"

    event_type: Literal["CLAIM_REVERSED"] = "CLAIM_REVERSED"
    claim_id: uuid.UUID
    reversing_claim_id: uuid.UUID
    reason: Literal["VOID", "REPLACEMENT"]
    member_id: uuid.UUID
    provider_id: uuid.UUID
    payee: Literal["PROVIDER", "MEMBER"]
    reversed_amount: Amount
    currency: Currency = "USD"
    reversed_at: datetime


class PriorAuthDecided(EventPayload):
    """A prior authorization was approved, denied or pended; a denial carries a specific reason code."""

    TOPIC: ClassVar[str] = "claims.prior_auth.decision"

    event_type: Literal["PRIOR_AUTH_APPROVED", "PRIOR_AUTH_DENIED", "PRIOR_AUTH_PENDED"]
    prior_auth_id: uuid.UUID
    member_id: uuid.UUID
    provider_id: uuid.UUID
    expedited: bool
    approved_units: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    reason_code: str | None = None
    decided_at: datetime


class AppealResolved(EventPayload):
    """An appeal was resolved: the adverse determination upheld or overturned."""

    TOPIC: ClassVar[str] = "claims.appeal.resolved"

    event_type: Literal["APPEAL_UPHELD", "APPEAL_OVERTURNED"]
    appeal_id: uuid.UUID
    claim_id: uuid.UUID
    member_id: uuid.UUID
    level: Literal["INTERNAL", "EXTERNAL"] = "INTERNAL"
    resolved_at: datetime


class AccumulatorUpdated(EventPayload):
    """A member's (and family's) deductible and out-of-pocket spending moved (an Olly extension).

    Carries the totals used after the move, per network, for the plan year; ids and amounts only.
    Family amounts are present when the member is covered with family.
    """

    TOPIC: ClassVar[str] = "claims.accumulator.updated"

    event_type: Literal["ACCUMULATOR_UPDATED"] = "ACCUMULATOR_UPDATED"
    member_id: uuid.UUID
    family_id: uuid.UUID | None = None
    claim_id: uuid.UUID
    plan_year: date
    currency: Currency = "USD"
    deductible_used_in_network: Amount
    deductible_used_out_of_network: Amount
    out_of_pocket_used_in_network: Amount
    out_of_pocket_used_out_of_network: Amount
    family_deductible_used_in_network: Amount | None = None
    family_deductible_used_out_of_network: Amount | None = None
    family_out_of_pocket_used_in_network: Amount | None = None
    family_out_of_pocket_used_out_of_network: Amount | None = None
    updated_at: datetime
