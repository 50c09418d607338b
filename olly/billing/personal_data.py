"""A person's billing records, for deletion requests (``olly.platform.personal_data``).

Billing names people by id only, never by name or address: the subscriber on invoice lines and
grace periods, the member on claim payables, and the member paid on a reimbursement's claim payment
and recovery. A bank account may be kept under a member's id. Invoices, payments, installment
schedules and billing settings name an account (a group or a household), not a person; those of a
household account that bills this person alone are the person's records too. An employer's list
bill is the employer's: only the person's line on it is theirs.

Everything is a premium or payment record, kept seven years (pseudonymised) from its date, except a
member's bank account, which nothing obliges the plan to keep. The ledger names billing accounts and
records, never a person, and is never changed: it cannot be (append-only), and it need not be.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Final

from olly.billing.models import ClaimPayable, GracePeriod, InstallmentSchedule, Invoice
from olly.billing.repository import OPEN_STATUSES, BillingRepository
from olly.billing.rules import LedgerAccount
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory, ids_by_type

#: Record types, in the order ``delete`` removes them (an invoice before the payments that paid it).
KINDS: Final = (
    "invoice",
    "invoice_line",
    "payment",
    "installment_schedule",
    "billing_account",
    "grace_period",
    "claim_payable",
    "claim_payment",
    "claim_recovery",
    "payee_bank_account",
)


def _invoice_date(invoice: Invoice, applied: date | None, today: date) -> date:
    """The last day money was applied to it (its issue day if none). One still owed is dated today:
    its retention has not begun, so it is never deleted while it is part of an open balance."""
    if invoice.status in OPEN_STATUSES:
        return today
    return max(invoice.issued_on, applied) if applied is not None else invoice.issued_on


def _schedule_date(schedule: InstallmentSchedule) -> date:
    """The last installment's due day."""
    return max((date.fromisoformat(i["dueDate"]) for i in schedule.installments), default=schedule.created_at.date())


def _grace_date(grace: GracePeriod, today: date) -> date:
    """The day it was resolved, or its reinstatement window closed; today while it still runs."""
    if grace.resolved_at is None:
        return today
    return max(grace.resolved_at.date(), grace.reinstate_until or grace.resolved_at.date())


def _payable_date(payable: ClaimPayable, paid_on: date | None, today: date) -> date:
    """The day it was paid (the day its payment is dated too); today while still owed."""
    if payable.status == "UNPAID":
        return today
    return paid_on if paid_on is not None else payable.approved_at.date()


def _of_kinds(items: list[PersonalDataItem]) -> dict[str, list[uuid.UUID]]:
    return {kind: ids for kind, ids in ids_by_type(items).items() if kind in KINDS}


class BillingPersonalData:
    """Kept records are pseudonymised: the person's id becomes the request's pseudonym wherever a row
    names them, and every amount, date and reference stays. A record past its seven years is deleted
    with its child rows; the ledger postings that name it stay, with their amounts, and still balance.
    A member's bank account is deleted whatever the decision."""

    domain = "billing"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        repo, today, party = BillingRepository(uow), uow.clock.today(), subject.party_id
        found = self._premium_records(repo, party, today)
        found += [
            self._item("grace_period", g.id, _grace_date(g, today), "premium grace period of the person's policy")
            for g in repo.graces_of_member(party)
        ]
        found += [
            self._item("claim_payable", payable.id, _payable_date(payable, paid_on, today), "payment owed for a claim")
            for payable, paid_on in repo.payables_of_member(party)
        ]
        found += [
            self._item("claim_payment", p.id, p.paid_on, "reimbursement paid to the person")
            for p in repo.member_claim_payments(party)
        ]
        found += [
            self._item(
                "claim_recovery",
                r.id,
                today if r.status == "OPEN" else r.recorded_at.date(),
                "reimbursement taken back after its claim was voided or re-adjudicated",
            )
            for r in repo.member_recoveries(party)
        ]
        found += [
            PersonalDataItem(
                self.domain,
                "payee_bank_account",
                str(b.id),
                RecordCategory.CONTACT,
                b.updated_at.date(),
                "bank account for payments to the person",
            )
            for b in repo.bank_accounts_of(party)
        ]
        return found

    def _premium_records(self, repo: BillingRepository, party: uuid.UUID, today: date) -> list[PersonalDataItem]:
        """The invoices, payments, installment schedules and settings of the households that bill the
        person alone, and the person's lines on any other invoice."""
        households = repo.households_of_member(party)
        own = set(households)
        lines = repo.lines_of_member(party)
        invoices = repo.invoices_for({line.invoice_id for line in lines}, households)
        applied = repo.applied_dates([i.id for i in invoices])
        dated = {i.id: _invoice_date(i, applied.get(i.id), today) for i in invoices}
        account_of = {i.id: i.account_id for i in invoices}
        payments = repo.payments_of_accounts(households)
        schedules = repo.schedules_of_accounts(households)
        found = [
            self._item("invoice", i.id, dated[i.id], "premium invoice of the person's household, with its lines")
            for i in invoices
            if i.account_id in own
        ]
        found += [
            self._item("invoice_line", line.id, dated[line.invoice_id], "the person's premium on an invoice of others")
            for line in lines
            if account_of[line.invoice_id] not in own
        ]
        found += [
            self._item("payment", p.id, p.received_at.date(), "premium payment to the person's household")
            for p in payments
        ]
        found += [
            self._item("installment_schedule", s.id, _schedule_date(s), "installments of an annual premium")
            for s in schedules
        ]
        for account in repo.billing_accounts_of(households):
            # Dated by the latest of its records, so the settings go last; today while it holds credit.
            dates = [account.updated_at.date()]
            dates += [dated[i.id] for i in invoices if i.account_id == account.account_id]
            dates += [p.received_at.date() for p in payments if p.account_id == account.account_id]
            dates += [_schedule_date(s) for s in schedules if s.account_id == account.account_id]
            debits, credits = repo.account_balance(LedgerAccount.MEMBER_CREDIT, account.account_id)
            if credits > debits:
                dates.append(today)
            found.append(self._item("billing_account", account.id, max(dates), "billing settings of the household"))
        return found

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo, grouped = BillingRepository(uow), _of_kinds(items)
        # A bank account is only its numbers: no law makes the plan keep a member's, so none is kept.
        repo.delete_records("payee_bank_account", grouped.pop("payee_bank_account", []))
        for kind, ids in grouped.items():
            repo.reassign_member(kind, ids, subject.party_id, subject.pseudonym)

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo, grouped = BillingRepository(uow), _of_kinds(items)
        for kind in KINDS:
            repo.delete_records(kind, grouped.get(kind, []))

    def _item(self, record_type: str, record_id: uuid.UUID, record_date: date, description: str) -> PersonalDataItem:
        return PersonalDataItem(
            self.domain, record_type, str(record_id), RecordCategory.BILLING, record_date, description
        )
