"""Billing runs, payments and the ledger on both engines, with the fixed clock (2026-01-15).

FakePlans prices PPO-2026 at 600.00 (EE) and 1,100.00 (EE+SP) a month, the employee paying 40%.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from olly.billing import service
from olly.billing.models import Invoice, InvoiceLine, LedgerEntry, Payment
from olly.billing.repository import BillingRepository
from olly.billing.rules import LedgerAccount, PaymentMethod, PostingKind, Proration, debit_credit
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.rules import Market
from olly.enrollment.service import PlanChoice
from olly.kernel.errors import BusinessRuleViolation, Conflict, OllyError
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod, end_of_month
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.factories import FakePlans
from tests.integration.billing.support import GROUP_ACCOUNT, enrol

FEBRUARY = DatePeriod(date(2026, 2, 1), date(2026, 2, 28))


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def _group(platform: Platform, tenant_id: uuid.UUID, plans: FakePlans) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    ana = enrol(platform, tenant_id, plans, market=Market.GROUP, account_id=GROUP_ACCOUNT, effective=date(2026, 1, 1))
    ben = enrol(
        platform,
        tenant_id,
        plans,
        market=Market.GROUP,
        account_id=GROUP_ACCOUNT,
        effective=date(2026, 1, 1),
        name="Ben",
        spouse=True,
    )
    # joins mid-February: 19 of 28 days
    cy = enrol(
        platform,
        tenant_id,
        plans,
        market=Market.GROUP,
        account_id=GROUP_ACCOUNT,
        effective=date(2026, 2, 10),
        name="Cy",
    )
    return ana, ben, cy


def _lines(platform: Platform, tenant_id: uuid.UUID, invoice_id: uuid.UUID) -> dict[uuid.UUID, tuple[object, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id))
        return {
            r.policy_id: (r.tier_code, r.covered_from, r.covered_to, r.total_minor, r.employer_minor, r.member_minor)
            for r in rows
        }


def test_a_group_list_bill_has_a_line_per_member_and_tier_and_a_rerun_bills_nothing_twice(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans
) -> None:
    ana, ben, cy = _group(platform, tenant_id, plans)
    with platform.db.unit_of_work(tenant_id) as uow:
        summary = service.run_billing(uow, FEBRUARY)
    assert (summary.invoice_count, summary.line_count, summary.total_minor) == (1, 3, 60000 + 110000 + 40714)
    (invoice_id,) = summary.invoice_ids
    assert _lines(platform, tenant_id, invoice_id) == {
        ana: ("EE", date(2026, 2, 1), date(2026, 2, 28), 60000, 36000, 24000),
        ben: ("EE+SP", date(2026, 2, 1), date(2026, 2, 28), 110000, 66000, 44000),
        # 600.00 × 19/28 = 407.14; employee 240.00 × 19/28 = 162.86; employer the rest
        cy: ("EE", date(2026, 2, 10), date(2026, 2, 28), 40714, 24428, 16286),
    }
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        invoice = uow.session.get(Invoice, invoice_id)
        assert invoice is not None
        assert (invoice.kind, invoice.total_minor, invoice.employer_minor, invoice.member_minor) == (
            "LIST_BILL",
            210714,
            126428,
            84286,
        )
        assert (invoice.due_date, invoice.issued_on, invoice.status) == (date(2026, 2, 1), date(2026, 1, 15), "OPEN")
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.run_billing(uow, FEBRUARY)
    assert (again.invoice_count, again.line_count, again.total_minor) == (0, 0, 0)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert len(list(uow.session.scalars(select(InvoiceLine)))) == 3
        assert service.reconcile(uow).is_clean


def test_whole_month_proration_is_an_account_setting(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans
) -> None:
    _, _, cy = _group(platform, tenant_id, plans)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.configure_account(uow, GROUP_ACCOUNT, market="GROUP", proration=Proration.WHOLE_MONTHS)
    with platform.db.unit_of_work(tenant_id) as uow:
        summary = service.run_billing(uow, FEBRUARY)
    # Cy is covered on 15 February: the whole month
    assert _lines(platform, tenant_id, summary.invoice_ids[0])[cy][3:] == (60000, 36000, 24000)
    assert summary.total_minor == 230000


def test_payments_partial_then_over_go_oldest_first_and_leave_credit_for_the_next_invoice(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans
) -> None:
    household = uuid.uuid4()
    enrol(platform, tenant_id, plans, market=Market.INDIVIDUAL, account_id=household, effective=date(2026, 1, 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        first = service.issue_initial_invoice(uow, _policy_of(uow, household), date(2026, 1, 1))
        assert first is not None and first.total_minor == 60000 and first.kind == "INITIAL"
        first_id = first.id
    with platform.db.unit_of_work(tenant_id) as uow:
        partial = service.record_payment(uow, household, usd(25000), PaymentMethod.ACH, "ACH-0001")
        assert (partial.applied_minor, partial.credit_minor) == (25000, 0)
    with platform.db.unit_of_work(tenant_id) as uow:
        over = service.record_payment(uow, household, usd(50000), PaymentMethod.CHECK, "CHK-1042")
        assert (over.applied_minor, over.credit_minor) == (35000, 15000)
        # the same cheque again is the same payment
        assert service.record_payment(uow, household, usd(50000), PaymentMethod.CHECK, "CHK-1042").id == over.id
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        invoice = uow.session.get(Invoice, first_id)
        assert invoice is not None and (invoice.paid_minor, invoice.status) == (60000, "PAID")
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, _policy_of(uow, household))
    with platform.db.unit_of_work(tenant_id) as uow:
        february = service.run_billing(uow, FEBRUARY)
    assert february.total_minor == 60000
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        invoice = uow.session.get(Invoice, february.invoice_ids[0])
        assert invoice is not None and (invoice.paid_minor, invoice.status) == (15000, "PARTIALLY_PAID")
        rows = service.aging(uow, date(2026, 3, 5))
        assert [(r.account_id, r.buckets) for r in rows] == [
            (household, {"0-30": 0, "31-60": 45000, "61-90": 0, "90+": 0})
        ]
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        balances = {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances}
        assert balances == {
            ("CASH", 75000, 0),
            ("PREMIUM_RECEIVABLE", 120000, 75000),
            ("UNEARNED_PREMIUM", 0, 120000),
            ("MEMBER_CREDIT", 15000, 15000),
        }
        assert report.debit_minor == report.credit_minor == 210000


def _policy_of(uow: UnitOfWork, account_id: uuid.UUID) -> uuid.UUID:
    (policy_id,) = enrollment_public.policies_of_account(uow, account_id)
    return policy_id


def test_bad_payments_are_refused_and_change_nothing(platform: Platform, tenant_id: uuid.UUID) -> None:
    account = uuid.uuid4()
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, account, usd(1000), PaymentMethod.ACH, "ACH-1")
    for amount, reference in ((usd(0), "ACH-2"), (Money(500, "EUR"), "ACH-3"), (usd(999), "ACH-1")):
        with pytest.raises(OllyError) as refused, platform.db.unit_of_work(tenant_id) as uow:
            service.record_payment(uow, account, amount, PaymentMethod.ACH, reference)
        assert refused.value.status in (409, 422)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [p.amount_minor for p in uow.session.scalars(select(Payment))] == [1000]
        assert service.reconcile(uow).is_clean


@pytest.mark.parametrize("statement", ["UPDATE {t} SET currency = 'EUR'", "DELETE FROM {t}"])
def test_the_database_refuses_to_change_or_delete_ledger_rows(
    platform: Platform, tenant_id: uuid.UUID, statement: str
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, uuid.uuid4(), usd(1234), PaymentMethod.CARD, "tok-ref-9")
    schema = "" if platform.db.is_sqlite else "billing."
    for table in ("ledger_entries", "ledger_postings"):
        with pytest.raises((DBAPIError, IntegrityError), match="append-only"), platform.db.connect() as connection:
            connection.execute(text(statement.format(t=schema + table)))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        entries = list(uow.session.scalars(select(LedgerEntry)))
        assert sorted((e.ledger_account, e.debit_minor, e.credit_minor, e.currency) for e in entries) == [
            ("CASH", 1234, 0, "USD"),
            ("MEMBER_CREDIT", 0, 1234, "USD"),
        ]


def test_a_reversal_undoes_a_posting_once(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        payment = service.record_payment(uow, uuid.uuid4(), usd(700), PaymentMethod.ACH, "r-1")
        uow.flush()
        (posting,) = BillingRepository(uow).postings_of("PAYMENT", payment.id)
        reversal = service.reverse(uow, posting.id)
        assert (reversal.reverses_id, reversal.total_minor) == (posting.id, 700)
        with pytest.raises(Conflict, match="already reversed"):
            service.reverse(uow, posting.id)
        with pytest.raises(BusinessRuleViolation, match="not itself reversed"):
            service.reverse(uow, reversal.id)


WRITERS = 32
ACCOUNTS = 4


def test_32_concurrent_payment_writers_lose_no_update(platform: Platform, tenant_id: uuid.UUID) -> None:
    """Each of 4 accounts owes 1,000.00 on one invoice; 32 writers pay 40.00 eight times each, spread
    over the accounts: every cent lands once, invoices end exactly paid or credited, books balance."""
    accounts = [uuid.uuid4() for _ in range(ACCOUNTS)]
    with platform.db.unit_of_work(tenant_id) as uow:
        for account in accounts:
            service.billing_account(uow, account)
            invoice = Invoice(
                id=uuid.uuid4(),
                invoice_number=f"INV-T-{account.hex[:8]}",
                account_id=account,
                run_id=None,
                kind="INDIVIDUAL",
                period_start=date(2026, 2, 1),
                period_end=date(2026, 2, 28),
                issued_on=date(2026, 1, 15),
                due_date=date(2026, 2, 1),
                currency="USD",
                total_minor=100000,
                employer_minor=0,
                member_minor=100000,
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
                debit_credit(LedgerAccount.PREMIUM_RECEIVABLE, LedgerAccount.UNEARNED_PREMIUM, 100000),
                currency="USD",
                reference_type="INVOICE",
                reference_id=invoice.id,
                account_id=account,
            )
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> None:
        try:
            start.wait()
            for round_ in range(8):
                account = accounts[(index + round_) % ACCOUNTS]
                with platform.db.unit_of_work(tenant_id) as uow:
                    service.record_payment(uow, account, usd(4000), PaymentMethod.ACH, f"w{index}-r{round_}")
        except BaseException as failure:  # surfaced below
            errors.append(failure)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # 32 × 8 × 40.00 = 10,240.00 over 4 accounts = 2,560.00 each: 1,000.00 pays the invoice, 1,560.00 is credit
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        payments = list(uow.session.scalars(select(Payment)))
        assert len(payments) == WRITERS * 8 and sum(p.amount_minor for p in payments) == 1024000
        for account in accounts:
            mine = [p for p in payments if p.account_id == account]
            assert sum(p.applied_minor for p in mine) == 100000
            assert sum(p.credit_minor for p in mine) == 156000
            assert all(p.applied_minor >= 0 and p.credit_minor >= 0 for p in mine)
        invoices = list(uow.session.scalars(select(Invoice)))
        assert sorted((i.paid_minor, i.status) for i in invoices) == [(100000, "PAID")] * ACCOUNTS
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        assert {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances} == {
            ("CASH", 1024000, 0),
            ("PREMIUM_RECEIVABLE", 400000, 400000),
            ("UNEARNED_PREMIUM", 0, 400000),
            ("MEMBER_CREDIT", 0, 624000),
        }


class AnnualPlans(FakePlans):
    """A sum-insured product priced by the year: 1,000.00 a year."""

    def choose(self, *args: object, **kwargs: object) -> PlanChoice:
        choice = super().choose(*args, **kwargs)  # type: ignore[arg-type]
        return replace(choice, total_premium_minor=100000, member_premium_minor=100000, premium_period="ANNUAL")


def test_an_annual_premium_is_billed_in_twelve_exact_installments(platform: Platform, tenant_id: uuid.UUID) -> None:
    household = uuid.uuid4()
    policy_id = enrol(
        platform, tenant_id, AnnualPlans(), market=Market.SUM_INSURED, account_id=household, effective=date(2026, 1, 1)
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
    totals = []
    for month in range(1, 13):
        start = date(2026, month, 1)
        with platform.db.unit_of_work(tenant_id) as uow:
            totals.append(service.run_billing(uow, DatePeriod(start, end_of_month(start))).total_minor)
    # 1,000.00 / 12 = 83.33 with 4 cents over, on the first installment
    assert totals == [8337] + [8333] * 11 and sum(totals) == 100000
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        schedule = BillingRepository(uow).schedule(policy_id, _term_of(uow, policy_id))
        assert schedule is not None and (schedule.total_minor, schedule.remainder_to) == (100000, "FIRST")
        assert [i["amountMinor"] for i in schedule.installments] == totals
        assert [i["dueDate"] for i in schedule.installments][:2] == ["2026-01-01", "2026-02-01"]


def _term_of(uow: UnitOfWork, policy_id: uuid.UUID) -> uuid.UUID:
    (term,) = enrollment_public.billable_terms(uow, DatePeriod(date(2026, 3, 1), date(2026, 3, 31)))
    assert term.policy_id == policy_id
    return term.term_id
