"""Billing use cases: billing runs, payments, the ledger, grace periods and claim payment runs.

Services never commit: the unit of work at the boundary does. Every change of money goes through
``post`` (or the run's bulk equivalent), which refuses an unbalanced posting before it is written.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from olly.billing import recoveries, rules
from olly.billing.events import (
    InvoiceGenerated,
    PaymentCompleted,
    PaymentMissed,
    PaymentReceived,
    PaymentRunCompleted,
    ReinstatementPaid,
)
from olly.billing.models import (
    BillingAccount,
    BillingRun,
    ClaimPayable,
    ClaimPayment,
    GracePeriod,
    InstallmentSchedule,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerPosting,
    Payment,
    PaymentAllocation,
    PaymentRun,
)
from olly.billing.repository import LAPSE_REASON, BillingRepository, UnpaidClaim
from olly.billing.rules import LedgerAccount, PaymentMethod, PostingKind, PostingLine, Proration
from olly.claims import public as claims_public
from olly.claims.events import ClaimPaid
from olly.enrollment import public as enrollment
from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod, end_of_month
from olly.plans import public as plans
from olly.platform.db import UnitOfWork
from olly.provider import public as providers

#: Invoices are due on the first day of the period they bill, and never sooner than this many days
#: after they are issued (an invoice issued late still gives the payer time to pay).
PAYMENT_TERMS_DAYS = 15
BATCH = 5_000


def _money(minor: int, currency: str) -> str:
    return Money(minor, currency).to_decimal_string()


def due_date(period_start: date, issued_on: date) -> date:
    return max(period_start, issued_on + timedelta(days=PAYMENT_TERMS_DAYS))


def _issue_invoice(
    uow: UnitOfWork,
    *,
    account_id: uuid.UUID,
    kind: str,
    period: DatePeriod,
    due_date: date,
    currency: str,
    total: int = 0,
    member: int = 0,
    employer: int | None = None,
    status: str = "OPEN",
) -> Invoice:
    """A one-off invoice (not a billing run's), issued today and added to the session; its lines
    follow. ``employer`` defaults to what the member does not pay."""
    assert period.end is not None
    invoice = Invoice(
        id=uuid7(),
        invoice_number=_invoice_number(period.start),
        account_id=account_id,
        run_id=None,
        kind=kind,
        period_start=period.start,
        period_end=period.end,
        issued_on=uow.clock.today(),
        due_date=due_date,
        currency=currency,
        total_minor=total,
        employer_minor=total - member if employer is None else employer,
        member_minor=member,
        paid_minor=0,
        status=status,
        status_reason=None,
        created_at=uow.clock.now(),
    )
    BillingRepository(uow).add(invoice)
    return invoice


def _invoice_number(period_start: date) -> str:
    return f"INV{period_start:%Y%m}-{secrets.token_hex(6).upper()}"


# ---------------------------------------------------------------------------------------------
# Ledger
def post(
    uow: UnitOfWork,
    kind: PostingKind,
    lines: list[PostingLine],
    *,
    currency: str,
    reference_type: str,
    reference_id: uuid.UUID,
    account_id: uuid.UUID | None,
    effective_date: date | None = None,
    reverses_id: uuid.UUID | None = None,
) -> LedgerPosting:
    """Write one balanced posting (refused before any row is written when it does not balance)."""
    rules.check_posting(lines)
    now = uow.clock.now()
    posting = LedgerPosting(
        id=uuid7(),
        kind=kind.value,
        account_id=account_id,
        reference_type=reference_type,
        reference_id=reference_id,
        reverses_id=reverses_id,
        currency=currency,
        total_minor=sum(line.debit_minor for line in lines),
        posted_at=now,
        effective_date=effective_date or uow.clock.today(),
    )
    repo = BillingRepository(uow)
    repo.add(posting)
    for line in lines:
        repo.add(
            LedgerEntry(
                id=uuid7(),
                posting_id=posting.id,
                ledger_account=line.account.value,
                account_id=account_id,
                currency=currency,
                debit_minor=line.debit_minor,
                credit_minor=line.credit_minor,
                posted_at=now,
            )
        )
    return posting


def reverse(uow: UnitOfWork, posting_id: uuid.UUID) -> LedgerPosting:
    """Undo a posting with its mirror image; the original stays as it was."""
    repo = BillingRepository(uow)
    original = repo.posting(posting_id)
    if original is None:
        raise NotFound("no such ledger posting")
    if original.kind == PostingKind.REVERSAL.value:
        raise BusinessRuleViolation("a reversal is not itself reversed: post the correction instead")
    if posting_id in repo.reversed_ids():
        raise Conflict("this posting is already reversed")
    lines = [
        PostingLine(LedgerAccount(e.ledger_account), e.debit_minor, e.credit_minor) for e in repo.entries(posting_id)
    ]
    uow.flush()
    return post(
        uow,
        PostingKind.REVERSAL,
        rules.reversal_of(lines),
        currency=original.currency,
        reference_type=original.reference_type,
        reference_id=original.reference_id,
        account_id=original.account_id,
        reverses_id=original.id,
    )


# ---------------------------------------------------------------------------------------------
# Billing accounts
def billing_account(
    uow: UnitOfWork, account_id: uuid.UUID, *, market: str = "INDIVIDUAL", currency: str = "USD"
) -> BillingAccount:
    repo = BillingRepository(uow)
    found = repo.billing_account(account_id)
    if found is not None:
        return found
    now = uow.clock.now()
    created = BillingAccount(
        id=uuid7(),
        account_id=account_id,
        market=market,
        currency=currency,
        proration=Proration.DAILY.value,
        receives_aptc=False,
        created_at=now,
        updated_at=now,
    )
    repo.add(created)
    uow.flush()
    return created


def configure_account(
    uow: UnitOfWork,
    account_id: uuid.UUID,
    *,
    market: str | None = None,
    currency: str = "USD",
    proration: Proration | None = None,
    receives_aptc: bool | None = None,
) -> BillingAccount:
    account = billing_account(uow, account_id, market=market or "INDIVIDUAL", currency=currency)
    if market is not None:
        account.market = market
    if proration is not None:
        account.proration = proration.value
    if receives_aptc is not None:
        account.receives_aptc = receives_aptc
    account.updated_at = uow.clock.now()
    return account


# ---------------------------------------------------------------------------------------------
# Billing runs
@dataclass
class RunSummary:
    run_id: uuid.UUID
    period_start: date
    period_end: date
    invoice_count: int = 0
    line_count: int = 0
    total_minor: int = 0
    currency: str = "USD"
    invoice_ids: list[uuid.UUID] = field(default_factory=list)


Progress = Callable[[int, int], None]


def _monthly_amounts(
    term: enrollment.BillableTerm,
    period: DatePeriod,
    schedules: dict[tuple[uuid.UUID, uuid.UUID], Any],
    new: list[dict[str, Any]],
    tenant: uuid.UUID,
    now: datetime,
) -> tuple[int, int]:
    """The month's total and member premium of a term: as priced when monthly, or this month's
    installment of an annual premium (a schedule of 12 is made on first billing)."""
    if term.premium_period != "ANNUAL":
        return term.total_premium_minor, term.member_premium_minor
    key = (term.policy_id, term.term_id)
    schedule = schedules.get(key)
    if schedule is None:
        totals = rules.installments(term.total_premium_minor, 12)
        members = rules.installments(term.member_premium_minor, 12)
        dues = rules.installment_due_dates(period.start, 12, 1)
        plan = [
            {"number": i + 1, "dueDate": d.isoformat(), "amountMinor": t, "memberMinor": m}
            for i, (d, t, m) in enumerate(zip(dues, totals, members, strict=True))
        ]
        row = {
            "id": uuid7(),
            "tenant_id": tenant,
            "account_id": term.account_id,
            "policy_id": term.policy_id,
            "term_id": term.term_id,
            "currency": term.currency,
            "total_minor": term.total_premium_minor,
            "remainder_to": rules.RemainderTo.FIRST.value,
            "installments": plan,
            "created_at": now,
        }
        new.append(row)
        schedules[key] = row
        schedule = row
    plan = schedule["installments"] if isinstance(schedule, dict) else schedule.installments
    due = period.start.isoformat()
    for item in plan:
        if item["dueDate"][:7] == due[:7]:
            return int(item["amountMinor"]), int(item["memberMinor"])
    return 0, 0


def run_billing(uow: UnitOfWork, period: DatePeriod, *, progress: Progress | None = None) -> RunSummary:
    """Invoice every billable term of ``period`` not yet billed for it: one list bill per group
    account (a line per subscriber and tier, with employer and employee shares) and one invoice per
    household. Running a period again bills only what the earlier runs did not (idempotent)."""
    assert period.end is not None
    tenant = uow.require_tenant()
    today, now = uow.clock.today(), uow.clock.now()
    repo = BillingRepository(uow)
    terms = enrollment.billable_terms(uow, period)
    billed = repo.billed_terms(period.start)
    accounts = repo.billing_accounts()
    schedules: dict[tuple[uuid.UUID, uuid.UUID], Any] = dict(repo.schedules())
    new_schedules: list[dict[str, Any]] = []
    by_term: dict[tuple[uuid.UUID, uuid.UUID], enrollment.BillableTerm] = {}
    for term in terms:
        if (term.policy_id, term.term_id) in billed:
            continue
        if term.market != "GROUP" and term.policy_status == "SUBMITTED":
            continue  # an individual policy's first premium is its INITIAL invoice (the saga)
        key = (term.policy_id, term.term_id)
        seen = by_term.get(key)
        if seen is not None:  # two spans of one term in the period: bill the whole stretch once
            term = _widen(seen, term)
        by_term[key] = term
    by_account: dict[uuid.UUID, list[enrollment.BillableTerm]] = defaultdict(list)
    for term in by_term.values():
        by_account[term.account_id].append(term)
    run_id = uuid7()
    summary = RunSummary(run_id, period.start, period.end)
    new_accounts: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    postings: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    total = len(by_account)
    for done, (account_id, account_terms) in enumerate(by_account.items(), start=1):
        first = account_terms[0]
        account = accounts.get(account_id)
        if account is not None and account.market != first.market:
            account.market = first.market  # an account first seen through a payment: now known
        proration = Proration(account.proration) if account is not None else Proration.DAILY
        if account is None:
            new_accounts.append(
                {
                    "id": uuid7(),
                    "tenant_id": tenant,
                    "account_id": account_id,
                    "market": first.market,
                    "currency": first.currency,
                    "proration": Proration.DAILY.value,
                    "receives_aptc": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        invoice_id = uuid7()
        invoice_lines: list[dict[str, Any]] = []
        for term in account_terms:
            monthly_total, monthly_member = _monthly_amounts(term, period, schedules, new_schedules, tenant, now)
            line_total = rules.prorate(
                monthly_total, period.start, period.end, term.covered_from, term.covered_to, proration
            )
            if term.market == "GROUP":
                member = rules.prorate(
                    monthly_member, period.start, period.end, term.covered_from, term.covered_to, proration
                )
            else:
                member = line_total
            invoice_lines.append(
                {
                    "id": uuid7(),
                    "tenant_id": tenant,
                    "invoice_id": invoice_id,
                    "policy_id": term.policy_id,
                    "term_id": term.term_id,
                    "member_id": term.subscriber_party_id,
                    "plan_code": term.plan_code,
                    "tier_code": term.tier_code,
                    "covered_people": term.covered_people,
                    "period_start": period.start,
                    "period_end": period.end,
                    "covered_from": term.covered_from,
                    "covered_to": term.covered_to,
                    "proration": proration.value,
                    "total_minor": line_total,
                    "employer_minor": line_total - member,
                    "member_minor": member,
                }
            )
        invoice_total = sum(line["total_minor"] for line in invoice_lines)
        invoice: dict[str, Any] = {
            "id": invoice_id,
            "tenant_id": tenant,
            "invoice_number": _invoice_number(period.start),
            "account_id": account_id,
            "run_id": run_id,
            "kind": "LIST_BILL" if first.market == "GROUP" else "INDIVIDUAL",
            "period_start": period.start,
            "period_end": period.end,
            "issued_on": today,
            "due_date": due_date(period.start, today),
            "currency": first.currency,
            "total_minor": invoice_total,
            "employer_minor": sum(line["employer_minor"] for line in invoice_lines),
            "member_minor": sum(line["member_minor"] for line in invoice_lines),
            "paid_minor": 0,
            "status": "OPEN" if invoice_total > 0 else "PAID",
            "status_reason": None,
            "created_at": now,
        }
        invoices.append(invoice)
        lines.extend(invoice_lines)
        if invoice_total > 0:
            _bulk_posting(
                postings,
                entries,
                tenant,
                now,
                PostingKind.INVOICE,
                rules.debit_credit(LedgerAccount.PREMIUM_RECEIVABLE, LedgerAccount.UNEARNED_PREMIUM, invoice_total),
                currency=first.currency,
                reference_type="INVOICE",
                reference_id=invoice_id,
                account_id=account_id,
                effective_date=period.start,
            )
        summary.invoice_count += 1
        summary.line_count += len(invoice_lines)
        summary.total_minor += invoice_total
        summary.currency = first.currency
        summary.invoice_ids.append(invoice_id)
        if progress is not None and (done % 1000 == 0 or done == total):
            progress(done, total)
    for model, rows in (
        (BillingAccount, new_accounts),
        (InstallmentSchedule, new_schedules),
        (Invoice, invoices),
        (InvoiceLine, lines),
        (LedgerPosting, postings),
        (LedgerEntry, entries),
    ):
        for start in range(0, len(rows), BATCH):
            repo.insert_many(model, rows[start : start + BATCH])
    for invoice in invoices:
        uow.publish(_generated(invoice, now), key=invoice["account_id"])
    repo.add(
        BillingRun(
            id=run_id,
            period_start=period.start,
            period_end=period.end,
            invoice_count=summary.invoice_count,
            line_count=summary.line_count,
            total_minor=summary.total_minor,
            currency=summary.currency,
            started_at=now,
            finished_at=uow.clock.now(),
        )
    )
    uow.flush()
    credits = repo.credit_balances()
    for account_id in {i["account_id"] for i in invoices if i["total_minor"] > 0} & credits.keys():
        apply_credit(uow, account_id)
    return summary


def _widen(a: enrollment.BillableTerm, b: enrollment.BillableTerm) -> enrollment.BillableTerm:
    return replace(a, covered_from=min(a.covered_from, b.covered_from), covered_to=max(a.covered_to, b.covered_to))


def _bulk_posting(
    postings: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    tenant: uuid.UUID,
    now: datetime,
    kind: PostingKind,
    lines: list[PostingLine],
    *,
    currency: str,
    reference_type: str,
    reference_id: uuid.UUID,
    account_id: uuid.UUID | None,
    effective_date: date,
) -> None:
    rules.check_posting(lines)
    posting_id = uuid7()
    postings.append(
        {
            "id": posting_id,
            "tenant_id": tenant,
            "kind": kind.value,
            "account_id": account_id,
            "reference_type": reference_type,
            "reference_id": reference_id,
            "reverses_id": None,
            "currency": currency,
            "total_minor": sum(line.debit_minor for line in lines),
            "posted_at": now,
            "effective_date": effective_date,
        }
    )
    for line in lines:
        entries.append(
            {
                "id": uuid7(),
                "tenant_id": tenant,
                "posting_id": posting_id,
                "ledger_account": line.account.value,
                "account_id": account_id,
                "currency": currency,
                "debit_minor": line.debit_minor,
                "credit_minor": line.credit_minor,
                "posted_at": now,
            }
        )


def _generated(invoice: dict[str, Any] | Invoice, now: datetime) -> InvoiceGenerated:
    row: dict[str, Any] = (
        invoice
        if isinstance(invoice, dict)
        else {
            name: getattr(invoice, name)
            for name in ("id", "account_id", "period_start", "period_end", "due_date", "total_minor", "currency")
        }
    )
    return InvoiceGenerated(
        invoice_id=row["id"],
        account_id=row["account_id"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        due_date=row["due_date"],
        total_amount=_money(row["total_minor"], row["currency"]),
        currency=row["currency"],
        generated_at=now,
    )


def issue_initial_invoice(
    uow: UnitOfWork,
    policy_id: uuid.UUID,
    effective_date: date,
    *,
    due_date: date | None = None,
    through: date | None = None,
) -> Invoice | None:
    """The first premium of an individual-market policy (the binder payment): from the effective
    date to the end of that month, due on the effective date. None when already issued.

    A COBRA election's first premium is due on ``due_date`` (45 days after the election) and covers
    every month from the loss of cover to the month of ``through`` (the election), one line a month,
    so coverage elected retroactively is paid for in full; billing runs skip the months it bills."""
    repo = BillingRepository(uow)
    if repo.initial_invoice(policy_id) is not None:
        return None
    period = DatePeriod(effective_date.replace(day=1), end_of_month(effective_date))
    terms = [t for t in enrollment.billable_terms(uow, period) if t.policy_id == policy_id]
    if not terms:
        return None
    first = terms[0]
    account = billing_account(uow, first.account_id, market=first.market, currency=first.currency)
    proration = Proration(account.proration)
    assert period.end is not None
    if all(rules.prorate(10**6, period.start, period.end, t.covered_from, t.covered_to, proration) == 0 for t in terms):
        # Whole-month proration and a start after the 15th: nothing is owed for that month, so the
        # first premium (the one activation waits for) is the next month's.
        start = period.end + timedelta(days=1)
        period = DatePeriod(start, end_of_month(start))
        terms = [t for t in enrollment.billable_terms(uow, period) if t.policy_id == policy_id]
        if not terms:
            return None
    assert period.end is not None
    months = [(period, terms)]
    while through is not None and months[-1][0].end is not None and months[-1][0].end < through:
        start = months[-1][0].end + timedelta(days=1)
        month = DatePeriod(start, end_of_month(start))
        months.append((month, [t for t in enrollment.billable_terms(uow, month) if t.policy_id == policy_id]))
    last = months[-1][0]
    assert last.end is not None
    today, now = uow.clock.today(), uow.clock.now()
    invoice = _issue_invoice(
        uow,
        account_id=first.account_id,
        kind="INITIAL",
        period=DatePeriod(period.start, last.end),
        due_date=due_date if due_date is not None else max(effective_date, today),
        currency=first.currency,
    )
    schedules: dict[tuple[uuid.UUID, uuid.UUID], Any] = dict(repo.schedules())
    new_schedules: list[dict[str, Any]] = []
    for month, month_terms in months:
        assert month.end is not None
        for term in month_terms:
            monthly, _ = _monthly_amounts(term, month, schedules, new_schedules, uow.require_tenant(), now)
            amount = rules.prorate(monthly, month.start, month.end, term.covered_from, term.covered_to, proration)
            repo.add(
                InvoiceLine(
                    id=uuid7(),
                    invoice_id=invoice.id,
                    policy_id=term.policy_id,
                    term_id=term.term_id,
                    member_id=term.subscriber_party_id,
                    plan_code=term.plan_code,
                    tier_code=term.tier_code,
                    covered_people=term.covered_people,
                    period_start=month.start,
                    period_end=month.end,
                    covered_from=term.covered_from,
                    covered_to=term.covered_to,
                    proration=proration.value,
                    total_minor=amount,
                    employer_minor=0,
                    member_minor=amount,
                )
            )
            invoice.total_minor += amount
            invoice.member_minor += amount
    repo.insert_many(InstallmentSchedule, new_schedules)
    uow.flush()
    if invoice.total_minor > 0:
        post(
            uow,
            PostingKind.INVOICE,
            rules.debit_credit(LedgerAccount.PREMIUM_RECEIVABLE, LedgerAccount.UNEARNED_PREMIUM, invoice.total_minor),
            currency=invoice.currency,
            reference_type="INVOICE",
            reference_id=invoice.id,
            account_id=invoice.account_id,
            effective_date=period.start,
        )
    else:
        invoice.status = "PAID"
    uow.publish(_generated(invoice, now), key=invoice.account_id)
    uow.flush()
    apply_credit(uow, invoice.account_id)
    return invoice


def void_invoice(uow: UnitOfWork, invoice_id: uuid.UUID, reason: str) -> Invoice:
    """Cancel an unpaid invoice: every posting made for it is reversed."""
    repo = BillingRepository(uow)
    invoice = repo.invoice(invoice_id, for_update=True)
    if invoice is None:
        raise NotFound("no such invoice")
    if invoice.status == "VOID":
        return invoice
    if invoice.paid_minor:
        raise BusinessRuleViolation("an invoice with money applied to it cannot be voided")
    reversed_ids = repo.reversed_ids()
    for posting in repo.postings_of("INVOICE", invoice.id):
        if posting.kind != PostingKind.REVERSAL.value and posting.id not in reversed_ids:
            reverse(uow, posting.id)
    invoice.status = "VOID"
    invoice.status_reason = reason[:120]
    return invoice


# ---------------------------------------------------------------------------------------------
# Payments
def record_payment(
    uow: UnitOfWork,
    account_id: uuid.UUID,
    amount: Money,
    method: PaymentMethod,
    reference: str,
) -> Payment:
    """Apply a payment to the account's oldest open invoices; what is left is account credit.

    The account's billing row is locked first, so concurrent payments of one account apply one
    after the other. The same (method, reference) twice is the same payment: returned, not repeated.
    """
    if amount.amount <= 0:
        raise BusinessRuleViolation("a payment must be a positive amount", extra={"field": "amount"})
    if amount.amount > rules.LARGEST_PAYMENT_MINOR:
        raise ValidationFailed([FieldError("amount", "is larger than any payment Olly records", "too_large")])
    if method is PaymentMethod.CARD and rules.looks_like_card_number(reference):
        # Refused without echoing it: the reference must be the processor's id, not the card.
        raise ValidationFailed(
            [FieldError("reference", "must be the card processor's payment id, never the card number", "card_data")]
        )
    repo = BillingRepository(uow)
    account = repo.billing_account(account_id, for_update=True)
    if account is None:
        billing_account(uow, account_id, currency=amount.currency)
        account = repo.billing_account(account_id, for_update=True)
        assert account is not None
    existing = repo.payment_by_reference(account_id, method.value, reference)
    if existing is not None:
        if existing.amount_minor != amount.amount or existing.currency != amount.currency:
            raise Conflict("a different payment with this method and reference is already recorded")
        return existing
    if amount.currency != account.currency:
        raise BusinessRuleViolation(f"this account is billed in {account.currency}", extra={"field": "currency"})
    now = uow.clock.now()
    payment = Payment(
        id=uuid7(),
        account_id=account_id,
        method=method.value,
        reference=reference,
        currency=amount.currency,
        amount_minor=amount.amount,
        applied_minor=0,
        credit_minor=0,
        received_at=now,
    )
    repo.add(payment)
    open_invoices = repo.open_invoices(account_id)
    by_id = {i.id: i for i in open_invoices}
    allocations, left = rules.allocate(
        amount.amount,
        [rules.OpenInvoice(i.id, i.due_date, i.issued_on, i.total_minor - i.paid_minor) for i in open_invoices],
    )
    lines = [PostingLine(LedgerAccount.CASH, debit_minor=amount.amount)]
    applied = sum(a.amount_minor for a in allocations)
    if applied:
        lines.append(PostingLine(LedgerAccount.PREMIUM_RECEIVABLE, credit_minor=applied))
    if left:
        lines.append(PostingLine(LedgerAccount.MEMBER_CREDIT, credit_minor=left))
    payment.applied_minor, payment.credit_minor = applied, left
    uow.flush()
    for allocation in allocations:
        _apply(uow, by_id[allocation.invoice_id], allocation.amount_minor, payment.id)
    post(
        uow,
        PostingKind.PAYMENT,
        lines,
        currency=amount.currency,
        reference_type="PAYMENT",
        reference_id=payment.id,
        account_id=account_id,
    )
    uow.publish(
        PaymentReceived(
            payment_id=payment.id,
            account_id=account_id,
            invoice_id=allocations[0].invoice_id if allocations else None,
            amount=amount.to_decimal_string(),
            currency=amount.currency,
            method=method.value,
            received_at=now,
        ),
        key=account_id,
    )
    uow.flush()
    reinstate_paid_lapses(uow, account_id, payment)
    return payment


def _apply(uow: UnitOfWork, invoice: Invoice, amount_minor: int, payment_id: uuid.UUID | None) -> None:
    repo = BillingRepository(uow)
    repo.add(
        PaymentAllocation(
            id=uuid7(),
            payment_id=payment_id,
            invoice_id=invoice.id,
            account_id=invoice.account_id,
            amount_minor=amount_minor,
            source="PAYMENT" if payment_id else "CREDIT",
            created_at=uow.clock.now(),
        )
    )
    invoice.paid_minor += amount_minor
    invoice.status = "PAID" if invoice.paid_minor >= invoice.total_minor else "PARTIALLY_PAID"
    if invoice.status == "PAID":
        for grace in repo.graces_of_invoice(invoice.id):
            if grace.status == "ACTIVE":
                grace.status, grace.resolved_at = "CURED", uow.clock.now()


def apply_credit(uow: UnitOfWork, account_id: uuid.UUID) -> int:
    """Use the account's credit on its oldest open invoices; returns the amount applied."""
    repo = BillingRepository(uow)
    account = repo.billing_account(account_id, for_update=True)
    if account is None:
        return 0
    debits, credits = repo.account_balance(LedgerAccount.MEMBER_CREDIT, account_id)
    available = credits - debits
    if available <= 0:
        return 0
    open_invoices = repo.open_invoices(account_id)
    if not open_invoices:
        return 0
    by_id = {i.id: i for i in open_invoices}
    allocations, _ = rules.allocate(
        available,
        [rules.OpenInvoice(i.id, i.due_date, i.issued_on, i.total_minor - i.paid_minor) for i in open_invoices],
    )
    applied = sum(a.amount_minor for a in allocations)
    if not applied:
        return 0
    for allocation in allocations:
        _apply(uow, by_id[allocation.invoice_id], allocation.amount_minor, None)
        invoice = by_id[allocation.invoice_id]
        source = repo.latest_payment_with_credit(account_id)
        if invoice.kind == "INITIAL" and invoice.status == "PAID" and source is not None:
            # A first premium settled from credit: announce the (earlier) payment as now applied to
            # it, so the saga's activation does not wait for another payment.
            uow.publish(
                PaymentReceived(
                    payment_id=source.id,
                    account_id=account_id,
                    invoice_id=invoice.id,
                    amount=_money(allocation.amount_minor, account.currency),
                    currency=account.currency,
                    method=source.method,
                    received_at=source.received_at,
                ),
                key=account_id,
            )
    post(
        uow,
        PostingKind.CREDIT_APPLIED,
        rules.debit_credit(LedgerAccount.MEMBER_CREDIT, LedgerAccount.PREMIUM_RECEIVABLE, applied),
        currency=account.currency,
        reference_type="ACCOUNT",
        reference_id=account_id,
        account_id=account_id,
    )
    return applied


def initial_premium_paid(uow: UnitOfWork, policy_id: uuid.UUID) -> bool:
    invoice = BillingRepository(uow).initial_invoice(policy_id)
    return invoice is not None and invoice.status == "PAID"


# ---------------------------------------------------------------------------------------------
# Adjustments: changes into months already billed
@dataclass
class AdjustmentSummary:
    policy_id: uuid.UUID
    currency: str = "USD"
    invoice_ids: list[uuid.UUID] = field(default_factory=list)
    line_count: int = 0
    total_minor: int = 0
    """The net of every adjustment made (negative: the premium went down)."""
    credited_minor: int = 0
    """What the months whose premium went down gave back as account credit."""


def has_lapsed(uow: UnitOfWork, policy_id: uuid.UUID) -> bool:
    """Whether the policy's grace period expired unpaid (and it was not reinstated)."""
    return any(g.status == "EXPIRED" and g.policy_id == policy_id for g in BillingRepository(uow).graces_of(policy_id))


def adjust_policy(uow: UnitOfWork, policy_id: uuid.UUID) -> AdjustmentSummary:
    """Re-rate every month already billed to a policy as enrollment now knows it (a plan change,
    an added or removed person, a termination inside the month) and bill the difference.

    Per month and policy term: what the month costs now (prorated by the account's setting, as the
    run does) minus what the month's invoices that are not void already charged. Each month with a
    difference gets an ADJUSTMENT invoice with one line per term that changed. A positive invoice is
    owed like any other (premium receivable / unearned premium; due on the month's first day, and
    at least 15 days after issue); a negative one is account credit at once (unearned premium /
    member credit) and is marked paid. Credit is then applied to the account's open invoices.
    Running it again finds nothing more to adjust."""
    repo = BillingRepository(uow)
    tenant, today, now = uow.require_tenant(), uow.clock.today(), uow.clock.now()
    summary = AdjustmentSummary(policy_id)
    if has_lapsed(uow, policy_id):
        raise BusinessRuleViolation(
            "a policy that lapsed for non-payment is settled by the lapse (and any reinstatement), not adjusted"
        )
    billed: dict[date, dict[uuid.UUID, list[InvoiceLine]]] = defaultdict(lambda: defaultdict(list))
    account_id: uuid.UUID | None = None
    invoices: dict[uuid.UUID, Invoice | None] = {}
    for line in repo.lines_of_policy(policy_id):
        if line.invoice_id not in invoices:
            invoices[line.invoice_id] = repo.invoice(line.invoice_id)
        invoice = invoices[line.invoice_id]
        if invoice is None or invoice.status == "VOID":
            continue
        account_id = invoice.account_id
        billed[line.period_start][line.term_id].append(line)
    if account_id is None:
        return summary
    account = repo.billing_account(account_id, for_update=True)
    proration = Proration(account.proration) if account is not None else Proration.DAILY
    schedules: dict[tuple[uuid.UUID, uuid.UUID], Any] = dict(repo.schedules())
    new_schedules: list[dict[str, Any]] = []
    for period_start in sorted(billed):
        by_term = billed[period_start]
        period = DatePeriod(period_start, end_of_month(period_start))
        assert period.end is not None
        expected: dict[uuid.UUID, enrollment.BillableTerm] = {}
        for found in enrollment.billable_terms(uow, period, [policy_id]):
            seen = expected.get(found.term_id)
            expected[found.term_id] = found if seen is None else _widen(seen, found)
        changes: list[tuple[InvoiceLine | None, enrollment.BillableTerm | None, int, int]] = []
        for term_id in sorted(expected.keys() | by_term.keys(), key=str):
            lines, term = by_term.get(term_id, []), expected.get(term_id)
            now_total = now_member = 0
            if term is not None:
                monthly_total, monthly_member = _monthly_amounts(term, period, schedules, new_schedules, tenant, now)
                now_total = rules.prorate(
                    monthly_total, period.start, period.end, term.covered_from, term.covered_to, proration
                )
                now_member = (
                    rules.prorate(
                        monthly_member, period.start, period.end, term.covered_from, term.covered_to, proration
                    )
                    if term.market == "GROUP"
                    else now_total
                )
            diff_total = now_total - sum(line.total_minor for line in lines)
            diff_member = now_member - sum(line.member_minor for line in lines)
            if diff_total or diff_member:
                changes.append((lines[0] if lines else None, term, diff_total, diff_member))
        if changes:
            invoice = _adjustment_invoice(uow, account_id, period, proration, changes, today, now)
            summary.invoice_ids.append(invoice.id)
            summary.line_count += len(changes)
            summary.total_minor += invoice.total_minor
            summary.credited_minor += max(0, -invoice.total_minor)
            summary.currency = invoice.currency
    repo.insert_many(InstallmentSchedule, new_schedules)
    if summary.invoice_ids:
        uow.flush()
        apply_credit(uow, account_id)
    return summary


def _adjustment_invoice(
    uow: UnitOfWork,
    account_id: uuid.UUID,
    period: DatePeriod,
    proration: Proration,
    changes: list[tuple[InvoiceLine | None, enrollment.BillableTerm | None, int, int]],
    today: date,
    now: datetime,
) -> Invoice:
    assert period.end is not None
    repo = BillingRepository(uow)
    first_line, first_term = changes[0][0], changes[0][1]
    currency = first_term.currency if first_term is not None else "USD"
    if first_line is not None:
        billed_on = repo.invoice(first_line.invoice_id)
        currency = billed_on.currency if billed_on is not None else currency
    total = sum(change[2] for change in changes)
    member = sum(change[3] for change in changes)
    invoice = _issue_invoice(
        uow,
        account_id=account_id,
        kind="ADJUSTMENT",
        period=period,
        due_date=due_date(period.start, today),
        currency=currency,
        total=total,
        member=member,
        status="OPEN" if total > 0 else "PAID",
    )
    uow.flush()
    for line, term, diff_total, diff_member in changes:
        if term is not None:
            policy_id, term_id, member_id = term.policy_id, term.term_id, term.subscriber_party_id
            plan_code, tier_code, people = term.plan_code, term.tier_code, term.covered_people
            covered_from, covered_to = term.covered_from, term.covered_to
        else:  # the term no longer covers any day of the month: its charge is taken back
            assert line is not None
            policy_id, term_id, member_id = line.policy_id, line.term_id, line.member_id
            plan_code, tier_code, people = line.plan_code, line.tier_code, 0
            covered_from, covered_to = period.start, period.start - timedelta(days=1)
        repo.add(
            InvoiceLine(
                id=uuid7(),
                invoice_id=invoice.id,
                kind="ADJUSTMENT",
                policy_id=policy_id,
                term_id=term_id,
                member_id=member_id,
                plan_code=plan_code,
                tier_code=tier_code,
                covered_people=people,
                period_start=period.start,
                period_end=period.end,
                covered_from=covered_from,
                covered_to=covered_to,
                proration=proration.value,
                total_minor=diff_total,
                employer_minor=diff_total - diff_member,
                member_minor=diff_member,
            )
        )
    uow.flush()
    if total > 0:
        post(
            uow,
            PostingKind.INVOICE,
            rules.debit_credit(LedgerAccount.PREMIUM_RECEIVABLE, LedgerAccount.UNEARNED_PREMIUM, total),
            currency=currency,
            reference_type="INVOICE",
            reference_id=invoice.id,
            account_id=account_id,
            effective_date=period.start,
        )
    elif total < 0:
        post(
            uow,
            PostingKind.ADJUSTMENT,
            rules.debit_credit(LedgerAccount.UNEARNED_PREMIUM, LedgerAccount.MEMBER_CREDIT, -total),
            currency=currency,
            reference_type="INVOICE",
            reference_id=invoice.id,
            account_id=account_id,
            effective_date=period.start,
        )
        _apply(uow, invoice, total, None)  # the negative balance moved to credit: settled at once
    uow.publish(_generated(invoice, now), key=account_id)
    return invoice


# ---------------------------------------------------------------------------------------------
# Grace periods and the daily job
@dataclass
class DailyOutcome:
    cancelled_initial: list[uuid.UUID] = field(default_factory=list)
    graces_started: list[uuid.UUID] = field(default_factory=list)
    graces_expired: list[uuid.UUID] = field(default_factory=list)
    earned_invoices: int = 0


def _reinstatement_days(uow: UnitOfWork, plan_code: str, on: date) -> int | None:
    """The plan's reinstatement window after a lapse; None (no reinstatement) when the plan does not
    allow it or is not in the plans domain."""
    schedule = plans.benefit_schedule(uow, plan_code, on)
    return None if schedule is None else schedule.administration.grace_period.reinstatement_days


def _grace_rule(uow: UnitOfWork, plan_code: str, on: date, market: str) -> tuple[int, int | None]:
    if market == "COBRA":  # the law's 30 days, whatever the group plan's own grace
        return rules.COBRA_GRACE_DAYS, None
    schedule = plans.benefit_schedule(uow, plan_code, on)
    if schedule is not None:
        rule = schedule.administration.grace_period
        return rule.days, rule.aptc_months
    return rules.DEFAULT_GRACE_DAYS, rules.ACA_APTC_GRACE_MONTHS if market == "INDIVIDUAL" else None


def check_payments(uow: UnitOfWork) -> DailyOutcome:
    """The daily job: unpaid first premiums cancel the enrollment (compensation), other unpaid
    premiums start grace periods, unpaid grace periods expire, and ended periods' premium is earned."""
    repo = BillingRepository(uow)
    today, now = uow.clock.today(), uow.clock.now()
    outcome = DailyOutcome()
    accounts = repo.billing_accounts()
    graced = repo.graced_invoices()
    in_grace = repo.active_grace_policies() | repo.expired_grace_policies()
    for invoice in repo.overdue_invoices(today):
        lines = repo.lines(invoice.id)
        if invoice.kind == "INITIAL":
            void_invoice(uow, invoice.id, "FIRST_PREMIUM_UNPAID")
            for line in lines:
                uow.publish(
                    PaymentMissed(
                        event_type="PAYMENT_MISSED",
                        member_id=line.member_id,
                        invoice_id=invoice.id,
                        grace_period_end_date=invoice.due_date,
                        premium_cents=line.total_minor,
                        currency=invoice.currency,
                        missed_at=now,
                        enrollment_id=line.policy_id,
                    ),
                    key=line.policy_id,
                )
                outcome.cancelled_initial.append(line.policy_id)
            continue
        if invoice.id in graced:
            continue
        account = accounts.get(invoice.account_id)
        for line in lines:
            if line.policy_id in in_grace or line.total_minor == 0:
                continue
            market = account.market if account else ""
            summary = enrollment.policy(uow, line.policy_id)
            if summary is not None and summary.market == "COBRA":
                market = "COBRA"
            days, aptc_months = _grace_rule(uow, line.plan_code, line.period_start, market)
            aptc = bool(account and account.receives_aptc and account.market == "INDIVIDUAL" and aptc_months)
            window = rules.grace_window(
                invoice.due_date,
                line.period_start - timedelta(days=1),
                aptc=aptc,
                days=days,
                aptc_months=aptc_months,
            )
            grace = GracePeriod(
                id=uuid7(),
                account_id=invoice.account_id,
                invoice_id=invoice.id,
                policy_id=line.policy_id,
                member_id=line.member_id,
                rule=window.rule.value,
                due_date=invoice.due_date,
                started_on=window.started_on,
                end_date=window.end_date,
                coverage_end_if_expired=window.coverage_end_if_expired,
                claims_pend_from=window.claims_pend_from,
                premium_minor=line.total_minor,
                currency=invoice.currency,
                status="ACTIVE",
                resolved_at=None,
            )
            repo.add(grace)
            in_grace.add(line.policy_id)
            for event_type in ("PAYMENT_MISSED", "GRACE_PERIOD_STARTED"):
                uow.publish(_missed(grace, event_type, now), key=line.policy_id)
            outcome.graces_started.append(line.policy_id)
    uow.flush()
    for grace in repo.expiring_graces(today):
        grace.status, grace.resolved_at = "EXPIRED", now
        lapsed_line = next((line for line in repo.lines(grace.invoice_id) if line.policy_id == grace.policy_id), None)
        if lapsed_line is not None:
            allowed_days = _reinstatement_days(uow, lapsed_line.plan_code, lapsed_line.period_start)
            if allowed_days is not None:
                grace.reinstate_until = grace.end_date + timedelta(days=allowed_days)
        uow.publish(_missed(grace, "GRACE_PERIOD_EXPIRED", now), key=grace.policy_id)
        outcome.graces_expired.append(grace.policy_id)
        # Months after the coverage ends are not owed: their household invoices are voided, the
        # run's and any adjustment's (an adjustment invoice bills one month, like the run's).
        account = accounts.get(grace.account_id)
        household = account is None or account.market != "GROUP"
        returned = 0
        for invoice in repo.open_invoices(grace.account_id):
            lines = repo.lines(invoice.id)
            if (
                (invoice.kind == "INDIVIDUAL" or (invoice.kind == "ADJUSTMENT" and household))
                and invoice.period_start > grace.coverage_end_if_expired
                and all(line.policy_id == grace.policy_id for line in lines)
            ):
                returned += _void_lapsed(uow, invoice)
        if returned:
            uow.flush()
            apply_credit(uow, grace.account_id)
    for invoice in repo.unearned_invoices(today):
        if invoice.total_minor != 0:
            # A negative adjustment takes back premium: earned premium goes down by it.
            earned = (
                rules.debit_credit(LedgerAccount.UNEARNED_PREMIUM, LedgerAccount.EARNED_PREMIUM, invoice.total_minor)
                if invoice.total_minor > 0
                else rules.debit_credit(
                    LedgerAccount.EARNED_PREMIUM, LedgerAccount.UNEARNED_PREMIUM, -invoice.total_minor
                )
            )
            post(
                uow,
                PostingKind.PREMIUM_EARNED,
                earned,
                currency=invoice.currency,
                reference_type="INVOICE",
                reference_id=invoice.id,
                account_id=invoice.account_id,
                effective_date=invoice.period_end,
            )
            outcome.earned_invoices += 1
    return outcome


def _void_lapsed(uow: UnitOfWork, invoice: Invoice) -> int:
    """Void a month a lapse leaves unowed. What was paid on it goes back to the account's credit
    (premium receivable → member credit, the allocations undone by a negative one); returns it."""
    paid = invoice.paid_minor
    if paid:
        BillingRepository(uow).add(
            PaymentAllocation(
                id=uuid7(),
                payment_id=None,
                invoice_id=invoice.id,
                account_id=invoice.account_id,
                amount_minor=-paid,
                source="CREDIT",
                created_at=uow.clock.now(),
            )
        )
        invoice.paid_minor = 0
    void_invoice(uow, invoice.id, LAPSE_REASON)
    if paid:  # after the void, which reverses the invoice's postings, not this one
        post(
            uow,
            PostingKind.UNAPPLIED,
            rules.debit_credit(LedgerAccount.PREMIUM_RECEIVABLE, LedgerAccount.MEMBER_CREDIT, paid),
            currency=invoice.currency,
            reference_type="INVOICE",
            reference_id=invoice.id,
            account_id=invoice.account_id,
        )
    return paid


def reinstate_paid_lapses(uow: UnitOfWork, account_id: uuid.UUID, payment: Payment | None = None) -> list[uuid.UUID]:
    """Reinstate the account's lapsed policies whose premiums are now all paid (a payment just
    arrived), within each plan's reinstatement window; returns the policies reinstated.

    A lapse qualifies when its window (``reinstate_until``) is still open, the policy has no open
    invoice left and the account's credit covers every month voided at the lapse. Those months are
    re-issued as REINSTATEMENT invoices (premium receivable / unearned premium) and paid from the
    credit at once (member credit / premium receivable); ``billing.reinstatement.paid`` tells
    enrollment to restore the coverage. The grace period becomes REINSTATED, so this happens once.
    """
    repo = BillingRepository(uow)
    today, now = uow.clock.today(), uow.clock.now()
    graces = repo.reinstatable_graces(account_id, today)
    if not graces:
        return []
    account = repo.billing_account(account_id, for_update=True)
    if account is None:
        return []
    reinstated: list[uuid.UUID] = []
    for grace in graces:
        owing = {
            invoice.id
            for invoice in repo.open_invoices(account_id)
            for line in repo.lines(invoice.id)
            if line.policy_id == grace.policy_id
        }
        if owing:
            continue  # a month the lapse left receivable is still unpaid
        lapsed = [
            (invoice, [line for line in repo.lines(invoice.id) if line.kind in ("PREMIUM", "ADJUSTMENT")])
            for invoice in repo.lapsed_invoices(account_id, grace.policy_id, grace.coverage_end_if_expired)
        ]
        owed = sum(line.total_minor for _, lines in lapsed for line in lines)
        debits, credits = repo.account_balance(LedgerAccount.MEMBER_CREDIT, account_id)
        if credits - debits < owed:
            continue
        for voided, lines in lapsed:
            _reissue(uow, voided, lines, today, now)
        if owed:
            post(
                uow,
                PostingKind.CREDIT_APPLIED,
                rules.debit_credit(LedgerAccount.MEMBER_CREDIT, LedgerAccount.PREMIUM_RECEIVABLE, owed),
                currency=account.currency,
                reference_type="ACCOUNT",
                reference_id=account_id,
                account_id=account_id,
            )
        grace.status, grace.resolved_at = "REINSTATED", now
        assert grace.reinstate_until is not None
        uow.publish(
            ReinstatementPaid(
                enrollment_id=grace.policy_id,
                member_id=grace.member_id,
                account_id=account_id,
                invoice_id=grace.invoice_id,
                coverage_end_date=grace.coverage_end_if_expired,
                reinstated_from=grace.coverage_end_if_expired + timedelta(days=1),
                reinstate_until=grace.reinstate_until,
                amount=_money(owed, account.currency),
                currency=account.currency,
                payment_id=payment.id if payment is not None else None,
                paid_at=now,
            ),
            key=grace.policy_id,
        )
        reinstated.append(grace.policy_id)
    return reinstated


def _reissue(uow: UnitOfWork, voided: Invoice, lines: list[InvoiceLine], today: date, now: datetime) -> Invoice:
    """A month voided at a lapse, billed again as it was (same lines and amounts) and paid from credit.

    A term's month is re-issued once (``REINSTATEMENT``, unique like the run's line); the lines of a
    voided adjustment of that month are re-issued as ``ADJUSTMENT`` lines beside it."""
    repo = BillingRepository(uow)
    total = sum(line.total_minor for line in lines)
    invoice = _issue_invoice(
        uow,
        account_id=voided.account_id,
        kind="REINSTATEMENT",
        period=DatePeriod(voided.period_start, voided.period_end),
        due_date=today,
        currency=voided.currency,
        total=total,
        member=sum(line.member_minor for line in lines),
        employer=sum(line.employer_minor for line in lines),
    )
    uow.flush()
    for line in lines:
        repo.add(
            InvoiceLine(
                id=uuid7(),
                invoice_id=invoice.id,
                kind="ADJUSTMENT" if line.kind == "ADJUSTMENT" else "REINSTATEMENT",
                policy_id=line.policy_id,
                term_id=line.term_id,
                member_id=line.member_id,
                plan_code=line.plan_code,
                tier_code=line.tier_code,
                covered_people=line.covered_people,
                period_start=line.period_start,
                period_end=line.period_end,
                covered_from=line.covered_from,
                covered_to=line.covered_to,
                proration=line.proration,
                total_minor=line.total_minor,
                employer_minor=line.employer_minor,
                member_minor=line.member_minor,
            )
        )
    if total > 0:
        post(
            uow,
            PostingKind.INVOICE,
            rules.debit_credit(LedgerAccount.PREMIUM_RECEIVABLE, LedgerAccount.UNEARNED_PREMIUM, total),
            currency=invoice.currency,
            reference_type="INVOICE",
            reference_id=invoice.id,
            account_id=invoice.account_id,
            effective_date=invoice.period_start,
        )
        _apply(uow, invoice, total, None)
    else:
        invoice.status = "PAID"
    uow.publish(_generated(invoice, now), key=invoice.account_id)
    return invoice


def _missed(grace: GracePeriod, event_type: str, now: datetime) -> PaymentMissed:
    return PaymentMissed(
        event_type=event_type,
        member_id=grace.member_id,
        invoice_id=grace.invoice_id,
        grace_period_end_date=grace.end_date,
        premium_cents=grace.premium_minor,
        currency=grace.currency,
        missed_at=now,
        enrollment_id=grace.policy_id,
        coverage_end_date=grace.coverage_end_if_expired if event_type == "GRACE_PERIOD_EXPIRED" else None,
    )


def run_due(uow: UnitOfWork) -> RunSummary:
    """The periodic billing run: this month's period (idempotent, so it catches newly active
    policies), and from the 15th on next month's too, so invoices go out before they are due."""
    today = uow.clock.today()
    current = DatePeriod(today.replace(day=1), end_of_month(today))
    summary = run_billing(uow, current)
    if today.day >= 15:
        start = end_of_month(today) + timedelta(days=1)
        summary = run_billing(uow, DatePeriod(start, end_of_month(start)))
    return summary


# ---------------------------------------------------------------------------------------------
# Claims payable and payment runs
def record_approved_claim(
    uow: UnitOfWork,
    *,
    claim_id: uuid.UUID,
    member_id: uuid.UUID,
    provider_id: uuid.UUID,
    paid: Money,
    payee: str,
    approved_at: datetime,
    billing_npi: str | None = None,
    adjudication_sequence: int | None = None,
) -> ClaimPayable | None:
    """Owe an approved claim's paid amount to its payee (its first adjudication: None when the claim
    has a payable already; a later adjudication is ``readjudication.apply``'s). A provider payee is
    its ``billing_npi`` (the claim's); without it, its provider id."""
    repo = BillingRepository(uow)
    if repo.claim_payable(claim_id) is not None or paid.amount <= 0:
        return None
    if payee not in ("PROVIDER", "MEMBER"):
        raise BusinessRuleViolation("payee must be PROVIDER or MEMBER")
    payable = ClaimPayable(
        id=uuid7(),
        claim_id=claim_id,
        member_id=member_id,
        provider_id=provider_id,
        payee=payee,
        payee_id=provider_id if payee == "PROVIDER" else member_id,
        payee_npi=billing_npi if payee == "PROVIDER" else None,
        currency=paid.currency,
        amount_minor=paid.amount,
        approved_at=approved_at,
        status="UNPAID",
        claim_payment_id=None,
        adjudication_sequence=adjudication_sequence,
    )
    repo.add(payable)
    post_claim_approved(uow, claim_id, paid.amount, paid.currency)
    return payable


def post_claim_approved(uow: UnitOfWork, claim_id: uuid.UUID, amount: int, currency: str) -> None:
    """An approved claim's amount (or a re-adjudication's increase) becomes owed: claims expense →
    claims payable."""
    post(
        uow,
        PostingKind.CLAIM_APPROVED,
        rules.debit_credit(LedgerAccount.CLAIMS_EXPENSE, LedgerAccount.CLAIMS_PAYABLE, amount),
        currency=currency,
        reference_type="CLAIM",
        reference_id=claim_id,
        account_id=None,
    )


def record_unpaid_claim(
    uow: UnitOfWork,
    *,
    claim_id: uuid.UUID,
    member_id: uuid.UUID,
    provider_id: uuid.UUID,
    currency: str,
    decided_at: datetime,
    billing_npi: str | None = None,
    adjudication_sequence: int | None = None,
) -> ClaimPayable | None:
    """Owe a provider $0 for a claim that pays nothing (denied, or all to the member's share), so the
    next payment run settles it and the provider's 835 reports it (CLP02 4 for a denial, $0 paid).
    Its first adjudication only (None when the claim has a payable); no ledger posting (nothing is
    owed). Approved later, it is owed through ``readjudication.apply``."""
    repo = BillingRepository(uow)
    if repo.claim_payable(claim_id) is not None:
        return None
    payable = ClaimPayable(
        id=uuid7(),
        claim_id=claim_id,
        member_id=member_id,
        provider_id=provider_id,
        payee="PROVIDER",
        payee_id=provider_id,
        payee_npi=billing_npi,
        currency=currency,
        amount_minor=0,
        approved_at=decided_at,
        status="UNPAID",
        claim_payment_id=None,
        adjudication_sequence=adjudication_sequence,
    )
    repo.add(payable)
    return payable


class ClaimChunk:
    """A chunk of ``claims.claim.adjudicated`` events, as billing's consumer reads it at once: which
    of its claims billing holds nothing for yet (one query). Their first adjudication is recorded
    as ``record_approved_claim`` and ``record_unpaid_claim`` record it, the same rows, but gathered
    and written together just before the chunk commits (a multi-row insert per table, no objects),
    or sooner by ``write`` when a read of the usual path must see them."""

    def __init__(self, uow: UnitOfWork, claim_ids: set[uuid.UUID]) -> None:
        self.tenant = uow.tenant_id
        held = BillingRepository(uow).claims_with_payables(claim_ids) if self.tenant is not None else claim_ids
        self.unheld = claim_ids - held
        """Claims billing holds no payable for (a claim leaves once an event of it is recorded)."""
        self.payables: list[dict[str, Any]] = []
        self.postings: list[dict[str, Any]] = []
        self.entries: list[dict[str, Any]] = []
        uow.before_commit(lambda: self.write(uow))

    def write(self, uow: UnitOfWork) -> None:
        """Write what the chunk gathered so far."""
        repo = BillingRepository(uow)
        for model, rows in ((ClaimPayable, self.payables), (LedgerPosting, self.postings), (LedgerEntry, self.entries)):
            for start in range(0, len(rows), BATCH):
                repo.insert_many(model, rows[start : start + BATCH])
            rows.clear()

    def approved(
        self,
        uow: UnitOfWork,
        *,
        claim_id: uuid.UUID,
        member_id: uuid.UUID,
        provider_id: uuid.UUID,
        paid: Money,
        payee: str,
        approved_at: datetime,
        billing_npi: str | None,
        adjudication_sequence: int | None,
    ) -> None:
        """``record_approved_claim`` of a claim in ``unheld``."""
        if paid.amount <= 0:
            return
        if payee not in ("PROVIDER", "MEMBER"):
            raise BusinessRuleViolation("payee must be PROVIDER or MEMBER")
        self._payable(
            claim_id,
            member_id,
            provider_id,
            payee,
            provider_id if payee == "PROVIDER" else member_id,
            billing_npi if payee == "PROVIDER" else None,
            paid,
            approved_at,
            adjudication_sequence,
        )
        _bulk_posting(
            self.postings,
            self.entries,
            uow.require_tenant(),
            uow.clock.now(),
            PostingKind.CLAIM_APPROVED,
            rules.debit_credit(LedgerAccount.CLAIMS_EXPENSE, LedgerAccount.CLAIMS_PAYABLE, paid.amount),
            currency=paid.currency,
            reference_type="CLAIM",
            reference_id=claim_id,
            account_id=None,
            effective_date=uow.clock.today(),
        )

    def unpaid(
        self,
        *,
        claim_id: uuid.UUID,
        member_id: uuid.UUID,
        provider_id: uuid.UUID,
        currency: str,
        decided_at: datetime,
        billing_npi: str | None,
        adjudication_sequence: int | None,
    ) -> None:
        """``record_unpaid_claim`` of a claim in ``unheld``."""
        owed = Money(0, currency)
        self._payable(
            claim_id,
            member_id,
            provider_id,
            "PROVIDER",
            provider_id,
            billing_npi,
            owed,
            decided_at,
            adjudication_sequence,
        )

    def _payable(
        self,
        claim_id: uuid.UUID,
        member_id: uuid.UUID,
        provider_id: uuid.UUID,
        payee: str,
        payee_id: uuid.UUID,
        payee_npi: str | None,
        amount: Money,
        approved_at: datetime,
        adjudication_sequence: int | None,
    ) -> None:
        self.payables.append(
            {
                "id": uuid7(),
                "tenant_id": self.tenant,
                "claim_id": claim_id,
                "member_id": member_id,
                "provider_id": provider_id,
                "payee": payee,
                "payee_id": payee_id,
                "payee_npi": payee_npi,
                "currency": amount.currency,
                "amount_minor": amount.amount,
                "approved_at": approved_at,
                "status": "UNPAID",
                "claim_payment_id": None,
                "part": 0,
                "adjudication_sequence": adjudication_sequence,
                "reverses_sequence": None,
            }
        )


def _payee_groups(uow: UnitOfWork, payables: list[UnpaidClaim]) -> dict[tuple[str, str, str], list[UnpaidClaim]]:
    """The run's payables per payee and currency. A provider payee is its billing NPI, whatever
    provider ids its claims carry (claims' id derived from the NPI, then the registry's once claims
    knows it): the 835 has one payee per NPI, so one NPI is paid once a run. A payable recorded
    without its NPI learns it from claims (or from another payable of its provider id); a member
    payee, or a provider whose NPI nobody knows, is its id."""
    missing = [p for p in payables if p.payee == "PROVIDER" and p.payee_npi is None]
    if missing:
        found = claims_public.billing_npis(uow, [p.claim_id for p in missing])
        by_provider = {p.provider_id: p.payee_npi for p in payables if p.payee == "PROVIDER" and p.payee_npi}
        for payable in missing:
            payable.payee_npi = found.get(payable.claim_id) or by_provider.get(payable.provider_id)
    groups: dict[tuple[str, str, str], list[UnpaidClaim]] = defaultdict(list)
    for payable in payables:
        who = payable.payee_npi if payable.payee == "PROVIDER" and payable.payee_npi else str(payable.payee_id)
        groups[(payable.payee, who, payable.currency)].append(payable)
    return groups


def _provider_payee_id(uow: UnitOfWork, npi: str) -> uuid.UUID:
    """The id a provider's payment is made under: the provider registry's for its NPI (where bank
    accounts named by NPI are kept), else the id claims gives the NPI."""
    registered = providers.provider_by_npi(uow, npi)
    return registered.provider_id if registered is not None else claims_public.provider_id_of(uow, npi)


def run_claim_payments(uow: UnitOfWork) -> PaymentRun:
    """Pay every approved, unpaid claim: one payment per payee and currency (an EFT to a provider,
    a cheque to a member), a posting claims payable → cash for each, and ``claims.claim.paid`` and
    ``billing.payment.completed`` for each claim. A provider is paid once per billing NPI (see
    ``_payee_groups``)."""
    repo = BillingRepository(uow)
    today, now = uow.clock.today(), uow.clock.now()
    run = PaymentRun(id=uuid7(), run_date=today, payment_count=0, claim_count=0, total_minor=0, created_at=now)
    repo.add(run)
    uow.flush()
    groups = _payee_groups(uow, repo.unpaid_claims())
    for (payee, _, currency), claims in sorted(groups.items()):
        npi = claims[0].payee_npi if payee == "PROVIDER" else None
        payee_id = _provider_payee_id(uow, npi) if npi else claims[0].payee_id
        amount = sum(c.amount_minor for c in claims)
        payment = ClaimPayment(
            id=uuid7(),
            run_id=run.id,
            payee=payee,
            payee_id=payee_id,
            payee_npi=npi,
            currency=currency,
            amount_minor=amount,
            method="ACH" if payee == "PROVIDER" else "CHECK",
            trace_number=f"{today:%Y%m%d}{secrets.token_hex(6).upper()}",
            paid_on=today,
            created_at=now,
        )
        repo.add(payment)
        uow.flush()
        # voided/replaced claims' payments taken back (by NPI, or by any provider id of these claims)
        provider_ids = {c.provider_id for c in claims} if payee == "PROVIDER" else set()
        amount -= recoveries.net_against(uow, payment, provider_ids)
        if amount:  # a payee whose claims all pay $0 (denied) gets a $0 remittance, no money moves
            post(
                uow,
                PostingKind.CLAIM_PAID,
                rules.debit_credit(LedgerAccount.CLAIMS_PAYABLE, LedgerAccount.CASH, amount),
                currency=currency,
                reference_type="CLAIM_PAYMENT",
                reference_id=payment.id,
                account_id=None,
            )
        repo.mark_claims_paid(claims, payment.id)
        for claim in claims:
            if not claim.amount_minor:
                continue  # settled at $0 (see record_unpaid_claim): on the 835, nothing was paid
            paid = _money(claim.amount_minor, currency)
            uow.publish(
                ClaimPaid(
                    claim_id=claim.claim_id,
                    member_id=claim.member_id,
                    provider_id=claim.provider_id,
                    payment_id=payment.id,
                    paid_amount=paid,
                    currency=currency,
                    payee=payee,
                    paid_at=now,
                ),
                key=claim.claim_id,
            )
            uow.publish(
                PaymentCompleted(
                    payment_id=payment.id,
                    claim_id=claim.claim_id,
                    payee=payee,
                    payee_id=payee_id,
                    amount=paid,
                    currency=currency,
                    completed_at=now,
                ),
                key=claim.claim_id,
            )
        run.payment_count += 1
        run.claim_count += len(claims)
        run.total_minor += amount
    _announce_run(uow, run)
    return run


def _announce_run(uow: UnitOfWork, run: PaymentRun) -> None:
    """``PAYMENT_RUN_COMPLETED`` once the run's payments are made (the 835s are written from it)."""
    if run.payment_count:
        uow.publish(
            PaymentRunCompleted(
                payment_run_id=run.id,
                run_date=run.run_date,
                payment_count=run.payment_count,
                claim_count=run.claim_count,
                completed_at=uow.clock.now(),
            ),
            key=run.id,
        )


# ---------------------------------------------------------------------------------------------
# Reconciliation and aging
@dataclass(frozen=True, slots=True)
class LedgerAccountBalance:
    ledger_account: str
    currency: str
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    debit_minor: int
    credit_minor: int
    balances: tuple[LedgerAccountBalance, ...]
    problems: tuple[str, ...]
    payments_checked: int

    @property
    def is_clean(self) -> bool:
        return not self.problems and self.debit_minor == self.credit_minor


def reconcile(uow: UnitOfWork) -> Reconciliation:
    """Prove the books: Σ debits = Σ credits overall, per posting and per billing account; each
    invoice's paid amount is what was allocated to it; each payment is its allocations plus its
    credit; receivables and credit per account agree with the invoices and payments; claims payable
    is the unpaid approved claims."""
    repo = BillingRepository(uow)
    problems: list[str] = []
    debits, credits = repo.totals()
    if debits != credits:
        problems.append(f"ledger: debits {debits} ≠ credits {credits}")
    for posting_id, d, c in repo.unbalanced_postings():
        problems.append(f"posting {posting_id}: debits {d} ≠ credits {c}")
    for account_id, d, c in repo.per_billing_account():
        if d != c:
            problems.append(f"account {account_id}: debits {d} ≠ credits {c}")
    for invoice_id, paid, allocated in repo.invoice_allocation_mismatches():
        problems.append(f"invoice {invoice_id}: paid {paid} ≠ allocated {allocated}")
    for payment_id, applied, allocated in repo.payment_allocation_mismatches():
        problems.append(f"payment {payment_id}: applied {applied}, allocated {allocated}, or credit does not add up")
    receivable = repo.ledger_by_account(LedgerAccount.PREMIUM_RECEIVABLE)
    owed = repo.invoice_balances()
    for account_id in set(receivable) | set(owed):
        if account_id is None:
            continue
        if receivable.get(account_id, 0) != owed.get(account_id, 0):
            problems.append(
                f"account {account_id}: receivable {receivable.get(account_id, 0)} ≠ open invoices "
                f"{owed.get(account_id, 0)}"
            )
    payable = repo.ledger_by_account(LedgerAccount.CLAIMS_PAYABLE).get(None, 0)
    unpaid = sum(repo.unpaid_claims_total().values()) - recoveries.outstanding_total(uow)
    if -payable != unpaid:
        problems.append(f"claims payable {-payable} ≠ unpaid approved claims {unpaid}")
    balances = tuple(LedgerAccountBalance(*row) for row in repo.per_ledger_account())
    return Reconciliation(debits, credits, balances, tuple(problems), repo.payment_count())


@dataclass(frozen=True, slots=True)
class AgingRow:
    account_id: uuid.UUID
    currency: str
    buckets: dict[str, int]

    @property
    def total_minor(self) -> int:
        return sum(self.buckets.values())


def aging(uow: UnitOfWork, as_of: date | None = None) -> list[AgingRow]:
    """Open balances per account in buckets of days past due (0–30, 31–60, 61–90, 90+)."""
    as_of = as_of or uow.clock.today()
    rows: dict[tuple[uuid.UUID, str], dict[str, int]] = {}
    for invoice in BillingRepository(uow).all_open_invoices():
        buckets = rows.setdefault((invoice.account_id, invoice.currency), dict.fromkeys(rules.AGING_BUCKETS, 0))
        buckets[rules.aging_bucket(invoice.due_date, as_of)] += invoice.total_minor - invoice.paid_minor
    return [
        AgingRow(account, currency, buckets)
        for (account, currency), buckets in sorted(rows.items(), key=lambda kv: str(kv[0][0]))
    ]


def daily_claim_payment_run(uow: UnitOfWork) -> PaymentRun | None:
    """The scheduled run: once a day, when approved claims are waiting."""
    repo = BillingRepository(uow)
    today = uow.clock.today()
    if any(run.run_date == today for run in repo.payment_runs(limit=5)) or not repo.unpaid_claims_total():
        return None
    return run_claim_payments(uow)
