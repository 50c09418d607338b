"""What other domains may ask billing synchronously. Every result is frozen.

* ``grace_status``: claims asks it while adjudicating a line — a member in a premium grace period
  has claims pended for the months the rule says (ACA with APTC: months 2–3; others: after the
  paid-through date), and paid normally once the premium arrives.
* ``initial_premium_paid``: enrollment asks it when a payment arrives, to activate an individual
  policy whose first premium is now paid.
* ``lapse_reinstated``: enrollment asks it before terminating a lapsed policy, so a reinstatement
  paid before the termination is processed does not end the coverage anyway.
* ``payment_run``: the EDI gateway builds an 835 from it (one per payee payment).
* ``claim_payment``: whether and how one claim was paid (a 276/277 answer).
* ``provider_payments``: the payments made to providers, by id or billing NPI (a provider portal's
  remittances).
* ``invoice_numbers``: the numbers of an account's invoices (a portal's payment record names the
  invoices each payment went to).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from olly.billing import bank_accounts, service
from olly.billing.repository import BillingRepository
from olly.platform.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class GraceStatus:
    policy_id: uuid.UUID
    member_id: uuid.UUID
    """The subscriber."""
    rule: str
    """APTC_MONTHS (three months for enrollees with advance premium tax credit) or DAYS."""
    status: str
    """ACTIVE, CURED, EXPIRED or REINSTATED (lapsed, then paid up within the plan's window)."""
    started_on: date
    grace_period_end_date: date
    claims_pend_from: date
    coverage_end_if_expired: date
    claims_pend: bool
    """Whether a claim with a date of service of ``on_date`` must pend (grace still running and
    the date falls in the pended months)."""


def grace_status(uow: UnitOfWork, policy_or_member_id: uuid.UUID, on_date: date) -> GraceStatus | None:
    """The grace period that concerns ``on_date`` for a policy (by id) or its subscriber (by party
    id): the running one if any, else the latest that ended; None when there was never one.

    The claims domain pends a line when ``claims_pend`` is true; it denies nothing on this basis
    (an expired grace ends coverage through enrollment, which claims learns as usual)."""
    graces = BillingRepository(uow).graces_of(policy_or_member_id)
    if not graces:
        return None
    active = [g for g in graces if g.status == "ACTIVE"]
    grace = active[-1] if active else graces[-1]
    return GraceStatus(
        policy_id=grace.policy_id,
        member_id=grace.member_id,
        rule=grace.rule,
        status=grace.status,
        started_on=grace.started_on,
        grace_period_end_date=grace.end_date,
        claims_pend_from=grace.claims_pend_from,
        coverage_end_if_expired=grace.coverage_end_if_expired,
        claims_pend=grace.status == "ACTIVE" and grace.claims_pend_from <= on_date,
    )


def lapse_reinstated(uow: UnitOfWork, invoice_id: uuid.UUID, policy_id: uuid.UUID) -> bool:
    """Whether the grace period that ``invoice_id`` started for ``policy_id`` lapsed and was then
    paid up within the plan's reinstatement window (enrollment then keeps or restores the coverage)."""
    return any(
        grace.policy_id == policy_id and grace.status == "REINSTATED"
        for grace in BillingRepository(uow).graces_of_invoice(invoice_id)
    )


def initial_premium_paid(uow: UnitOfWork, policy_id: uuid.UUID) -> bool:
    """Whether an individual policy's first invoice (the binder payment) is paid in full."""
    return service.initial_premium_paid(uow, policy_id)


@dataclass(frozen=True, slots=True)
class PaidClaim:
    claim_id: uuid.UUID
    member_id: uuid.UUID
    paid_minor: int
    adjudication_sequence: int | None = None
    """The claim's adjudication paid (claims' sequence; None when billing was not told: its latest)."""
    reverses_sequence: int | None = None
    """A supplement (a re-adjudication paid more after the claim was paid): the earlier adjudication
    it corrects, which the 835 reports reversed (CLP02 22) before the new one."""
    is_supplement: bool = False


@dataclass(frozen=True, slots=True)
class RecoveredClaim:
    """What a payment took back of an earlier claim's payment (``olly.billing.recoveries``)."""

    claim_id: uuid.UUID
    """The voided, replaced or re-adjudicated claim whose payment was recovered."""
    amount_minor: int
    part: int = 0
    """0: the claim was voided or replaced; 1, 2, …: a re-adjudication paid less than was paid."""
    reversal_reported: bool = False
    """The replacement that reversed it was paid by an earlier payment, whose 835 carried the
    reversal (CLP02 22): what is recovered now is a balance forwarded then."""


@dataclass(frozen=True, slots=True)
class PayeePayment:
    payment_id: uuid.UUID
    payee: str
    """PROVIDER or MEMBER."""
    payee_id: uuid.UUID
    currency: str
    amount_minor: int
    paid_on: date
    method: str
    """ACH (EFT; 835 BPR04 "ACH") or CHECK (BPR04 "CHK")."""
    trace_number: str
    """The EFT trace or cheque number (835 TRN02)."""
    claims: tuple[PaidClaim, ...]
    payee_npi: str | None = None
    """A provider payee's billing NPI: one payment per NPI a run (null for a member)."""
    recovered: tuple[RecoveredClaim, ...] = ()
    """What this payment took back, claim by claim: Σ claims' amounts − Σ recovered = the amount."""


@dataclass(frozen=True, slots=True)
class PaymentRunAdvice:
    run_id: uuid.UUID
    run_date: date
    payments: tuple[PayeePayment, ...]


def payment_run(uow: UnitOfWork, run_id: uuid.UUID) -> PaymentRunAdvice | None:
    """One claim payment run as the 835 needs it: per payee, the payment and the claims it pays
    (Σ claim paid amounts = the payment amount + what it recovered of voided or replaced claims'
    earlier payments, see ``olly.billing.recoveries``; the 835 states that difference as a
    provider-level adjustment)."""
    repo = BillingRepository(uow)
    run = repo.payment_run(run_id)
    if run is None:
        return None
    payments = []
    for payment in repo.claim_payments(run_id):
        claims = tuple(
            PaidClaim(claim_id, member_id, amount_minor, sequence, reverses, part > 0)
            for claim_id, member_id, amount_minor, sequence, reverses, part in repo.claims_of_payment(payment.id)
        )
        payments.append(
            PayeePayment(
                payment.id,
                payment.payee,
                payment.payee_id,
                payment.currency,
                payment.amount_minor,
                payment.paid_on,
                payment.method,
                payment.trace_number,
                claims,
                payment.payee_npi,
                tuple(
                    RecoveredClaim(claim_id, amount, part, reported)
                    for claim_id, part, amount, reported in repo.recoveries_of_payment(payment.id)
                ),
            )
        )
    return PaymentRunAdvice(run.id, run.run_date, tuple(payments))


def recovered_before(uow: UnitOfWork, payment_id: uuid.UUID, claim_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What earlier payments took back of each of these voided or replaced claims' payment (minor
    units, per claim; none: left out). A payment whose 835 reverses a replaced claim (CLP02 22) that
    earlier payments already recovered from (each a PLB ``WO`` then) offsets that much."""
    return BillingRepository(uow).recovered_before(payment_id, set(claim_ids))


@dataclass(frozen=True, slots=True)
class ClaimPaymentView:
    claim_id: uuid.UUID
    paid_minor: int
    currency: str
    paid_on: date
    method: str
    trace_number: str


def claim_payment(uow: UnitOfWork, claim_id: uuid.UUID) -> ClaimPaymentView | None:
    """The latest payment that paid a claim, with what its payments came to (its payable and any
    supplement a re-adjudication added); None while it is unpaid (or owes nothing)."""
    repo = BillingRepository(uow)
    paid = [p for p in repo.claim_payables(claim_id) if p.status == "PAID"]
    latest = paid[-1].claim_payment_id if paid else None
    payment = repo.claim_payment(latest) if latest is not None else None
    if payment is None:
        return None
    return ClaimPaymentView(
        claim_id,
        sum(p.amount_minor for p in paid),
        paid[-1].currency,
        payment.paid_on,
        payment.method,
        payment.trace_number,
    )


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    run_id: uuid.UUID
    payment_id: uuid.UUID
    payee_id: uuid.UUID
    currency: str
    amount_minor: int
    paid_on: date
    method: str
    trace_number: str
    claim_count: int
    payee_npi: str | None = None


def provider_payments(
    uow: UnitOfWork, payee_ids: Iterable[uuid.UUID], *, npis: Iterable[str] = (), limit: int = 100
) -> list[ProviderPayment]:
    """The claim payments made to these provider payees, newest first: those made under these ids
    and those made to these billing NPIs (under whichever provider id: claims' id derived from the
    NPI before the registry's was known, or the registry's)."""
    repo = BillingRepository(uow)
    return [
        ProviderPayment(
            p.run_id,
            p.id,
            p.payee_id,
            p.currency,
            p.amount_minor,
            p.paid_on,
            p.method,
            p.trace_number,
            len(repo.claims_of_payment(p.id)),
            p.payee_npi,
        )
        for p in repo.payments_to("PROVIDER", sorted(set(payee_ids)), sorted(set(npis)), limit=limit)
    ]


def invoice_numbers(uow: UnitOfWork, account_id: uuid.UUID, invoice_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The invoice numbers of those of ``invoice_ids`` that belong to ``account_id`` (others are left out)."""
    repo = BillingRepository(uow)
    found = {}
    for invoice_id in sorted(set(invoice_ids)):
        invoice = repo.invoice(invoice_id)
        if invoice is not None and invoice.account_id == account_id:
            found[invoice_id] = invoice.invoice_number
    return found


@dataclass(frozen=True, slots=True)
class PayeeBank:
    """A payee's bank for an EFT: ABA routing number, account number, DA checking / SG savings."""

    routing_number: str = field(repr=False)
    account_number: str = field(repr=False)
    account_type: str = "DA"


def payee_bank_account(uow: UnitOfWork, payee_id: uuid.UUID) -> PayeeBank | None:
    """The bank account a provider's EFTs go to, if billing has one (the 835's BPR13–BPR15): the one
    kept under ``payee_id``, else one kept under another provider id of the same billing NPI."""
    row = bank_accounts.payee_bank_for_payment(uow, payee_id)
    return PayeeBank(row.routing_number, row.account_number, row.account_type) if row is not None else None
