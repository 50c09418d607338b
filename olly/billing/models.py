"""Tables of the billing domain (seed 004: Invoice, Payment, LedgerEntry, InstallmentSchedule).

Ledger rows (``ledger_postings`` and ``ledger_entries``) are append-only: the database refuses an
UPDATE or DELETE of them (triggers on SQLite and PostgreSQL, see migration 0014_billing). A mistake
is corrected by a reversal posting that names the posting it reverses.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from olly.platform.crypto import phi_column
from olly.platform.db import Base, TenantScoped


class BillingAccount(TenantScoped, Base):
    """Billing's view of a policy_admin account (a group or a household): how it is billed.

    The row is also the lock every payment of the account takes first, so concurrent payments of
    one account apply one after the other (no lost update of invoice balances)."""

    __tablename__ = "billing_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "account_id"), {"schema": "billing"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]
    market: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    proration: Mapped[str] = mapped_column(String(16))
    """DAILY or WHOLE_MONTHS."""
    receives_aptc: Mapped[bool]
    """The household receives advance premium tax credit (ACA individual market): 3-month grace."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BillingRun(TenantScoped, Base):
    """One execution of the monthly billing run for a period (reruns add rows, never invoices twice)."""

    __tablename__ = "billing_runs"
    __table_args__ = {"schema": "billing"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(index=True)
    period_end: Mapped[date]
    invoice_count: Mapped[int]
    line_count: Mapped[int]
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]


class Invoice(TenantScoped, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "invoice_number"),
        Index("ix_invoices_open", "tenant_id", "account_id", "status"),
        {"schema": "billing"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    invoice_number: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(16))
    """LIST_BILL (a group), INDIVIDUAL (a household), INITIAL (an individual policy's first premium),
    INSTALLMENT, REINSTATEMENT (a month voided at a lapse, re-issued when the lapse is paid off) or
    ADJUSTMENT (a change into a month already billed: negative totals become account credit)."""
    period_start: Mapped[date]
    period_end: Mapped[date]
    issued_on: Mapped[date]
    due_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    employer_minor: Mapped[int] = mapped_column(BigInteger)
    member_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    """OPEN → PARTIALLY_PAID → PAID; VOID when cancelled (a reversal posting undoes it)."""
    status_reason: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]


class InvoiceLine(TenantScoped, Base):
    """One subscriber's premium (their tier, their family) for one period on an invoice.

    The unique index makes a billing run idempotent: a policy term is billed once a period
    (``PREMIUM``); a month voided at a lapse and paid again is re-issued once (``REINSTATEMENT``).
    ``ADJUSTMENT`` lines (a change into a month already billed) may be many."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        Index(
            "uq_invoice_lines_billed_once",
            "tenant_id",
            "policy_id",
            "term_id",
            "period_start",
            "kind",
            unique=True,
            sqlite_where=text("kind != 'ADJUSTMENT'"),
            postgresql_where=text("kind != 'ADJUSTMENT'"),
        ),
        {"schema": "billing"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing.invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="PREMIUM", server_default="PREMIUM")
    """PREMIUM (a billing run or a first invoice), REINSTATEMENT (a lapsed month paid again) or
    ADJUSTMENT (the difference a change into an already-billed month makes; negative when it lowers
    the premium; a voided adjustment re-issued at a reinstatement keeps this kind)."""
    policy_id: Mapped[uuid.UUID] = mapped_column(index=True)
    term_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID]
    """The subscriber's party id (ids only: names stay in policy_admin)."""
    plan_code: Mapped[str] = mapped_column(String(40))
    tier_code: Mapped[str] = mapped_column(String(16))
    covered_people: Mapped[int]
    period_start: Mapped[date]
    period_end: Mapped[date]
    covered_from: Mapped[date]
    covered_to: Mapped[date]
    proration: Mapped[str] = mapped_column(String(16))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    employer_minor: Mapped[int] = mapped_column(BigInteger)
    member_minor: Mapped[int] = mapped_column(BigInteger)


class InstallmentSchedule(TenantScoped, Base):
    """An annual premium split into installments that sum to it exactly."""

    __tablename__ = "installment_schedules"
    __table_args__ = (UniqueConstraint("tenant_id", "policy_id", "term_id"), {"schema": "billing"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]
    policy_id: Mapped[uuid.UUID]
    term_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    remainder_to: Mapped[str] = mapped_column(String(8))
    installments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """``[{"number": 1, "dueDate": "2026-01-01", "amountMinor": 8337}, …]``."""
    created_at: Mapped[datetime]


class Payment(TenantScoped, Base):
    """A premium payment received. Only the method and the bank/processor reference are kept: never
    a card number, account number or anything else of the payment instrument."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("tenant_id", "account_id", "method", "reference"), {"schema": "billing"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(index=True)
    method: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    applied_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger)
    """What was left after paying every open invoice: the account's credit."""
    received_at: Mapped[datetime]


class PaymentAllocation(TenantScoped, Base):
    """Money applied to an invoice: from a payment, or from the account's credit (payment_id null)."""

    __tablename__ = "payment_allocations"
    __table_args__ = {"schema": "billing"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing.invoices.id"), index=True)
    account_id: Mapped[uuid.UUID]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(8))
    """PAYMENT or CREDIT."""
    created_at: Mapped[datetime]


class LedgerPosting(TenantScoped, Base):
    """One balanced journal entry: its lines (``ledger_entries``) debit and credit the same total."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        Index("ix_ledger_postings_reference", "tenant_id", "reference_type", "reference_id"),
        {"schema": "billing"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    """The billing account (group or household) concerned; null for claim postings."""
    reference_type: Mapped[str] = mapped_column(String(16))
    reference_id: Mapped[uuid.UUID]
    reverses_id: Mapped[uuid.UUID | None]
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime]
    effective_date: Mapped[date]


class LedgerEntry(TenantScoped, Base):
    __tablename__ = "ledger_entries"
    __table_args__ = {"schema": "billing"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    posting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing.ledger_postings.id"), index=True)
    ledger_account: Mapped[str] = mapped_column(String(24))
    account_id: Mapped[uuid.UUID | None]
    currency: Mapped[str] = mapped_column(String(3))
    debit_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime]

    # Declared only so that a flush inserts the posting before its entries; never loaded.
    posting: Mapped[LedgerPosting] = relationship(lazy="raise", viewonly=False)


class GracePeriod(TenantScoped, Base):
    """A policy in grace after its premium on ``invoice_id`` went unpaid."""

    __tablename__ = "grace_periods"
    __table_args__ = (UniqueConstraint("tenant_id", "invoice_id", "policy_id"), {"schema": "billing"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID]
    policy_id: Mapped[uuid.UUID] = mapped_column(index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(index=True)
    rule: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date]
    started_on: Mapped[date]
    end_date: Mapped[date]
    coverage_end_if_expired: Mapped[date]
    claims_pend_from: Mapped[date]
    premium_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    """ACTIVE → CURED (paid in full) or EXPIRED (coverage ends for non-payment) → REINSTATED (every
    premium owed paid by ``reinstate_until``)."""
    resolved_at: Mapped[datetime | None]
    reinstate_until: Mapped[date | None]
    """Set at expiry when the plan allows reinstatement: the last day a payment of everything owed
    reinstates the policy (the grace end date + the plan's ``reinstatement_days``)."""


class ClaimPayable(TenantScoped, Base):
    """An approved claim's payment owed to its payee, until a payment run pays it.

    A claim has one payable (``part`` 0) and, when a re-adjudication pays more after it was paid, a
    supplement for each increase (``part`` 1, 2, …); see ``olly.billing.readjudication``."""

    __tablename__ = "claim_payables"
    __table_args__ = (
        UniqueConstraint("tenant_id", "claim_id", "part"),
        Index("ix_claim_payables_payee_npi", "tenant_id", "payee_npi"),
        {"schema": "billing"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    claim_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID]
    provider_id: Mapped[uuid.UUID]
    """The provider id the claim carries: claims' id derived from the NPI until the provider registry
    is known to claims, the registry's after (one NPI may so have claims under two ids)."""
    payee: Mapped[str] = mapped_column(String(8))
    """PROVIDER or MEMBER (a reimbursement)."""
    payee_id: Mapped[uuid.UUID]
    payee_npi: Mapped[str | None] = mapped_column(String(10))
    """A provider payee's billing NPI (the claim's): who a payment run pays. Null for a member, or
    for a claim claims does not know (then the provider id stands for the payee)."""
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    approved_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), index=True)
    """UNPAID, PAID or REVERSED (the claim was voided or replaced before it was paid, or a
    re-adjudication withdrew an unpaid supplement or member reimbursement)."""
    claim_payment_id: Mapped[uuid.UUID | None]
    part: Mapped[int] = mapped_column(default=0, server_default="0")
    """0: the claim's payable; 1, 2, …: supplements owed after it was paid (a re-adjudication paid more)."""
    adjudication_sequence: Mapped[int | None]
    """The claim's adjudication whose paid amount this row brings the claim to (claims' sequence;
    null when the event did not carry one)."""
    reverses_sequence: Mapped[int | None]
    """A supplement's: the adjudication it corrects (reported reversed on the 835 before the new one)."""


class PaymentRun(TenantScoped, Base):
    """One daily claim payment run."""

    __tablename__ = "payment_runs"
    __table_args__ = {"schema": "billing"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    run_date: Mapped[date]
    payment_count: Mapped[int]
    claim_count: Mapped[int]
    total_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class ClaimPayment(TenantScoped, Base):
    """One outgoing payment to one payee in a payment run (an EFT or a cheque), covering claims.

    A provider is paid once a run per billing NPI (and currency), whatever provider ids its claims
    carry: the 835 has one payee per NPI."""

    __tablename__ = "claim_payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "trace_number"),
        Index("ix_claim_payments_payee_npi", "tenant_id", "payee_npi"),
        {"schema": "billing"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing.payment_runs.id"), index=True)
    payee: Mapped[str] = mapped_column(String(8))
    payee_id: Mapped[uuid.UUID]
    """The member, or the provider: the registry's id for the NPI when it has one, else the id
    claims gives the NPI."""
    payee_npi: Mapped[str | None] = mapped_column(String(10))
    """The provider payee's billing NPI (null for a member, or a payee known only by its id)."""
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(8))
    """ACH (an EFT to a provider) or CHECK."""
    trace_number: Mapped[str] = mapped_column(String(32))
    paid_on: Mapped[date]
    created_at: Mapped[datetime]


class PayeeBankAccount(TenantScoped, Base):
    """Where a provider's EFT goes: the bank's ABA routing number and the account, both encrypted.

    Kept under a provider id; a payment to the same billing NPI under another of its ids finds it
    too (``bank_accounts.payee_bank_for_payment``).

    The 835 of an EFT names both banks (BPR12–BPR15); without this row the gateway writes the 835 as
    a cheque (see docs/edi.md)."""

    __tablename__ = "payee_bank_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "payee_id"), {"schema": "billing"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    payee_id: Mapped[uuid.UUID]
    """The provider's id (the payee id of its claim payments)."""
    routing_number: Mapped[str] = phi_column("text", nullable=False)
    account_number: Mapped[str] = phi_column("text", nullable=False)
    account_type: Mapped[str] = mapped_column(String(2))
    """DA checking (demand deposit) or SG savings (835 BPR14)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ClaimRecovery(TenantScoped, Base):
    """A paid claim's payment taken back after a void or replacement, or the part of it a
    re-adjudication no longer pays: netted from the payee's next claim payments until recovered (a
    negative balance carried from run to run)."""

    __tablename__ = "claim_recoveries"
    __table_args__ = (UniqueConstraint("tenant_id", "claim_id", "part"), {"schema": "billing"})

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    claim_id: Mapped[uuid.UUID]
    """The voided or replaced claim whose payment is recovered."""
    reversing_claim_id: Mapped[uuid.UUID]
    payee: Mapped[str] = mapped_column(String(8))
    payee_id: Mapped[uuid.UUID]
    payee_npi: Mapped[str | None] = mapped_column(String(10))
    """The provider payee's billing NPI: netted from that NPI's next payments, whichever provider id
    they are made under."""
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    remaining_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), index=True)
    """OPEN (something left to recover) or RECOVERED."""
    recorded_at: Mapped[datetime]
    last_payment_id: Mapped[uuid.UUID | None]
    """The latest claim payment it was netted against."""
    part: Mapped[int] = mapped_column(default=0, server_default="0")
    """0: the claim was voided or replaced (``reversing_claim_id`` the void or replacement); 1, 2, …:
    a re-adjudication paid less than was already paid (``reversing_claim_id`` the claim itself)."""
    adjudication_sequence: Mapped[int | None]
    """A re-adjudication's recovery: the claim's adjudication that lowered its amount."""


class RecoveryApplication(TenantScoped, Base):
    """What one claim payment took back of one recovery (``recoveries.net_against``): the payment's
    835 names the recovered claim and the amount in a provider-level adjustment."""

    __tablename__ = "claim_recovery_applications"
    __table_args__ = {"schema": "billing"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    recovery_id: Mapped[uuid.UUID] = mapped_column(index=True)
    claim_payment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
