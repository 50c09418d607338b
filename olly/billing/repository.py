"""Every query of the billing domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from olly.billing.models import (
    BillingAccount,
    BillingRun,
    ClaimPayable,
    ClaimPayment,
    ClaimRecovery,
    GracePeriod,
    InstallmentSchedule,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerPosting,
    PayeeBankAccount,
    Payment,
    PaymentAllocation,
    PaymentRun,
    RecoveryApplication,
)
from olly.billing.rules import LedgerAccount, PostingKind
from olly.platform.db import Base, UnitOfWork, insert_values, table_of

OPEN_STATUSES = ("OPEN", "PARTIALLY_PAID")
LAPSE_REASON = "COVERAGE_TERMINATED_NON_PAYMENT"
"""Why the job voids a lapsed policy's later months (and what reinstatement re-issues)."""


@dataclass(slots=True)
class UnpaidClaim:
    """An unpaid payable as a payment run reads it: its columns, not an ORM object (a run pays
    thousands, and loading then flushing each as an object cost more than the run's own work).
    ``payee_npi`` is set by the run when it learns the NPI of a payable recorded without it."""

    id: uuid.UUID
    claim_id: uuid.UUID
    member_id: uuid.UUID
    provider_id: uuid.UUID
    payee: str
    payee_id: uuid.UUID
    payee_npi: str | None
    currency: str
    amount_minor: int


#: Payables marked paid by one statement (an IN list well within both engines' parameter limits).
_PAID_CHUNK = 500


class BillingRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    def add(self, *rows: Base) -> None:
        self.session.add_all(rows)

    def insert_many(self, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert (the billing run's and the claims consumer's hot path); the caller fills
        ``tenant_id``. Every row names the same columns: the rows go as tuples of their values, in
        the table's column order, through ``insert_values`` (on SQLite straight to the driver; a
        batch streamed with COPY on PostgreSQL), stored as a Core insert of the same rows stores
        them. A key that is no column of the table is left to the Core insert to refuse."""
        if not rows:
            return
        table = table_of(model)
        columns = tuple(column.name for column in table.columns if column.name in rows[0])
        if len(columns) != len(rows[0]):
            self.session.execute(insert(table), list(rows))
            return
        insert_values(self.session.connection(), table, columns, [tuple(row[c] for c in columns) for row in rows])

    # -- accounts ---------------------------------------------------------------------------------
    def billing_account(self, account_id: uuid.UUID, *, for_update: bool = False) -> BillingAccount | None:
        query = select(BillingAccount).where(BillingAccount.account_id == account_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def billing_accounts(self) -> dict[uuid.UUID, BillingAccount]:
        return {a.account_id: a for a in self.session.scalars(select(BillingAccount))}

    # -- invoices ---------------------------------------------------------------------------------
    def invoice(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
        return self.session.get(Invoice, invoice_id, with_for_update=for_update)

    def invoices(
        self, account_ids: Sequence[uuid.UUID] | None = None, status: str | None = None, limit: int = 100
    ) -> list[Invoice]:
        query = select(Invoice).order_by(Invoice.period_start.desc(), Invoice.invoice_number).limit(limit)
        if account_ids is not None:
            query = query.where(Invoice.account_id.in_(account_ids))
        if status is not None:
            query = query.where(Invoice.status == status)
        return list(self.session.scalars(query))

    def lines(self, invoice_id: uuid.UUID) -> list[InvoiceLine]:
        return list(
            self.session.scalars(
                select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.id)
            )
        )

    def open_invoices(self, account_id: uuid.UUID) -> list[Invoice]:
        return list(
            self.session.scalars(
                select(Invoice)
                .where(Invoice.account_id == account_id, Invoice.status.in_(OPEN_STATUSES))
                .order_by(Invoice.due_date, Invoice.issued_on, Invoice.id)
            )
        )

    def all_open_invoices(self) -> list[Invoice]:
        return list(self.session.scalars(select(Invoice).where(Invoice.status.in_(OPEN_STATUSES))))

    def overdue_invoices(self, today: date) -> list[Invoice]:
        return list(
            self.session.scalars(
                select(Invoice)
                .where(Invoice.status.in_(OPEN_STATUSES), Invoice.due_date < today)
                .order_by(Invoice.due_date, Invoice.id)
            )
        )

    def billed_terms(self, period_start: date) -> set[tuple[uuid.UUID, uuid.UUID]]:
        rows = self.session.execute(
            select(InvoiceLine.policy_id, InvoiceLine.term_id).where(InvoiceLine.period_start == period_start)
        )
        return {(row[0], row[1]) for row in rows}

    def lines_of_policy(self, policy_id: uuid.UUID) -> list[InvoiceLine]:
        return list(self.session.scalars(select(InvoiceLine).where(InvoiceLine.policy_id == policy_id)))

    def initial_invoice(self, policy_id: uuid.UUID) -> Invoice | None:
        return self.session.scalars(
            select(Invoice)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(InvoiceLine.policy_id == policy_id, Invoice.kind == "INITIAL")
        ).first()

    def unearned_invoices(self, today: date) -> list[Invoice]:
        """Invoices whose period has ended and whose premium is not yet recognised as earned."""
        earned = select(LedgerPosting.reference_id).where(
            LedgerPosting.kind == PostingKind.PREMIUM_EARNED.value, LedgerPosting.reference_type == "INVOICE"
        )
        return list(
            self.session.scalars(
                select(Invoice).where(Invoice.period_end < today, Invoice.status != "VOID", Invoice.id.not_in(earned))
            )
        )

    def schedule(self, policy_id: uuid.UUID, term_id: uuid.UUID) -> InstallmentSchedule | None:
        return self.session.scalars(
            select(InstallmentSchedule).where(
                InstallmentSchedule.policy_id == policy_id, InstallmentSchedule.term_id == term_id
            )
        ).first()

    def schedules(self) -> dict[tuple[uuid.UUID, uuid.UUID], InstallmentSchedule]:
        return {(s.policy_id, s.term_id): s for s in self.session.scalars(select(InstallmentSchedule))}

    # -- payments ---------------------------------------------------------------------------------
    def payment(self, payment_id: uuid.UUID) -> Payment | None:
        return self.session.get(Payment, payment_id)

    def payment_by_reference(self, account_id: uuid.UUID, method: str, reference: str) -> Payment | None:
        return self.session.scalars(
            select(Payment).where(
                Payment.account_id == account_id, Payment.method == method, Payment.reference == reference
            )
        ).first()

    def payments(self, account_ids: Sequence[uuid.UUID] | None = None, limit: int = 100) -> list[Payment]:
        query = select(Payment).order_by(Payment.received_at.desc(), Payment.id).limit(limit)
        if account_ids is not None:
            query = query.where(Payment.account_id.in_(account_ids))
        return list(self.session.scalars(query))

    def latest_payment_with_credit(self, account_id: uuid.UUID) -> Payment | None:
        return self.session.scalars(
            select(Payment)
            .where(Payment.account_id == account_id, Payment.credit_minor > 0)
            .order_by(Payment.received_at.desc(), Payment.id.desc())
            .limit(1)
        ).first()

    def allocations_of_payment(self, payment_id: uuid.UUID) -> list[PaymentAllocation]:
        return list(self.session.scalars(select(PaymentAllocation).where(PaymentAllocation.payment_id == payment_id)))

    def allocations_of_invoice(self, invoice_id: uuid.UUID) -> list[PaymentAllocation]:
        return list(self.session.scalars(select(PaymentAllocation).where(PaymentAllocation.invoice_id == invoice_id)))

    # -- ledger -----------------------------------------------------------------------------------
    def posting(self, posting_id: uuid.UUID) -> LedgerPosting | None:
        return self.session.get(LedgerPosting, posting_id)

    def postings_of(self, reference_type: str, reference_id: uuid.UUID) -> list[LedgerPosting]:
        return list(
            self.session.scalars(
                select(LedgerPosting)
                .where(LedgerPosting.reference_type == reference_type, LedgerPosting.reference_id == reference_id)
                .order_by(LedgerPosting.posted_at, LedgerPosting.id)
            )
        )

    def entries(self, posting_id: uuid.UUID) -> list[LedgerEntry]:
        return list(
            self.session.scalars(
                select(LedgerEntry).where(LedgerEntry.posting_id == posting_id).order_by(LedgerEntry.id)
            )
        )

    def reversed_ids(self) -> set[uuid.UUID]:
        return set(
            self.session.scalars(select(LedgerPosting.reverses_id).where(LedgerPosting.reverses_id.is_not(None)))
        )

    def account_balance(self, ledger_account: LedgerAccount, account_id: uuid.UUID) -> tuple[int, int]:
        """Σ debits and Σ credits of one ledger account for one billing account."""
        row = self.session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.debit_minor), 0),
                func.coalesce(func.sum(LedgerEntry.credit_minor), 0),
            ).where(LedgerEntry.ledger_account == ledger_account.value, LedgerEntry.account_id == account_id)
        ).one()
        return int(row[0]), int(row[1])

    def credit_balances(self) -> dict[uuid.UUID, int]:
        """Each billing account's member credit (credits − debits of MEMBER_CREDIT), where positive."""
        rows = self.session.execute(
            select(
                LedgerEntry.account_id,
                func.sum(LedgerEntry.credit_minor) - func.sum(LedgerEntry.debit_minor),
            )
            .where(LedgerEntry.ledger_account == LedgerAccount.MEMBER_CREDIT.value)
            .group_by(LedgerEntry.account_id)
        )
        return {row[0]: int(row[1]) for row in rows if row[0] is not None and int(row[1]) > 0}

    def totals(self) -> tuple[int, int]:
        row = self.session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.debit_minor), 0),
                func.coalesce(func.sum(LedgerEntry.credit_minor), 0),
            )
        ).one()
        return int(row[0]), int(row[1])

    def unbalanced_postings(self) -> list[tuple[uuid.UUID, int, int]]:
        rows = self.session.execute(
            select(LedgerEntry.posting_id, func.sum(LedgerEntry.debit_minor), func.sum(LedgerEntry.credit_minor))
            .group_by(LedgerEntry.posting_id)
            .having(func.sum(LedgerEntry.debit_minor) != func.sum(LedgerEntry.credit_minor))
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def per_billing_account(self) -> list[tuple[uuid.UUID | None, int, int]]:
        rows = self.session.execute(
            select(
                LedgerEntry.account_id, func.sum(LedgerEntry.debit_minor), func.sum(LedgerEntry.credit_minor)
            ).group_by(LedgerEntry.account_id)
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def per_ledger_account(self) -> list[tuple[str, str, int, int]]:
        rows = self.session.execute(
            select(
                LedgerEntry.ledger_account,
                LedgerEntry.currency,
                func.sum(LedgerEntry.debit_minor),
                func.sum(LedgerEntry.credit_minor),
            )
            .group_by(LedgerEntry.ledger_account, LedgerEntry.currency)
            .order_by(LedgerEntry.ledger_account, LedgerEntry.currency)
        )
        return [(row[0], row[1], int(row[2]), int(row[3])) for row in rows]

    def ledger_by_account(self, ledger_account: LedgerAccount) -> dict[uuid.UUID | None, int]:
        """Debits − credits of one ledger account per billing account."""
        rows = self.session.execute(
            select(LedgerEntry.account_id, func.sum(LedgerEntry.debit_minor) - func.sum(LedgerEntry.credit_minor))
            .where(LedgerEntry.ledger_account == ledger_account.value)
            .group_by(LedgerEntry.account_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    def invoice_balances(self) -> dict[uuid.UUID, int]:
        """Σ (total − paid) of the invoices that are not void, per account."""
        rows = self.session.execute(
            select(Invoice.account_id, func.sum(Invoice.total_minor - Invoice.paid_minor))
            .where(Invoice.status != "VOID")
            .group_by(Invoice.account_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    def invoice_allocation_mismatches(self) -> list[tuple[uuid.UUID, int, int]]:
        allocated = (
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_minor).label("allocated"))
            .group_by(PaymentAllocation.invoice_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Invoice.id, Invoice.paid_minor, func.coalesce(allocated.c.allocated, 0))
            .outerjoin(allocated, allocated.c.invoice_id == Invoice.id)
            .where(Invoice.paid_minor != func.coalesce(allocated.c.allocated, 0))
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def payment_allocation_mismatches(self) -> list[tuple[uuid.UUID, int, int]]:
        allocated = (
            select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount_minor).label("allocated"))
            .where(PaymentAllocation.payment_id.is_not(None))
            .group_by(PaymentAllocation.payment_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Payment.id, Payment.applied_minor, func.coalesce(allocated.c.allocated, 0))
            .outerjoin(allocated, allocated.c.payment_id == Payment.id)
            .where(
                (Payment.applied_minor != func.coalesce(allocated.c.allocated, 0))
                | (Payment.amount_minor != Payment.applied_minor + Payment.credit_minor)
            )
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def payment_count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Payment)) or 0)

    # -- grace ------------------------------------------------------------------------------------
    def graces_of_invoice(self, invoice_id: uuid.UUID) -> list[GracePeriod]:
        return list(self.session.scalars(select(GracePeriod).where(GracePeriod.invoice_id == invoice_id)))

    def active_grace_policies(self) -> set[uuid.UUID]:
        return set(self.session.scalars(select(GracePeriod.policy_id).where(GracePeriod.status == "ACTIVE")))

    def expired_grace_policies(self) -> set[uuid.UUID]:
        return set(self.session.scalars(select(GracePeriod.policy_id).where(GracePeriod.status == "EXPIRED")))

    def reinstatable_graces(self, account_id: uuid.UUID, today: date) -> list[GracePeriod]:
        """The account's lapsed grace periods whose reinstatement window is still open on ``today``."""
        return list(
            self.session.scalars(
                select(GracePeriod)
                .where(
                    GracePeriod.account_id == account_id,
                    GracePeriod.status == "EXPIRED",
                    GracePeriod.reinstate_until.is_not(None),
                    GracePeriod.reinstate_until >= today,
                )
                .order_by(GracePeriod.end_date, GracePeriod.id)
                .with_for_update()
            )
        )

    def lapsed_invoices(self, account_id: uuid.UUID, policy_id: uuid.UUID, after: date) -> list[Invoice]:
        """The account's invoices voided when ``policy_id`` lapsed, for months after ``after``."""
        return list(
            self.session.scalars(
                select(Invoice)
                .where(
                    Invoice.account_id == account_id,
                    Invoice.status == "VOID",
                    Invoice.status_reason == LAPSE_REASON,
                    Invoice.period_start > after,
                    Invoice.id.in_(select(InvoiceLine.invoice_id).where(InvoiceLine.policy_id == policy_id)),
                )
                .order_by(Invoice.period_start, Invoice.id)
            )
        )

    def graced_invoices(self) -> set[uuid.UUID]:
        return set(self.session.scalars(select(GracePeriod.invoice_id)))

    def expiring_graces(self, today: date) -> list[GracePeriod]:
        return list(
            self.session.scalars(
                select(GracePeriod)
                .where(GracePeriod.status == "ACTIVE", GracePeriod.end_date < today)
                .order_by(GracePeriod.end_date, GracePeriod.id)
            )
        )

    def graces_of(self, policy_or_member_id: uuid.UUID) -> list[GracePeriod]:
        return list(
            self.session.scalars(
                select(GracePeriod)
                .where((GracePeriod.policy_id == policy_or_member_id) | (GracePeriod.member_id == policy_or_member_id))
                .order_by(GracePeriod.started_on, GracePeriod.id)
            )
        )

    # -- claims -----------------------------------------------------------------------------------
    def claim_payable(self, claim_id: uuid.UUID) -> ClaimPayable | None:
        """The claim's payable (part 0; its supplements are ``claim_payables``)."""
        return self.session.scalars(
            select(ClaimPayable).where(ClaimPayable.claim_id == claim_id).order_by(ClaimPayable.part)
        ).first()

    def claims_with_payables(self, claim_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these claims billing holds a payable for."""
        if not claim_ids:
            return set()
        query = select(ClaimPayable.claim_id).where(ClaimPayable.claim_id.in_(list(claim_ids))).distinct()
        return set(self.session.scalars(query))

    def claim_payables(self, claim_id: uuid.UUID, *, for_update: bool = False) -> list[ClaimPayable]:
        """The claim's payable and its supplements, in order."""
        query = select(ClaimPayable).where(ClaimPayable.claim_id == claim_id).order_by(ClaimPayable.part)
        return list(self.session.scalars(query.with_for_update() if for_update else query))

    def claim_recoveries(self, claim_id: uuid.UUID) -> list[ClaimRecovery]:
        return list(
            self.session.scalars(
                select(ClaimRecovery).where(ClaimRecovery.claim_id == claim_id).order_by(ClaimRecovery.part)
            )
        )

    def unpaid_claims(self) -> list[UnpaidClaim]:
        """The unpaid payables, oldest approval first, locked until the run commits."""
        query = (
            select(
                ClaimPayable.id,
                ClaimPayable.claim_id,
                ClaimPayable.member_id,
                ClaimPayable.provider_id,
                ClaimPayable.payee,
                ClaimPayable.payee_id,
                ClaimPayable.payee_npi,
                ClaimPayable.currency,
                ClaimPayable.amount_minor,
            )
            .where(ClaimPayable.status == "UNPAID")
            .order_by(ClaimPayable.approved_at, ClaimPayable.id)
            .with_for_update()
        )
        return [UnpaidClaim(*row) for row in self.session.execute(query)]

    def mark_claims_paid(self, payables: Sequence[UnpaidClaim], claim_payment_id: uuid.UUID) -> None:
        """These payables PAID by this payment, each with the billing NPI it now has (a run learns the
        NPI of those recorded without it): a statement per NPI and chunk of ids (one payee's payables
        share their NPI), the unit of work's tenant's rows only: a parameter set per payable was about a
        quarter of the run's own CPU in a 20,000-claim profile."""
        if not payables:
            return
        table, tenant = table_of(ClaimPayable), self.uow.require_tenant()
        by_npi: dict[str | None, list[uuid.UUID]] = {}
        for payable in payables:
            by_npi.setdefault(payable.payee_npi, []).append(payable.id)
        for npi, ids in by_npi.items():
            for start in range(0, len(ids), _PAID_CHUNK):
                self.session.execute(
                    update(table)
                    .where(table.c.tenant_id == tenant, table.c.id.in_(ids[start : start + _PAID_CHUNK]))
                    .values(status="PAID", claim_payment_id=claim_payment_id, payee_npi=npi)
                )
        # A payable this session already holds as an object (read earlier in the unit of work) is kept
        # in step with its row, as if loaded after the update.
        held = self.session.identity_map
        paid = {payable.id: payable for payable in payables}
        for key in list(held.keys()):
            if key[0] is not ClaimPayable or len(key[1]) != 1 or key[1][0] not in paid:
                continue
            payable, row = paid[key[1][0]], held.get(key)
            if row is not None:
                for name, value in (
                    ("status", "PAID"),
                    ("claim_payment_id", claim_payment_id),
                    ("payee_npi", payable.payee_npi),
                ):
                    set_committed_value(row, name, value)

    def unpaid_claims_total(self) -> dict[str, int]:
        rows = self.session.execute(
            select(ClaimPayable.currency, func.sum(ClaimPayable.amount_minor))
            .where(ClaimPayable.status == "UNPAID")
            .group_by(ClaimPayable.currency)
        )
        return {row[0]: int(row[1]) for row in rows}

    def billing_runs(self, limit: int = 50) -> list[BillingRun]:
        return list(
            self.session.scalars(
                select(BillingRun).order_by(BillingRun.started_at.desc(), BillingRun.id.desc()).limit(limit)
            )
        )

    def billing_run(self, run_id: uuid.UUID) -> BillingRun | None:
        return self.session.get(BillingRun, run_id)

    def invoices_of_run(self, run_id: uuid.UUID) -> list[Invoice]:
        return list(
            self.session.scalars(select(Invoice).where(Invoice.run_id == run_id).order_by(Invoice.invoice_number))
        )

    def payment_run_totals(self, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[tuple[str, int]]]:
        """Per payment run, its total in each currency paid (a run may pay in several)."""
        rows = self.session.execute(
            select(ClaimPayment.run_id, ClaimPayment.currency, func.sum(ClaimPayment.amount_minor))
            .where(ClaimPayment.run_id.in_(list(run_ids)))
            .group_by(ClaimPayment.run_id, ClaimPayment.currency)
            .order_by(ClaimPayment.currency)
        )
        totals: dict[uuid.UUID, list[tuple[str, int]]] = {}
        for run_id, currency, total in rows:
            totals.setdefault(run_id, []).append((currency, int(total)))
        return totals

    def payment_run(self, run_id: uuid.UUID) -> PaymentRun | None:
        return self.session.get(PaymentRun, run_id)

    def payment_runs(self, limit: int = 50) -> list[PaymentRun]:
        return list(
            self.session.scalars(
                select(PaymentRun).order_by(PaymentRun.created_at.desc(), PaymentRun.id.desc()).limit(limit)
            )
        )

    def claim_payments(self, run_id: uuid.UUID) -> list[ClaimPayment]:
        return list(
            self.session.scalars(
                select(ClaimPayment).where(ClaimPayment.run_id == run_id).order_by(ClaimPayment.trace_number)
            )
        )

    def payments_to(
        self, payee: str, payee_ids: Sequence[uuid.UUID], npis: Sequence[str] = (), limit: int = 100
    ) -> list[ClaimPayment]:
        """The payments to these payees (by payee id, or by billing NPI), newest first."""
        if not payee_ids and not npis:
            return []
        return list(
            self.session.scalars(
                select(ClaimPayment)
                .where(
                    ClaimPayment.payee == payee,
                    or_(ClaimPayment.payee_id.in_(list(payee_ids)), ClaimPayment.payee_npi.in_(list(npis))),
                )
                .order_by(ClaimPayment.created_at.desc(), ClaimPayment.trace_number)
                .limit(limit)
            )
        )

    def npi_of_provider(self, provider_id: uuid.UUID) -> str | None:
        """The billing NPI billing has owed or paid a provider id under (an id names one NPI)."""
        for query in (
            select(ClaimPayment.payee_npi).where(
                ClaimPayment.payee == "PROVIDER",
                ClaimPayment.payee_id == provider_id,
                ClaimPayment.payee_npi.is_not(None),
            ),
            select(ClaimPayable.payee_npi).where(
                ClaimPayable.payee == "PROVIDER",
                ClaimPayable.provider_id == provider_id,
                ClaimPayable.payee_npi.is_not(None),
            ),
        ):
            found = self.session.scalars(query.limit(1)).first()
            if found is not None:
                return found
        return None

    def provider_ids_of_npi(self, npi: str) -> set[uuid.UUID]:
        """Every provider id billing has owed or paid an NPI's claims under."""
        paid = select(ClaimPayment.payee_id).where(ClaimPayment.payee == "PROVIDER", ClaimPayment.payee_npi == npi)
        owed = select(ClaimPayable.provider_id).where(ClaimPayable.payee == "PROVIDER", ClaimPayable.payee_npi == npi)
        return set(self.session.scalars(paid.distinct())) | set(self.session.scalars(owed.distinct()))

    def claim_payment(self, claim_payment_id: uuid.UUID) -> ClaimPayment | None:
        return self.session.scalars(select(ClaimPayment).where(ClaimPayment.id == claim_payment_id)).first()

    def claims_of_payment(
        self, claim_payment_id: uuid.UUID
    ) -> Sequence[tuple[uuid.UUID, uuid.UUID, int, int | None, int | None, int]]:
        """(claim id, member id, amount, adjudication sequence, reverses sequence, part) of each payable a
        payment paid, in approval order: columns, not objects (a run's 835 reads thousands)."""
        query = (
            select(
                ClaimPayable.claim_id,
                ClaimPayable.member_id,
                ClaimPayable.amount_minor,
                ClaimPayable.adjudication_sequence,
                ClaimPayable.reverses_sequence,
                ClaimPayable.part,
            )
            .where(ClaimPayable.claim_payment_id == claim_payment_id)
            .order_by(ClaimPayable.approved_at, ClaimPayable.claim_id)
        )
        return self.session.execute(query).all()

    def recoveries_of_payment(self, claim_payment_id: uuid.UUID) -> Sequence[tuple[uuid.UUID, int, int, bool]]:
        """(recovered claim id, recovery part, amount taken, reported before) of each recovery a payment
        netted, in the order it netted them (oldest recovery first). ``reported before``: the claim
        that reversed it (a replacement) was paid by an earlier payment, whose 835 reversed the
        recovered claim (a void is never paid, so never reported)."""
        reporting = (
            select(ClaimPayable.id)
            .where(
                ClaimPayable.claim_id == ClaimRecovery.reversing_claim_id,
                ClaimPayable.status == "PAID",
                ClaimPayable.claim_payment_id != claim_payment_id,
            )
            .exists()
        )
        query = (
            select(ClaimRecovery.claim_id, ClaimRecovery.part, RecoveryApplication.amount_minor, reporting)
            .join(ClaimRecovery, ClaimRecovery.id == RecoveryApplication.recovery_id)
            .where(RecoveryApplication.claim_payment_id == claim_payment_id)
            .order_by(ClaimRecovery.recorded_at, ClaimRecovery.id)
        )
        return [(row[0], row[1], row[2], bool(row[3])) for row in self.session.execute(query)]

    def recovered_before(self, claim_payment_id: uuid.UUID, claim_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        """What payments other than this one took back of each of these claims' payment (the
        recovery of a void or replacement, part 0), per claim; claims nothing was taken of are left out."""
        if not claim_ids:
            return {}
        query = (
            select(ClaimRecovery.claim_id, func.sum(RecoveryApplication.amount_minor))
            .join(ClaimRecovery, ClaimRecovery.id == RecoveryApplication.recovery_id)
            .where(
                ClaimRecovery.claim_id.in_(sorted(claim_ids)),
                ClaimRecovery.part == 0,
                RecoveryApplication.claim_payment_id != claim_payment_id,
            )
            .group_by(ClaimRecovery.claim_id)
        )
        return {claim_id: int(total) for claim_id, total in self.session.execute(query) if total}

    # -- a person's records (deletion requests) ---------------------------------------------------
    def lines_of_member(self, member_id: uuid.UUID) -> list[InvoiceLine]:
        """The invoice lines that bill this subscriber."""
        query = select(InvoiceLine).where(InvoiceLine.member_id == member_id)
        return list(self.session.scalars(query.order_by(InvoiceLine.period_start, InvoiceLine.id)))

    def households_of_member(self, member_id: uuid.UUID) -> list[uuid.UUID]:
        """The accounts that bill this subscriber alone: every line of their invoices names them, and
        they are no group's (a list bill is the employer's record, whoever it bills)."""
        billed = select(Invoice.account_id).join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id).distinct()
        candidates = list(self.session.scalars(billed.where(InvoiceLine.member_id == member_id)))
        if not candidates:
            return []
        shared = self.session.scalars(
            billed.where(Invoice.account_id.in_(candidates), InvoiceLine.member_id != member_id)
        )
        groups = self.session.scalars(
            select(BillingAccount.account_id).where(
                BillingAccount.account_id.in_(candidates), BillingAccount.market == "GROUP"
            )
        )
        return sorted(set(candidates) - set(shared) - set(groups))

    def invoices_for(self, invoice_ids: Collection[uuid.UUID], account_ids: Collection[uuid.UUID]) -> list[Invoice]:
        """These invoices and every invoice of these accounts, oldest first."""
        if not invoice_ids and not account_ids:
            return []
        query = select(Invoice).where(or_(Invoice.id.in_(list(invoice_ids)), Invoice.account_id.in_(list(account_ids))))
        return list(self.session.scalars(query.order_by(Invoice.issued_on, Invoice.period_start, Invoice.id)))

    def applied_dates(self, invoice_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, date]:
        """The day money was last applied to each of these invoices (those that had any)."""
        if not invoice_ids:
            return {}
        rows = self.session.execute(
            select(PaymentAllocation.invoice_id, func.max(PaymentAllocation.created_at))
            .where(PaymentAllocation.invoice_id.in_(list(invoice_ids)))
            .group_by(PaymentAllocation.invoice_id)
        )
        return {row[0]: row[1].date() for row in rows}

    def payments_of_accounts(self, account_ids: Collection[uuid.UUID]) -> list[Payment]:
        if not account_ids:
            return []
        query = select(Payment).where(Payment.account_id.in_(list(account_ids)))
        return list(self.session.scalars(query.order_by(Payment.received_at, Payment.id)))

    def schedules_of_accounts(self, account_ids: Collection[uuid.UUID]) -> list[InstallmentSchedule]:
        if not account_ids:
            return []
        query = select(InstallmentSchedule).where(InstallmentSchedule.account_id.in_(list(account_ids)))
        return list(self.session.scalars(query.order_by(InstallmentSchedule.created_at, InstallmentSchedule.id)))

    def billing_accounts_of(self, account_ids: Collection[uuid.UUID]) -> list[BillingAccount]:
        if not account_ids:
            return []
        query = select(BillingAccount).where(BillingAccount.account_id.in_(list(account_ids)))
        return list(self.session.scalars(query.order_by(BillingAccount.account_id)))

    def graces_of_member(self, member_id: uuid.UUID) -> list[GracePeriod]:
        query = select(GracePeriod).where(GracePeriod.member_id == member_id)
        return list(self.session.scalars(query.order_by(GracePeriod.started_on, GracePeriod.id)))

    def payables_of_member(self, member_id: uuid.UUID) -> list[tuple[ClaimPayable, date | None]]:
        """The payables of this member's claims, each with the day it was paid (None while unpaid)."""
        query = (
            select(ClaimPayable, ClaimPayment.paid_on)
            .outerjoin(ClaimPayment, ClaimPayment.id == ClaimPayable.claim_payment_id)
            .where(ClaimPayable.member_id == member_id)
            .order_by(ClaimPayable.approved_at, ClaimPayable.claim_id, ClaimPayable.part)
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    def member_claim_payments(self, member_id: uuid.UUID) -> list[ClaimPayment]:
        """The claim payments made to this member (reimbursements)."""
        query = select(ClaimPayment).where(ClaimPayment.payee == "MEMBER", ClaimPayment.payee_id == member_id)
        return list(self.session.scalars(query.order_by(ClaimPayment.paid_on, ClaimPayment.id)))

    def member_recoveries(self, member_id: uuid.UUID) -> list[ClaimRecovery]:
        """The reimbursements taken back from this member."""
        query = select(ClaimRecovery).where(ClaimRecovery.payee == "MEMBER", ClaimRecovery.payee_id == member_id)
        return list(self.session.scalars(query.order_by(ClaimRecovery.recorded_at, ClaimRecovery.id)))

    def bank_accounts_of(self, payee_id: uuid.UUID) -> list[PayeeBankAccount]:
        return list(self.session.scalars(select(PayeeBankAccount).where(PayeeBankAccount.payee_id == payee_id)))

    def reassign_member(
        self, kind: str, record_ids: Collection[uuid.UUID], member_id: uuid.UUID, pseudonym: uuid.UUID
    ) -> None:
        """Put ``pseudonym`` where these records name ``member_id``. ``kind`` is a record type of
        ``BillingPersonalData``; an invoice's are its lines. Payments, installment schedules and
        billing settings name no person: nothing to change."""
        ids = list(record_ids)
        if not ids:
            return
        statements: list[Any] = []
        if kind in ("invoice", "invoice_line"):
            owner = InvoiceLine.invoice_id if kind == "invoice" else InvoiceLine.id
            statements.append(
                update(InvoiceLine)
                .where(owner.in_(ids), InvoiceLine.member_id == member_id)
                .values(member_id=pseudonym)
            )
        elif kind == "grace_period":
            statements.append(
                update(GracePeriod)
                .where(GracePeriod.id.in_(ids), GracePeriod.member_id == member_id)
                .values(member_id=pseudonym)
            )
        elif kind == "claim_payable":
            statements.append(
                update(ClaimPayable)
                .where(ClaimPayable.id.in_(ids), ClaimPayable.member_id == member_id)
                .values(member_id=pseudonym)
            )
            statements.append(
                update(ClaimPayable)
                .where(ClaimPayable.id.in_(ids), ClaimPayable.payee == "MEMBER", ClaimPayable.payee_id == member_id)
                .values(payee_id=pseudonym)
            )
        elif kind == "claim_payment":
            statements.append(
                update(ClaimPayment)
                .where(ClaimPayment.id.in_(ids), ClaimPayment.payee == "MEMBER", ClaimPayment.payee_id == member_id)
                .values(payee_id=pseudonym)
            )
        elif kind == "claim_recovery":
            statements.append(
                update(ClaimRecovery)
                .where(ClaimRecovery.id.in_(ids), ClaimRecovery.payee == "MEMBER", ClaimRecovery.payee_id == member_id)
                .values(payee_id=pseudonym)
            )
        for statement in statements:
            self.session.execute(statement)

    def delete_records(self, kind: str, record_ids: Collection[uuid.UUID]) -> None:
        """Delete these records (``kind`` as in ``reassign_member``): an invoice with its lines and the
        money applied to it. Never a ledger row: postings stay, naming records that are gone."""
        ids = list(record_ids)
        if not ids:
            return
        if kind == "invoice":
            self.session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids)))
            self.session.execute(delete(PaymentAllocation).where(PaymentAllocation.invoice_id.in_(ids)))
        if kind == "claim_recovery":
            self.session.execute(delete(RecoveryApplication).where(RecoveryApplication.recovery_id.in_(ids)))
        if kind == "claim_payment":
            self.session.execute(delete(RecoveryApplication).where(RecoveryApplication.claim_payment_id.in_(ids)))
        model: type[Any] = {
            "invoice": Invoice,
            "invoice_line": InvoiceLine,
            "payment": Payment,
            "installment_schedule": InstallmentSchedule,
            "billing_account": BillingAccount,
            "grace_period": GracePeriod,
            "claim_payable": ClaimPayable,
            "claim_payment": ClaimPayment,
            "claim_recovery": ClaimRecovery,
            "payee_bank_account": PayeeBankAccount,
        }[kind]
        self.session.execute(delete(model).where(model.id.in_(ids)))
