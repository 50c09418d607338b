"""A deletion request finds a person's billing records, pseudonymises or deletes them, and the books
still reconcile.

The history (fixed clock): Ana and Tom each hold a sum-insured policy on a household account of their
own, 1,000.00 a year in twelve installments (83.37 in January, then 83.33). January is billed on
15 January; Ana pays 100.00 on 20 January (16.63 left as credit, applied to February, billed that
day), Tom pays January exactly. A clinic's claim for each of them and a reimbursement to Ana are
paid by the run of 21 January; the reimbursement's claim is voided on 25 January (80.00 to recover
from Ana). February goes unpaid: on 20 February both policies are in grace. A bank account is kept
under Ana's id, and one under the clinic's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Uuid, func, select

from olly.billing import bank_accounts, public, recoveries, service
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
)
from olly.billing.personal_data import BillingPersonalData
from olly.billing.repository import BillingRepository
from olly.billing.rules import PaymentMethod
from olly.consent import rules as retention
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.rules import Market
from olly.enrollment.service import PlanChoice
from olly.kernel.clock import FixedClock
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory
from olly.platform.runtime import Platform
from tests.factories import FakePlans
from tests.integration.billing.support import enrol

ANA_HOUSEHOLD = uuid.UUID("01900000-0000-7000-8000-00000000a0a0")
TOM_HOUSEHOLD = uuid.UUID("01900000-0000-7000-8000-00000000b0b0")
ANA_GROUP = uuid.UUID("01900000-0000-7000-8000-00000000c0c0")
TOM_GROUP = uuid.UUID("01900000-0000-7000-8000-00000000d0d0")
CLINIC = uuid.UUID("01900000-0000-7000-8000-000000000c11")
CLINIC_NPI = "1234567893"
ANA_CLAIM = uuid.UUID("01900000-0000-7000-8000-000000000001")
ANA_REIMBURSED = uuid.UUID("01900000-0000-7000-8000-000000000002")
TOM_CLAIM = uuid.UUID("01900000-0000-7000-8000-000000000003")
PSEUDONYM = uuid.UUID("01900000-0000-7000-8000-0000000000ff")
JANUARY = DatePeriod(date(2026, 1, 1), date(2026, 1, 31))
FEBRUARY = DatePeriod(date(2026, 2, 1), date(2026, 2, 28))
MODELS = (
    BillingAccount,
    BillingRun,
    Invoice,
    InvoiceLine,
    InstallmentSchedule,
    Payment,
    PaymentAllocation,
    LedgerPosting,
    LedgerEntry,
    GracePeriod,
    ClaimPayable,
    PaymentRun,
    ClaimPayment,
    PayeeBankAccount,
    ClaimRecovery,
)


class AnnualPlans(FakePlans):
    """A sum-insured product priced by the year: 1,000.00 a year."""

    def choose(self, *args: object, **kwargs: object) -> PlanChoice:
        choice = super().choose(*args, **kwargs)  # type: ignore[arg-type]
        return replace(choice, total_premium_minor=100000, member_premium_minor=100000, premium_period="ANNUAL")


@dataclass(frozen=True)
class History:
    ana: uuid.UUID
    tom: uuid.UUID
    ana_policy: uuid.UUID
    january: uuid.UUID
    february: uuid.UUID
    payment: uuid.UUID
    schedule: uuid.UUID
    account: uuid.UUID
    grace: uuid.UUID
    payables: tuple[uuid.UUID, uuid.UUID]
    payment_run: uuid.UUID
    reimbursement: uuid.UUID
    recovery: uuid.UUID
    bank_account: uuid.UUID


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def _subscriber(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
        found = enrollment_public.policy(uow, policy_id)
        assert found is not None
        return found.subscriber_party_id


def _approve(uow: UnitOfWork, claim_id: uuid.UUID, member: uuid.UUID, paid: int, payee: str) -> None:
    service.record_approved_claim(
        uow,
        claim_id=claim_id,
        member_id=member,
        provider_id=CLINIC,
        paid=usd(paid),
        payee=payee,
        approved_at=uow.clock.now(),
        billing_npi=CLINIC_NPI,
    )


def _history(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> History:
    plans = AnnualPlans()
    ana_policy = enrol(
        platform, tenant_id, plans, market=Market.SUM_INSURED, account_id=ANA_HOUSEHOLD, effective=date(2026, 1, 1)
    )
    tom_policy = enrol(
        platform,
        tenant_id,
        plans,
        market=Market.SUM_INSURED,
        account_id=TOM_HOUSEHOLD,
        effective=date(2026, 1, 1),
        name="Tom",
    )
    ana, tom = _subscriber(platform, tenant_id, ana_policy), _subscriber(platform, tenant_id, tom_policy)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.run_billing(uow, JANUARY)
        january = {i.account_id: i.id for i in _invoices(uow)}
    clock.set(datetime(2026, 1, 20, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        payment = service.record_payment(uow, ANA_HOUSEHOLD, usd(10000), PaymentMethod.ACH, "ACH-1001").id
        service.record_payment(uow, TOM_HOUSEHOLD, usd(8337), PaymentMethod.ACH, "ACH-2001")
        service.run_billing(uow, FEBRUARY)
        february = {i.account_id: i.id for i in _invoices(uow) if i.period_start == FEBRUARY.start}
        _approve(uow, ANA_CLAIM, ana, 12540, "PROVIDER")
        _approve(uow, ANA_REIMBURSED, ana, 8000, "MEMBER")
        _approve(uow, TOM_CLAIM, tom, 31005, "PROVIDER")
        bank = bank_accounts.set_payee_bank(uow, ana, routing_number="011000015", account_number="123456789").id
        bank_accounts.set_payee_bank(uow, CLINIC, routing_number="011000015", account_number="987654321")
    clock.set(datetime(2026, 1, 21, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_claim_payments(uow).id
    clock.set(datetime(2026, 1, 25, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        recovery = recoveries.record_reversal(
            uow,
            claim_id=ANA_REIMBURSED,
            reversing_claim_id=uuid.UUID(int=0xD0),
            member_id=ana,
            provider_id=CLINIC,
            payee="MEMBER",
            amount=usd(8000),
            reversed_at=uow.clock.now(),
        )
        assert isinstance(recovery, ClaimRecovery)
    clock.set(datetime(2026, 2, 20, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.check_payments(uow)
        repo = BillingRepository(uow)
        (grace,) = repo.graces_of_member(ana)
        (schedule,) = repo.schedules_of_accounts([ANA_HOUSEHOLD])
        account = repo.billing_account(ANA_HOUSEHOLD)
        assert account is not None
        payables = tuple(p.id for p, _ in repo.payables_of_member(ana))
        (reimbursement,) = repo.member_claim_payments(ana)
    assert len(payables) == 2
    return History(
        ana=ana,
        tom=tom,
        ana_policy=ana_policy,
        january=january[ANA_HOUSEHOLD],
        february=february[ANA_HOUSEHOLD],
        payment=payment,
        schedule=schedule.id,
        account=account.id,
        grace=grace.id,
        payables=(payables[0], payables[1]),
        payment_run=run,
        reimbursement=reimbursement.id,
        recovery=recovery.id,
        bank_account=bank,
    )


def _invoices(uow: UnitOfWork) -> list[Invoice]:
    return list(uow.session.scalars(select(Invoice).order_by(Invoice.period_start, Invoice.account_id)))


def _naming(uow: UnitOfWork, party: uuid.UUID) -> set[str]:
    """Every ``table.column`` of billing that still holds this id."""
    found = set()
    for model in MODELS:
        for column in model.__table__.columns:
            if isinstance(column.type, Uuid) and column.name != "tenant_id":
                count = uow.session.scalar(select(func.count()).select_from(model).where(column == party))
                if count:
                    found.add(f"{model.__tablename__}.{column.name}")
    return found


def _rows_naming(uow: UnitOfWork, party: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """The whole rows that name this id, to show they did not change."""
    rows = []
    for model in MODELS:
        columns = [c for c in model.__table__.columns if isinstance(c.type, Uuid)]
        for row in uow.session.scalars(select(model)):
            if any(getattr(row, c.key) == party for c in columns):
                values = {a.key: getattr(row, a.key) for a in model.__mapper__.column_attrs}
                rows.append((model.__tablename__, values))
    return sorted(rows, key=lambda r: (r[0], str(r[1]["id"])))


def _ledger(uow: UnitOfWork) -> tuple[object, ...]:
    report = service.reconcile(uow)
    assert report.is_clean, report.problems
    entries = uow.session.scalar(select(func.count()).select_from(LedgerEntry))
    return report.debit_minor, report.credit_minor, report.balances, entries


def _summary(items: list[PersonalDataItem]) -> list[tuple[str, str, RecordCategory, date]]:
    return [(i.record_type, i.record_id, i.category, i.record_date) for i in items]


ANA_COLUMNS = {
    "invoice_lines.member_id",
    "grace_periods.member_id",
    "claim_payables.member_id",
    "claim_payables.payee_id",
    "claim_payments.payee_id",
    "claim_recoveries.payee_id",
    "payee_bank_accounts.payee_id",
}


def test_find_reports_the_household_premium_records_and_the_claim_payments_of_the_person(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    h = _history(platform, tenant_id, clock)
    handler = BillingPersonalData()
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert _naming(uow, h.ana) == ANA_COLUMNS
        assert _summary(handler.find(uow, DataSubject(tenant_id, h.ana, PSEUDONYM))) == [
            ("invoice", str(h.january), RecordCategory.BILLING, date(2026, 1, 20)),  # paid on the 20th
            ("invoice", str(h.february), RecordCategory.BILLING, date(2026, 2, 20)),  # still owed: today
            ("payment", str(h.payment), RecordCategory.BILLING, date(2026, 1, 20)),
            ("installment_schedule", str(h.schedule), RecordCategory.BILLING, date(2026, 12, 1)),
            ("billing_account", str(h.account), RecordCategory.BILLING, date(2026, 12, 1)),  # its latest record
            ("grace_period", str(h.grace), RecordCategory.BILLING, date(2026, 2, 20)),  # running: today
            ("claim_payable", str(h.payables[0]), RecordCategory.BILLING, date(2026, 1, 21)),
            ("claim_payable", str(h.payables[1]), RecordCategory.BILLING, date(2026, 1, 21)),
            ("claim_payment", str(h.reimbursement), RecordCategory.BILLING, date(2026, 1, 21)),
            ("claim_recovery", str(h.recovery), RecordCategory.BILLING, date(2026, 2, 20)),  # still open: today
            ("payee_bank_account", str(h.bank_account), RecordCategory.CONTACT, date(2026, 1, 20)),
        ]
        # Tom's household and claim are his alone (the clinic's payment is the clinic's)
        assert [i.record_type for i in handler.find(uow, DataSubject(tenant_id, h.tom, PSEUDONYM))] == [
            "invoice",
            "invoice",
            "payment",
            "installment_schedule",
            "billing_account",
            "grace_period",
            "claim_payable",
        ]


def test_pseudonymised_records_keep_every_amount_under_the_pseudonym(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    h = _history(platform, tenant_id, clock)
    handler, subject = BillingPersonalData(), DataSubject(tenant_id, h.ana, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        ledger, toms = _ledger(uow), _rows_naming(uow, h.tom)
        items = handler.find(uow, subject)
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.pseudonymise(uow, subject, items)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert _naming(uow, h.ana) == set()
        assert _naming(uow, PSEUDONYM) == ANA_COLUMNS - {"payee_bank_accounts.payee_id"}
        assert handler.find(uow, subject) == []
        kept = handler.find(uow, DataSubject(tenant_id, PSEUDONYM, PSEUDONYM))
        assert [(i.record_type, i.record_id) for i in kept] == [(i.record_type, i.record_id) for i in items[:-1]]
        # the books and every amount as they were; Tom's rows untouched
        assert _ledger(uow) == ledger
        assert _rows_naming(uow, h.tom) == toms
        repo = BillingRepository(uow)
        assert [(line.member_id, line.total_minor) for line in repo.lines(h.february)] == [(PSEUDONYM, 8333)]
        invoice = repo.invoice(h.february)
        assert invoice is not None and (invoice.total_minor, invoice.paid_minor, invoice.status) == (
            8333,
            1663,
            "PARTIALLY_PAID",
        )
        grace = public.grace_status(uow, h.ana_policy, date(2026, 2, 20))
        assert grace is not None and (grace.member_id, grace.status) == (PSEUDONYM, "ACTIVE")
        assert public.grace_status(uow, h.ana, date(2026, 2, 20)) is None
        paid = public.claim_payment(uow, ANA_REIMBURSED)
        assert paid is not None and (paid.paid_minor, paid.method, paid.paid_on) == (8000, "CHECK", date(2026, 1, 21))
        advice = public.payment_run(uow, h.payment_run)
        assert advice is not None
        assert sorted((p.payee, p.payee_id == PSEUDONYM, p.amount_minor) for p in advice.payments) == [
            ("MEMBER", True, 8000),
            ("PROVIDER", False, 43545),
        ]
        assert sorted((c.claim_id, c.member_id) for p in advice.payments for c in p.claims) == [
            (ANA_CLAIM, PSEUDONYM),
            (ANA_REIMBURSED, PSEUDONYM),
            (TOM_CLAIM, h.tom),
        ]
        # the member's bank account is gone, the clinic's is not
        assert bank_accounts.payee_bank(uow, h.ana) is None
        assert bank_accounts.payee_bank(uow, PSEUDONYM) is None
        clinic = bank_accounts.payee_bank(uow, CLINIC)
        assert clinic is not None and clinic.account_number == "987654321"


def test_records_past_their_seven_years_are_deleted_and_the_books_still_reconcile(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    h = _history(platform, tenant_id, clock)
    clock.set(datetime(2033, 6, 1, 9, 0, tzinfo=UTC))
    handler, subject = BillingPersonalData(), DataSubject(tenant_id, h.ana, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        ledger, toms = _ledger(uow), _rows_naming(uow, h.tom)
        items = handler.find(uow, subject)
    # decided as a deletion request decides (olly.consent.rules) on 1 June 2033
    decided = [
        (i, retention.decide(retention.RecordFacts(i.category.value, i.record_type, i.record_date), clock.today()))
        for i in items
    ]
    keep = [i for i, d in decided if d.disposition is retention.Disposition.PSEUDONYMISE]
    drop = [i for i, d in decided if d.disposition is retention.Disposition.DELETE]
    assert [(i.record_type, i.record_date) for i in keep] == [
        ("invoice", date(2033, 6, 1)),  # February is still owed
        ("installment_schedule", date(2026, 12, 1)),
        ("billing_account", date(2033, 6, 1)),
        ("grace_period", date(2033, 6, 1)),
        ("claim_recovery", date(2033, 6, 1)),
    ]
    assert [i.record_type for i in drop] == [
        "invoice",
        "payment",
        "claim_payable",
        "claim_payable",
        "claim_payment",
        "payee_bank_account",
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.pseudonymise(uow, subject, keep)
        handler.delete(uow, subject, drop)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert _naming(uow, h.ana) == set()
        # ledger rows are never deleted: the books are as they were, and still reconcile
        assert _ledger(uow) == ledger
        assert _rows_naming(uow, h.tom) == toms
        repo = BillingRepository(uow)
        assert repo.invoice(h.january) is None
        assert repo.lines(h.january) == []
        assert repo.allocations_of_invoice(h.january) == []
        assert repo.payment(h.payment) is None
        assert [(a.amount_minor, a.source) for a in repo.allocations_of_invoice(h.february)] == [(1663, "CREDIT")]
        assert [line.member_id for line in repo.lines(h.february)] == [PSEUDONYM]
        assert [p.claim_id for p in repo.claim_payables(ANA_CLAIM) + repo.claim_payables(ANA_REIMBURSED)] == []
        assert repo.claim_payment(h.reimbursement) is None
        # the clinic's payment keeps its amount; Tom's claim is still on it
        advice = public.payment_run(uow, h.payment_run)
        assert advice is not None
        assert [(p.payee, p.amount_minor, [c.claim_id for c in p.claims]) for p in advice.payments] == [
            ("PROVIDER", 43545, [TOM_CLAIM])
        ]
        (recovery,) = repo.claim_recoveries(ANA_REIMBURSED)
        assert (recovery.payee_id, recovery.remaining_minor, recovery.status) == (PSEUDONYM, 8000, "OPEN")
        assert repo.billing_account(ANA_HOUSEHOLD) is not None
        assert bank_accounts.payee_bank(uow, h.ana) is None
        assert bank_accounts.payee_bank(uow, CLINIC) is not None


def test_a_line_on_an_employers_list_bill_is_the_persons_the_list_bill_is_not(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans
) -> None:
    ana_policy = enrol(
        platform, tenant_id, plans, market=Market.GROUP, account_id=ANA_GROUP, effective=date(2026, 1, 1)
    )
    tom_policy = enrol(
        platform, tenant_id, plans, market=Market.GROUP, account_id=TOM_GROUP, effective=date(2026, 1, 1), name="Tom"
    )
    ana, tom = _subscriber(platform, tenant_id, ana_policy), _subscriber(platform, tenant_id, tom_policy)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.run_billing(uow, FEBRUARY)
        bills = {i.account_id: i.id for i in _invoices(uow)}
        service.record_payment(uow, ANA_GROUP, usd(60000), PaymentMethod.ACH, "ACH-3001")
        (line,) = BillingRepository(uow).lines(bills[ANA_GROUP])
    handler, subject = BillingPersonalData(), DataSubject(tenant_id, ana, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        toms = _rows_naming(uow, tom)
        # the group's invoice, payment and settings are the employer's, even with Ana its only subscriber
        items = handler.find(uow, subject)
        assert _summary(items) == [("invoice_line", str(line.id), RecordCategory.BILLING, date(2026, 1, 15))]
        handler.pseudonymise(uow, subject, items)
    with platform.db.unit_of_work(tenant_id) as uow:
        assert [(x.member_id, x.total_minor) for x in BillingRepository(uow).lines(bills[ANA_GROUP])] == [
            (PSEUDONYM, 60000)
        ]
        handler.delete(uow, subject, handler.find(uow, DataSubject(tenant_id, PSEUDONYM, PSEUDONYM)))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = BillingRepository(uow)
        assert repo.lines(bills[ANA_GROUP]) == []
        bill = repo.invoice(bills[ANA_GROUP])
        assert bill is not None and (bill.kind, bill.total_minor, bill.paid_minor, bill.status) == (
            "LIST_BILL",
            60000,
            60000,
            "PAID",
        )
        assert _naming(uow, ana) == _naming(uow, PSEUDONYM) == set()
        assert _rows_naming(uow, tom) == toms
        assert service.reconcile(uow).is_clean


def test_a_household_that_bills_two_subscribers_is_neither_ones_alone(platform: Platform, tenant_id: uuid.UUID) -> None:
    ana_policy, tom_policy = (
        enrol(
            platform,
            tenant_id,
            AnnualPlans(),
            market=Market.SUM_INSURED,
            account_id=ANA_HOUSEHOLD,
            effective=date(2026, 1, 1),
            name=name,
        )
        for name in ("Ana", "Tom")
    )
    ana, tom = _subscriber(platform, tenant_id, ana_policy), _subscriber(platform, tenant_id, tom_policy)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.run_billing(uow, JANUARY)
        (invoice,) = _invoices(uow)
        lines = {line.member_id: line.id for line in BillingRepository(uow).lines(invoice.id)}
    handler = BillingPersonalData()
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        # each one's line, still owed (today); the invoice, schedules and settings are the household's
        for party in (ana, tom):
            assert _summary(handler.find(uow, DataSubject(tenant_id, party, PSEUDONYM))) == [
                ("invoice_line", str(lines[party]), RecordCategory.BILLING, date(2026, 1, 15))
            ]
