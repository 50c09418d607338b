"""The individual-market saga and grace-period timelines, over the event backbone, with the fixed clock.

FakePlans prices PPO-2026 at 600.00 a month for one person (EE).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from olly.billing import public, service
from olly.billing.models import Invoice
from olly.billing.rules import PaymentMethod, Proration
from olly.enrollment import public as enrollment
from olly.enrollment import service as enrollment_service
from olly.enrollment.models import Policy
from olly.enrollment.rules import Market
from olly.kernel.clock import FixedClock
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.factories import FakePlans
from tests.integration.billing.support import add_newborn, drain, enrol


def _status(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> tuple[str, str | None]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = enrollment.policy(uow, policy_id)
        assert found is not None
        reason = uow.session.get(Policy, policy_id)
        return found.status, reason.status_reason if reason else None


def _invoices(platform: Platform, tenant_id: uuid.UUID, account: uuid.UUID) -> list[tuple[object, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(Invoice).where(Invoice.account_id == account).order_by(Invoice.period_start))
        return [
            (i.kind, i.period_start, i.due_date, i.total_minor, i.paid_minor, i.status, i.status_reason) for i in rows
        ]


def _missed_events(platform: Platform) -> list[dict[str, object]]:
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = uow.session.scalars(
            select(OutboxRecord).where(OutboxRecord.topic == "billing.payment.missed").order_by(OutboxRecord.id)
        )
        bodies = [json.loads(r.payload) for r in rows]
    return [{k: b[k] for k in ("eventType", "gracePeriodEndDate", "premiumCents", "coverageEndDate")} for b in bodies]


def _household_policy(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock, *, aptc: bool = False
) -> tuple[uuid.UUID, uuid.UUID]:
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))  # open enrollment for 2026
    household = uuid.uuid4()
    if aptc:
        with platform.db.unit_of_work(tenant_id) as uow:
            service.configure_account(uow, household, market="INDIVIDUAL", receives_aptc=True)
    policy_id = enrol(
        platform, tenant_id, plans, market=Market.INDIVIDUAL, account_id=household, effective=date(2026, 1, 1)
    )
    drain(platform)
    return household, policy_id


def test_individual_saga_submitted_first_invoice_paid_activated(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    household, policy_id = _household_policy(platform, tenant_id, plans, clock)
    assert _status(platform, tenant_id, policy_id) == ("SUBMITTED", None)
    assert _invoices(platform, tenant_id, household) == [
        ("INITIAL", date(2026, 1, 1), date(2026, 1, 1), 60000, 0, "OPEN", None)
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, household, Money(20000, "USD"), PaymentMethod.ACH, "ACH-77")
    drain(platform)
    assert _status(platform, tenant_id, policy_id) == ("SUBMITTED", None)  # partly paid: still waiting
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, household, Money(40000, "USD"), PaymentMethod.CARD, "pi_3Nx")
    drain(platform)
    assert _status(platform, tenant_id, policy_id) == ("ACTIVE", None)
    assert _invoices(platform, tenant_id, household) == [
        ("INITIAL", date(2026, 1, 1), date(2026, 1, 1), 60000, 60000, "PAID", None)
    ]
    # the first premium paid, the job cancels nothing
    clock.set(datetime(2026, 1, 2, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.check_payments(uow).cancelled_initial == []


def test_individual_saga_a_first_premium_that_never_comes_cancels_the_enrollment_with_a_reason(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    household, policy_id = _household_policy(platform, tenant_id, plans, clock)
    clock.set(datetime(2026, 1, 1, 23, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.check_payments(uow).cancelled_initial == []  # due today: not yet missed
    clock.set(datetime(2026, 1, 2, 0, 30, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.check_payments(uow).cancelled_initial == [policy_id]
    drain(platform)
    assert _status(platform, tenant_id, policy_id) == ("ACTIVATION_FAILED", "FIRST_PREMIUM_UNPAID: due 2026-01-01")
    assert _invoices(platform, tenant_id, household) == [
        ("INITIAL", date(2026, 1, 1), date(2026, 1, 1), 60000, 0, "VOID", "FIRST_PREMIUM_UNPAID")
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert enrollment.coverage_facts(uow, policy_id) == []
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        assert {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances} == {
            ("PREMIUM_RECEIVABLE", 60000, 60000),
            ("UNEARNED_PREMIUM", 60000, 60000),
        }
    # a late payment is kept as credit; the cancelled policy stays cancelled
    with platform.db.unit_of_work(tenant_id) as uow:
        late = service.record_payment(uow, household, Money(60000, "USD"), PaymentMethod.CHECK, "CHK-9")
        assert (late.applied_minor, late.credit_minor) == (0, 60000)
    drain(platform)
    assert _status(platform, tenant_id, policy_id)[0] == "ACTIVATION_FAILED"
    # enrolling again: the first invoice is paid from that credit, and the new policy activates
    clock.set(datetime(2026, 1, 10, 9, 0, tzinfo=UTC))
    again = enrol(
        platform,
        tenant_id,
        plans,
        market=Market.INDIVIDUAL,
        account_id=household,
        effective=date(2026, 2, 1),
        name="Al",
    )
    drain(platform)
    assert _status(platform, tenant_id, again) == ("ACTIVE", None)
    assert _invoices(platform, tenant_id, household)[-1] == (
        "INITIAL",
        date(2026, 2, 1),
        date(2026, 2, 1),
        60000,
        60000,
        "PAID",
        None,
    )


def _active_and_billed_for_february(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock, *, aptc: bool
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    household, policy_id = _household_policy(platform, tenant_id, plans, clock, aptc=aptc)
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, household, Money(60000, "USD"), PaymentMethod.ACH, "binder")
    drain(platform)
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_due(uow)  # January is billed (the first invoice); February goes out now
    assert (run.period_start, run.invoice_count, run.total_minor) == (date(2026, 2, 1), 1, 60000)
    member = _status_member(platform, tenant_id, policy_id)
    return household, policy_id, member


def _status_member(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = enrollment.policy(uow, policy_id)
        assert found is not None
        return found.subscriber_party_id


def _last_covered_day(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> date | None:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (fact,) = enrollment.coverage_facts(uow, policy_id)
        return fact.valid_to


def _check(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, day: date) -> service.DailyOutcome:
    clock.set(datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        outcome = service.check_payments(uow)
    drain(platform)
    return outcome


def test_aptc_grace_three_months_then_termination_back_dated_to_the_end_of_month_one(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    household, policy_id, member = _active_and_billed_for_february(platform, tenant_id, plans, clock, aptc=True)
    assert _check(platform, tenant_id, clock, date(2026, 2, 1)).graces_started == []  # due today
    assert _check(platform, tenant_id, clock, date(2026, 2, 2)).graces_started == [policy_id]
    assert _missed_events(platform) == [
        {
            "eventType": "PAYMENT_MISSED",
            "gracePeriodEndDate": "2026-04-30",
            "premiumCents": 60000,
            "coverageEndDate": None,
        },
        {
            "eventType": "GRACE_PERIOD_STARTED",
            "gracePeriodEndDate": "2026-04-30",
            "premiumCents": 60000,
            "coverageEndDate": None,
        },
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        february = public.grace_status(uow, member, date(2026, 2, 20))
        march = public.grace_status(uow, policy_id, date(2026, 3, 5))
        assert february is not None and march is not None
        assert (february.rule, february.claims_pend, march.claims_pend) == ("APTC_MONTHS", False, True)
        assert (march.grace_period_end_date, march.coverage_end_if_expired) == (date(2026, 4, 30), date(2026, 2, 28))
        assert public.grace_status(uow, uuid.uuid4(), date(2026, 3, 5)) is None
    for run_day in (date(2026, 2, 15), date(2026, 3, 15)):  # March and April are billed meanwhile
        clock.set(datetime(run_day.year, run_day.month, run_day.day, 9, 0, tzinfo=UTC))
        with platform.db.unit_of_work(tenant_id) as uow:
            assert service.run_due(uow).total_minor == 60000
    assert _check(platform, tenant_id, clock, date(2026, 3, 2)).graces_started == []  # one grace at a time
    assert _check(platform, tenant_id, clock, date(2026, 4, 30)).graces_expired == []
    assert _status(platform, tenant_id, policy_id)[0] == "ACTIVE"
    assert _check(platform, tenant_id, clock, date(2026, 5, 1)).graces_expired == [policy_id]
    assert _missed_events(platform)[-1] == {
        "eventType": "GRACE_PERIOD_EXPIRED",
        "gracePeriodEndDate": "2026-04-30",
        "premiumCents": 60000,
        "coverageEndDate": "2026-02-28",
    }
    assert _status(platform, tenant_id, policy_id) == ("TERMINATED", "NON_PAYMENT")
    assert _last_covered_day(platform, tenant_id, policy_id) == date(2026, 2, 28)
    # February (month 1, covered) stays owed; March and April, after coverage ended, are voided
    assert [(i[0], i[1], i[5], i[6]) for i in _invoices(platform, tenant_id, household)] == [
        ("INITIAL", date(2026, 1, 1), "PAID", None),
        ("INDIVIDUAL", date(2026, 2, 1), "OPEN", None),
        ("INDIVIDUAL", date(2026, 3, 1), "VOID", "COVERAGE_TERMINATED_NON_PAYMENT"),
        ("INDIVIDUAL", date(2026, 4, 1), "VOID", "COVERAGE_TERMINATED_NON_PAYMENT"),
    ]
    assert _check(platform, tenant_id, clock, date(2026, 5, 2)).graces_started == []
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.run_due(uow).invoice_count == 0  # nothing billed after the termination
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.grace_status(uow, policy_id, date(2026, 3, 5))
        assert status is not None and (status.status, status.claims_pend) == ("EXPIRED", False)


def test_an_aptc_lapse_voids_the_adjustment_of_a_month_after_month_one_and_month_one_stays_owed(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    household, policy_id, _ = _active_and_billed_for_february(platform, tenant_id, plans, clock, aptc=True)
    assert _check(platform, tenant_id, clock, date(2026, 2, 2)).graces_started == [policy_id]
    clock.set(datetime(2026, 2, 15, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.run_due(uow).total_minor == 60000  # March
    clock.set(datetime(2026, 2, 20, 9, 0, tzinfo=UTC))
    add_newborn(platform, tenant_id, policy_id, plans)
    drain(platform)
    # February: EE 1–9 is 600.00 × 9/28 = 192.86 (−407.14), EE+CH 10–28 is 1,000.00 × 19/28 = 678.57:
    # +271.43. March: EE's 600.00 taken back, EE+CH's 1,000.00 billed: +400.00.
    clock.set(datetime(2026, 3, 15, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.run_due(uow).total_minor == 100000  # April, at EE+CH
    assert _check(platform, tenant_id, clock, date(2026, 5, 1)).graces_expired == [policy_id]
    # Coverage ends on 28 February (month 1): February and its adjustment stay owed; March, its
    # adjustment and April are voided.
    lapse = "COVERAGE_TERMINATED_NON_PAYMENT"
    assert sorted((i[1], i[0], i[3], i[4], i[5], i[6]) for i in _invoices(platform, tenant_id, household)) == [
        (date(2026, 1, 1), "INITIAL", 60000, 60000, "PAID", None),
        (date(2026, 2, 1), "ADJUSTMENT", 27143, 0, "OPEN", None),
        (date(2026, 2, 1), "INDIVIDUAL", 60000, 0, "OPEN", None),
        (date(2026, 3, 1), "ADJUSTMENT", 40000, 0, "VOID", lapse),
        (date(2026, 3, 1), "INDIVIDUAL", 60000, 0, "VOID", lapse),
        (date(2026, 4, 1), "INDIVIDUAL", 100000, 0, "VOID", lapse),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (owed,) = [row for row in service.aging(uow) if row.account_id == household]
        # February's 600.00 due 1 February, its adjustment's 271.43 due 7 March
        assert owed.buckets == {"0-30": 0, "31-60": 27143, "61-90": 60000, "90+": 0}
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        balances = {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances}
    # Billed 3,471.43 (January to April with the two adjustments); voided 2,000.00 (March, its
    # adjustment and April, reversed before they were earned); earned January, February and its adjustment.
    billed, voided, earned = 347143, 200000, 147143
    assert balances == {
        ("CASH", 60000, 0),
        ("PREMIUM_RECEIVABLE", billed, 60000 + voided),  # 871.43 owed
        ("UNEARNED_PREMIUM", voided + earned, billed),
        ("EARNED_PREMIUM", 0, earned),
    }


def test_thirty_day_grace_then_termination_at_the_paid_through_date(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    _, policy_id, _ = _active_and_billed_for_february(platform, tenant_id, plans, clock, aptc=False)
    assert _check(platform, tenant_id, clock, date(2026, 2, 2)).graces_started == [policy_id]
    assert [e["gracePeriodEndDate"] for e in _missed_events(platform)] == ["2026-03-03", "2026-03-03"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.grace_status(uow, policy_id, date(2026, 2, 1))
        assert status is not None and (status.rule, status.claims_pend) == ("DAYS", True)
        assert public.grace_status(uow, policy_id, date(2026, 1, 31)).claims_pend is False  # type: ignore[union-attr]
    assert _check(platform, tenant_id, clock, date(2026, 3, 3)).graces_expired == []
    assert _check(platform, tenant_id, clock, date(2026, 3, 4)).graces_expired == [policy_id]
    assert _status(platform, tenant_id, policy_id) == ("TERMINATED", "NON_PAYMENT")
    assert _last_covered_day(platform, tenant_id, policy_id) == date(2026, 1, 31)


def test_paying_during_grace_cures_it(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    household, policy_id, _ = _active_and_billed_for_february(platform, tenant_id, plans, clock, aptc=False)
    _check(platform, tenant_id, clock, date(2026, 2, 2))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, household, Money(60000, "USD"), PaymentMethod.ACH, "late-feb")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.grace_status(uow, policy_id, date(2026, 2, 20))
        assert status is not None and (status.status, status.claims_pend) == ("CURED", False)
    assert _check(platform, tenant_id, clock, date(2026, 3, 10)).graces_expired == []
    assert _status(platform, tenant_id, policy_id) == ("ACTIVE", None)
    # February has ended: its premium is earned
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        balances = {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances}
        assert ("EARNED_PREMIUM", 0, 120000) in balances and ("UNEARNED_PREMIUM", 120000, 120000) in balances


def test_an_unpaid_list_bill_puts_every_employee_in_thirty_day_grace_then_terminates_them(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group = uuid.uuid4()
    ana = enrol(platform, tenant_id, plans, market=Market.GROUP, account_id=group, effective=date(2026, 1, 1))
    ben = enrol(
        platform, tenant_id, plans, market=Market.GROUP, account_id=group, effective=date(2026, 1, 1), name="Ben"
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.run_billing(uow, DatePeriod(date(2026, 2, 1), date(2026, 2, 28))).total_minor == 120000
        enrollment_service.activate_due(uow)
        service.record_payment(uow, group, Money(50000, "USD"), PaymentMethod.ACH, "part")  # not enough
    drain(platform)
    assert sorted(_check(platform, tenant_id, clock, date(2026, 2, 2)).graces_started) == sorted([ana, ben])
    assert [e["gracePeriodEndDate"] for e in _missed_events(platform)] == ["2026-03-03"] * 4
    assert sorted(_check(platform, tenant_id, clock, date(2026, 3, 4)).graces_expired) == sorted([ana, ben])
    for policy_id in (ana, ben):
        assert _status(platform, tenant_id, policy_id) == ("TERMINATED", "NON_PAYMENT")
        assert _last_covered_day(platform, tenant_id, policy_id) == date(2026, 1, 31)
    assert [(i[0], i[4], i[5]) for i in _invoices(platform, tenant_id, group)] == [
        ("LIST_BILL", 50000, "PARTIALLY_PAID")
    ]


def test_a_whole_month_household_starting_after_the_15th_first_pays_the_next_month(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    household = uuid.uuid4()
    with platform.db.unit_of_work(tenant_id) as uow:
        service.configure_account(uow, household, market="INDIVIDUAL", proration=Proration.WHOLE_MONTHS)
    policy_id = enrol(
        platform, tenant_id, plans, market=Market.INDIVIDUAL, account_id=household, effective=date(2026, 1, 20)
    )
    drain(platform)
    assert _invoices(platform, tenant_id, household) == [
        ("INITIAL", date(2026, 2, 1), date(2026, 1, 20), 60000, 0, "OPEN", None)  # due on the effective date
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, household, Money(60000, "USD"), PaymentMethod.ACH, "first")
    drain(platform)
    assert _status(platform, tenant_id, policy_id) == ("ACTIVE", None)
