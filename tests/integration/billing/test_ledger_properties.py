"""Property test on a real database: whatever sequence of invoices, payments, credit use and
reversals happens, every posting balances and reconciliation stays clean."""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from olly.billing import service
from olly.billing.models import Invoice, LedgerEntry, LedgerPosting
from olly.billing.repository import BillingRepository
from olly.billing.rules import LedgerAccount, PaymentMethod, PostingKind, debit_credit
from olly.kernel.money import Money
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform

operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(0, 2), st.integers(1, 250_000)),
        st.tuples(st.just("pay"), st.integers(0, 2), st.integers(1, 300_000)),
        st.tuples(st.just("reverse"), st.integers(0, 2), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=12,
)


def _invoice(uow: UnitOfWork, account: uuid.UUID, amount: int) -> None:
    invoice = Invoice(
        id=uuid.uuid4(),
        invoice_number=f"P-{uuid.uuid4().hex[:12]}",
        account_id=account,
        run_id=None,
        kind="INDIVIDUAL",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 28),
        issued_on=date(2026, 1, 15),
        due_date=date(2026, 2, 1),
        currency="USD",
        total_minor=amount,
        employer_minor=0,
        member_minor=amount,
        paid_minor=0,
        status="OPEN",
        status_reason=None,
        created_at=uow.clock.now(),
    )
    uow.session.add(invoice)
    uow.flush()
    service.post(
        uow,
        PostingKind.INVOICE,
        debit_credit(LedgerAccount.PREMIUM_RECEIVABLE, LedgerAccount.UNEARNED_PREMIUM, amount),
        currency="USD",
        reference_type="INVOICE",
        reference_id=invoice.id,
        account_id=account,
    )
    service.apply_credit(uow, account)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_any_sequence_keeps_the_books_balanced(sqlite_platform: Platform, steps: list[tuple[str, int, int]]) -> None:
    platform = sqlite_platform
    tenant_id = platform.settings.default_tenant_id
    accounts = [uuid.uuid4() for _ in range(3)]
    with platform.db.unit_of_work(tenant_id) as uow:
        for account in accounts:
            service.billing_account(uow, account)
    for number, (kind, who, value) in enumerate(steps):
        with platform.db.unit_of_work(tenant_id) as uow:
            if kind == "invoice":
                _invoice(uow, accounts[who], value)
            elif kind == "pay":
                service.record_payment(uow, accounts[who], Money(value, "USD"), PaymentMethod.ACH, f"p{number}")
            else:
                # reverse a claim posting (never an invoice's or a payment's: those have their own undo)
                claim = uuid.uuid4()
                posting = service.post(
                    uow,
                    PostingKind.CLAIM_APPROVED,
                    debit_credit(LedgerAccount.CLAIMS_EXPENSE, LedgerAccount.CLAIMS_PAYABLE, value + 1),
                    currency="USD",
                    reference_type="CLAIM",
                    reference_id=claim,
                    account_id=None,
                )
                uow.flush()
                service.reverse(uow, posting.id)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        unbalanced = BillingRepository(uow).unbalanced_postings()
        assert unbalanced == []
        postings = uow.session.scalar(select(func.count()).select_from(LedgerPosting))
        lines = uow.session.scalar(select(func.count()).select_from(LedgerEntry))
        assert postings is not None and lines is not None and lines >= 2 * postings
        paid = sum(value for kind, _, value in steps if kind == "pay")
        cash = uow.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.debit_minor), 0)).where(LedgerEntry.ledger_account == "CASH")
        )
        assert cash >= paid  # this example's payments are all in cash (earlier examples add theirs)
