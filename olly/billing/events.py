"""Events the billing domain publishes (see docs/events.md).

``premiumCents`` on ``billing.payment.missed`` stays an integer of minor units, as the catalog has it;
every other amount is a decimal string with its currency.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from olly.kernel.events import Amount, Currency, EventPayload


class InvoiceGenerated(EventPayload):
    """A premium invoice was generated for a billing account (a group or a household)."""

    TOPIC: ClassVar[str] = "billing.invoice.generated"

    event_type: Literal["INVOICE_GENERATED"] = "INVOICE_GENERATED"
    invoice_id: uuid.UUID
    account_id: uuid.UUID
    period_start: date
    period_end: date
    due_date: date
    total_amount: Amount
    currency: Currency = "USD"
    generated_at: datetime


class PaymentReceived(EventPayload):
    """A premium payment was received and applied."""

    TOPIC: ClassVar[str] = "billing.payment.received"

    event_type: Literal["PAYMENT_RECEIVED"] = "PAYMENT_RECEIVED"
    payment_id: uuid.UUID
    account_id: uuid.UUID
    invoice_id: uuid.UUID | None = None
    amount: Amount
    currency: Currency = "USD"
    method: Literal["ACH", "CARD", "CHECK", "WIRE", "OTHER"]
    received_at: datetime


class PaymentMissed(EventPayload):
    """A premium went unpaid: the payment was missed, a grace period started, or it expired."""

    TOPIC: ClassVar[str] = "billing.payment.missed"

    event_type: Literal["PAYMENT_MISSED", "GRACE_PERIOD_STARTED", "GRACE_PERIOD_EXPIRED"]
    member_id: uuid.UUID
    invoice_id: uuid.UUID
    grace_period_end_date: date
    premium_cents: int
    currency: Currency = "USD"
    missed_at: datetime
    enrollment_id: uuid.UUID | None = None
    """The policy concerned (optional, added after 1.0: ids only)."""
    coverage_end_date: date | None = None
    """On GRACE_PERIOD_EXPIRED: the last covered day (back-dated to the end of grace month 1 for
    enrollees with advance premium tax credit; the last paid-through day otherwise)."""


class PaymentCompleted(EventPayload):
    """An outgoing payment (a claim payment to a provider or a member) completed."""

    TOPIC: ClassVar[str] = "billing.payment.completed"

    event_type: Literal["PAYMENT_COMPLETED"] = "PAYMENT_COMPLETED"
    payment_id: uuid.UUID
    claim_id: uuid.UUID | None = None
    payee: Literal["PROVIDER", "MEMBER"]
    payee_id: uuid.UUID
    amount: Amount
    currency: Currency = "USD"
    completed_at: datetime


class ReinstatementPaid(EventPayload):
    """A policy that lapsed for non-payment was paid up within its reinstatement window.

    Everything owed was paid within the plan's reinstatement window: the voided months are
    re-issued and paid, and coverage may be restored from ``reinstatedFrom`` with no gap (an Olly
    topic beyond the seed's catalog: ids and amounts)."""

    TOPIC: ClassVar[str] = "billing.reinstatement.paid"

    event_type: Literal["REINSTATEMENT_PAID"] = "REINSTATEMENT_PAID"
    enrollment_id: uuid.UUID
    """The policy to reinstate."""
    member_id: uuid.UUID
    """The subscriber (party id)."""
    account_id: uuid.UUID
    invoice_id: uuid.UUID
    """The invoice whose unpaid premium started the grace period that lapsed."""
    coverage_end_date: date
    """The last covered day the non-payment termination set (the lapse being undone)."""
    reinstated_from: date
    reinstate_until: date
    """The last day of the plan's reinstatement window."""
    amount: Amount
    """What the re-issued months came to (paid from the account's credit)."""
    currency: Currency = "USD"
    payment_id: uuid.UUID | None = None
    """The payment that completed it."""
    paid_at: datetime


class PaymentRunCompleted(EventPayload):
    """A claim payment run completed: every payment of the run is made (the EDI gateway writes the 835s)."""

    TOPIC: ClassVar[str] = "billing.payment.completed"

    event_type: Literal["PAYMENT_RUN_COMPLETED"] = "PAYMENT_RUN_COMPLETED"
    payment_run_id: uuid.UUID
    run_date: date
    payment_count: int
    """Payments made by the run (one per payee and currency)."""
    claim_count: int
    completed_at: datetime
