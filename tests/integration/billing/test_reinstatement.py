"""Reinstatement after a lapse for non-payment, when the plan allows it, end to end over the event
backbone with the fixed clock: billing re-issues the voided months, enrollment restores the coverage,
eligibility answers "covered" inside the lapsed months again.

The policies are on the demo ACA silver plan (``reinstatement_days: 30``), loaded into the plans
domain and rated by it: one adult born 1985-05-20 in rating area 1 pays 492.63 a month in 2026.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from olly.billing import public, service
from olly.billing.models import GracePeriod, Invoice, InvoiceLine
from olly.billing.rules import PaymentMethod
from olly.eligibility import service as eligibility
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment import handlers as enrollment_handlers
from olly.enrollment import public as enrollment
from olly.enrollment import service as enrollment_service
from olly.enrollment.models import PolicyTransaction
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.kernel.clock import FixedClock
from olly.kernel.money import Money
from olly.plans import service as plans_service
from olly.platform.bus.messages import Message
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.integration.billing.support import add_newborn, drain, enrol
from tests.plan_documents import DELETE, changed, demo_data

SILVER = "OLLY-ACA-SILVER"
NO_REINSTATEMENT = "OLLY-ACA-LAPSE"
MONTHLY = 49263


def _load_plans(platform: Platform, tenant_id: uuid.UUID) -> None:
    without = changed(demo_data(SILVER), "code", NO_REINSTATEMENT)
    without = changed(without, "administration.grace_period.reinstatement_days", DELETE)
    with platform.db.unit_of_work(tenant_id) as uow:
        limits = plans_service.limits_from_settings(platform.settings)
        plans_service.load_demo_plans(uow, limits)
        plans_service.load_text(uow, json.dumps(without, default=str), "json", limits, source="test")


def _lapsed_policy(
    platform: Platform,
    tenant_id: uuid.UUID,
    clock: FixedClock,
    plan_code: str = SILVER,
    before_lapse: Callable[[uuid.UUID, uuid.UUID], None] | None = None,
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A household policy from 2026-01-01: January paid, February never paid, grace (30 days, no
    APTC) from 2 February to 3 March, March billed meanwhile, lapsed on 4 March: terminated back to
    31 January, February and March voided. ``before_lapse(household, policy)`` runs in the grace."""
    _load_plans(platform, tenant_id)
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))
    household = uuid.uuid4()
    policy_id = enrol(
        platform,
        tenant_id,
        PlansCatalog(),  # type: ignore[arg-type]
        market=Market.INDIVIDUAL,
        account_id=household,
        effective=date(2026, 1, 1),
        plan_code=plan_code,
    )
    drain(platform)
    _pay(platform, tenant_id, household, MONTHLY, "binder")
    for day in (date(2026, 1, 15), date(2026, 2, 15)):  # February, then March, are billed
        clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))
        with platform.db.unit_of_work(tenant_id) as uow:
            assert service.run_due(uow).total_minor == MONTHLY
    assert _check(platform, tenant_id, clock, date(2026, 2, 2)).graces_started == [policy_id]
    if before_lapse is not None:
        before_lapse(household, policy_id)
    assert _check(platform, tenant_id, clock, date(2026, 3, 4)).graces_expired == [policy_id]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = enrollment.policy(uow, policy_id)
        assert found is not None and found.status == "TERMINATED"
        member = found.subscriber_party_id
    return household, policy_id, member


def _check(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, day: date) -> service.DailyOutcome:
    clock.set(datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        outcome = service.check_payments(uow)
    drain(platform)
    return outcome


def _pay(platform: Platform, tenant_id: uuid.UUID, account: uuid.UUID, minor: int, reference: str) -> tuple[int, int]:
    with platform.db.unit_of_work(tenant_id) as uow:
        payment = service.record_payment(uow, account, Money(minor, "USD"), PaymentMethod.ACH, reference)
        applied, credit = payment.applied_minor, payment.credit_minor
    drain(platform)
    return applied, credit


def _invoices(platform: Platform, tenant_id: uuid.UUID, account: uuid.UUID) -> list[tuple[object, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(Invoice).where(Invoice.account_id == account).order_by(Invoice.period_start, Invoice.created_at)
        )
        return [(i.kind, i.period_start, i.due_date, i.total_minor, i.paid_minor, i.status) for i in rows]


def _grace(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> tuple[str, date | None]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (grace,) = uow.session.scalars(select(GracePeriod).where(GracePeriod.policy_id == policy_id))
        return grace.status, grace.reinstate_until


def _status(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> str:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = enrollment.policy(uow, policy_id)
        assert found is not None
        return found.status


def _covered(
    platform: Platform, tenant_id: uuid.UUID, member: uuid.UUID, on: date, known_at: datetime | None = None
) -> list[str]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return [c.term.plan_code for c in enrollment_service.coverage_on(uow, member, on, as_known_at=known_at)]


def _eligible(platform: Platform, tenant_id: uuid.UUID, member: uuid.UUID, on: date) -> bool:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return bool(eligibility.check(uow, member, on, "30", PlanBenefitSource())["covered"])


def _transactions(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> list[tuple[Any, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(PolicyTransaction)
            .where(PolicyTransaction.policy_id == policy_id)
            .order_by(PolicyTransaction.recorded_at, PolicyTransaction.id)
        )
        return [(t.transaction_type, t.reason, t.effective_date) for t in rows]


def _outbox(platform: Platform, topic: str) -> list[OutboxRecord]:
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        rows = list(
            uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic == topic).order_by(OutboxRecord.id))
        )
        uow.session.expunge_all()
        return rows


def _balances(platform: Platform, tenant_id: uuid.UUID) -> set[tuple[str, int, int]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        return {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances}


LAPSED = [
    ("INITIAL", date(2026, 1, 1), date(2026, 1, 1), MONTHLY, MONTHLY, "PAID"),
    ("INDIVIDUAL", date(2026, 2, 1), date(2026, 2, 1), MONTHLY, 0, "VOID"),
    ("INDIVIDUAL", date(2026, 3, 1), date(2026, 3, 2), MONTHLY, 0, "VOID"),
]


def test_a_lapse_paid_up_within_the_window_is_reinstated_with_no_gap(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    household, policy_id, member = _lapsed_policy(platform, tenant_id, clock)
    assert _grace(platform, tenant_id, policy_id) == ("EXPIRED", date(2026, 4, 2))  # 3 March + 30 days
    assert _invoices(platform, tenant_id, household) == LAPSED
    assert _covered(platform, tenant_id, member, date(2026, 1, 31)) == [SILVER]
    assert _covered(platform, tenant_id, member, date(2026, 2, 15)) == []
    assert (
        _eligible(platform, tenant_id, member, date(2026, 1, 31)),
        _eligible(platform, tenant_id, member, date(2026, 2, 15)),
    ) == (True, False)

    # Part of what is owed (February and March: 985.26): kept as credit, nothing reinstated yet.
    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    assert _pay(platform, tenant_id, household, 50000, "part") == (0, 50000)
    assert _status(platform, tenant_id, policy_id) == "TERMINATED"
    assert _grace(platform, tenant_id, policy_id)[0] == "EXPIRED"
    assert _outbox(platform, "billing.reinstatement.paid") == []

    # The rest on the last day of the window: with the credit it covers both months.
    clock.set(datetime(2026, 4, 2, 17, 0, tzinfo=UTC))
    assert _pay(platform, tenant_id, household, 2 * MONTHLY - 50000, "rest") == (0, 2 * MONTHLY - 50000)
    assert _grace(platform, tenant_id, policy_id) == ("REINSTATED", date(2026, 4, 2))
    assert _invoices(platform, tenant_id, household) == [
        *LAPSED[:2],
        ("REINSTATEMENT", date(2026, 2, 1), date(2026, 4, 2), MONTHLY, MONTHLY, "PAID"),
        LAPSED[2],
        ("REINSTATEMENT", date(2026, 3, 1), date(2026, 4, 2), MONTHLY, MONTHLY, "PAID"),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        kinds = uow.session.scalars(select(InvoiceLine.kind).where(InvoiceLine.policy_id == policy_id))
        assert sorted(kinds) == ["PREMIUM", "PREMIUM", "PREMIUM", "REINSTATEMENT", "REINSTATEMENT"]
        status = public.grace_status(uow, policy_id, date(2026, 2, 15))
        assert status is not None and (status.status, status.claims_pend) == ("REINSTATED", False)
    (event,) = [json.loads(r.payload) for r in _outbox(platform, "billing.reinstatement.paid")]
    assert {k: event[k] for k in ("eventType", "coverageEndDate", "reinstatedFrom", "reinstateUntil", "amount")} == {
        "eventType": "REINSTATEMENT_PAID",
        "coverageEndDate": "2026-01-31",
        "reinstatedFrom": "2026-02-01",
        "reinstateUntil": "2026-04-02",
        "amount": "985.26",
    }
    assert (event["enrollmentId"], event["memberId"]) == (str(policy_id), str(member))

    # Enrollment restored the coverage as it was: through 31 December, no gap in February.
    assert _status(platform, tenant_id, policy_id) == "ACTIVE"
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [(f.valid_from, f.valid_to) for f in enrollment.coverage_facts(uow, policy_id)] == [
            (date(2026, 1, 1), date(2026, 12, 31))
        ]
    assert _transactions(platform, tenant_id, policy_id) == [
        ("NEW", "OPEN_ENROLLMENT", date(2026, 1, 1)),
        ("TERMINATION", "NON_PAYMENT", date(2026, 1, 31)),
        ("REINSTATEMENT", "PREMIUM_PAID", date(2026, 2, 1)),
    ]
    assert _covered(platform, tenant_id, member, date(2026, 2, 15)) == [SILVER]
    # The termination stays in the history: as known on 10 March, 15 February was not covered.
    assert _covered(platform, tenant_id, member, date(2026, 2, 15), datetime(2026, 3, 10, tzinfo=UTC)) == []
    assert _eligible(platform, tenant_id, member, date(2026, 2, 15)) is True
    assert _eligible(platform, tenant_id, member, date(2026, 3, 31)) is True
    submitted = [json.loads(r.payload) for r in _outbox(platform, "enrollment.enrollment.submitted")]
    assert [(s["electionType"], s["effectiveDate"]) for s in submitted] == [
        ("NEW", "2026-01-01"),
        ("REINSTATEMENT", "2026-02-01"),
    ]
    assert len(_outbox(platform, "enrollment.enrollment.activated")) == 2  # the saga's, then the reinstatement's

    # The books: January earned, February and March re-billed and paid from the credit; April bills as usual.
    assert _balances(platform, tenant_id) >= {
        ("CASH", 3 * MONTHLY, 0),
        ("MEMBER_CREDIT", 2 * MONTHLY, 2 * MONTHLY),
    }
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_due(uow)  # April (the reinstated policy is billed again as usual)
        assert (run.period_start, run.invoice_count, run.total_minor) == (date(2026, 4, 1), 1, MONTHLY)
    assert _balances(platform, tenant_id) >= {("PREMIUM_RECEIVABLE", 6 * MONTHLY, 5 * MONTHLY)}


def test_a_payment_after_the_window_stays_credit_and_the_lapse_stands(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    household, policy_id, member = _lapsed_policy(platform, tenant_id, clock)
    clock.set(datetime(2026, 4, 3, 0, 30, tzinfo=UTC))  # the window closed at the end of 2 April
    assert _pay(platform, tenant_id, household, 2 * MONTHLY, "too-late") == (0, 2 * MONTHLY)
    assert _grace(platform, tenant_id, policy_id) == ("EXPIRED", date(2026, 4, 2))
    assert _invoices(platform, tenant_id, household) == LAPSED
    assert _outbox(platform, "billing.reinstatement.paid") == []
    assert _status(platform, tenant_id, policy_id) == "TERMINATED"
    assert _covered(platform, tenant_id, member, date(2026, 2, 15)) == []
    assert _eligible(platform, tenant_id, member, date(2026, 2, 15)) is False
    balances = _balances(platform, tenant_id)
    assert ("MEMBER_CREDIT", 0, 2 * MONTHLY) in balances  # kept as the household's credit


def test_a_plan_without_the_setting_never_reinstates(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    household, policy_id, member = _lapsed_policy(platform, tenant_id, clock, NO_REINSTATEMENT)
    assert _grace(platform, tenant_id, policy_id) == ("EXPIRED", None)
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    assert _pay(platform, tenant_id, household, 2 * MONTHLY, "late") == (0, 2 * MONTHLY)
    assert _grace(platform, tenant_id, policy_id) == ("EXPIRED", None)
    assert [i[0] for i in _invoices(platform, tenant_id, household)] == ["INITIAL", "INDIVIDUAL", "INDIVIDUAL"]
    assert _status(platform, tenant_id, policy_id) == "TERMINATED"
    assert _covered(platform, tenant_id, member, date(2026, 2, 15)) == []
    assert ("MEMBER_CREDIT", 0, 2 * MONTHLY) in _balances(platform, tenant_id)


def test_a_redelivered_reinstatement_changes_nothing(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    household, policy_id, _ = _lapsed_policy(platform, tenant_id, clock)
    clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    _pay(platform, tenant_id, household, 2 * MONTHLY, "all")
    assert _status(platform, tenant_id, policy_id) == "ACTIVE"
    before = _transactions(platform, tenant_id, policy_id)
    (record,) = _outbox(platform, "billing.reinstatement.paid")
    message = Message(
        topic=record.topic,
        partition=0,
        offset=0,
        key=str(policy_id),
        event_id=uuid.uuid4(),  # past the consumer's own dedup: the handler itself must be idempotent
        event_type="REINSTATEMENT_PAID",
        schema_version="1.0",
        tenant_id=tenant_id,
        correlation_id=uuid.uuid4(),
        causation_id=None,
        occurred_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
        created_at=None,
        payload=json.loads(record.payload),
    )
    for _ in range(2):
        with platform.db.unit_of_work(tenant_id) as uow:
            enrollment_handlers.on_reinstatement_paid(uow, message)
    drain(platform)
    assert _transactions(platform, tenant_id, policy_id) == before
    assert len(_outbox(platform, "enrollment.enrollment.activated")) == 2
    # billing does not re-issue the months a second time either
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.reinstate_paid_lapses(uow, household) == []
    assert [i[0] for i in _invoices(platform, tenant_id, household)].count("REINSTATEMENT") == 2
    _balances(platform, tenant_id)


@pytest.mark.parametrize("drain_expiry_first", [True, False])
def test_a_reinstatement_paid_before_enrollment_saw_the_lapse_keeps_the_coverage(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, drain_expiry_first: bool
) -> None:
    """The two billing topics are not ordered with each other: whichever enrollment sees first, the
    policy ends up active and covered with no gap."""
    _load_plans(platform, tenant_id)
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))
    household = uuid.uuid4()
    policy_id = enrol(
        platform,
        tenant_id,
        PlansCatalog(),  # type: ignore[arg-type]
        market=Market.INDIVIDUAL,
        account_id=household,
        effective=date(2026, 1, 1),
        plan_code=SILVER,
    )
    drain(platform)
    _pay(platform, tenant_id, household, MONTHLY, "binder")
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.run_due(uow)
    _check(platform, tenant_id, clock, date(2026, 2, 2))
    clock.set(datetime(2026, 3, 4, 6, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.check_payments(uow).graces_expired == [policy_id]
    if drain_expiry_first:
        drain(platform)
        assert _status(platform, tenant_id, policy_id) == "TERMINATED"
    with platform.db.unit_of_work(tenant_id) as uow:
        service.record_payment(uow, household, Money(MONTHLY, "USD"), PaymentMethod.ACH, "cure")
    drain(platform)
    assert _status(platform, tenant_id, policy_id) == "ACTIVE"
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [(f.valid_from, f.valid_to) for f in enrollment.coverage_facts(uow, policy_id)] == [
            (date(2026, 1, 1), date(2026, 12, 31))
        ]
    kinds = [t[0] for t in _transactions(platform, tenant_id, policy_id)]
    assert kinds == (["NEW", "TERMINATION", "REINSTATEMENT"] if drain_expiry_first else ["NEW"])
    # Billing re-issued the lapsed months itself: enrollment's reinstatement leaves nothing to adjust.
    assert "ADJUSTMENT" not in [i[0] for i in _invoices(platform, tenant_id, household)]


# A newborn added in the grace period (born 10 February, added on 20 February) re-rates February and
# March, both already billed: EE (492.63) becomes EE+CH (787.51 a month) from the 10th.
FEBRUARY_ADJUSTMENT = 20010  # EE 1–9 February: 492.63 × 9/28 = 158.35 (−334.28); EE+CH 10–28: 787.51 × 19/28 = 534.38
MARCH_ADJUSTMENT = 29488  # EE's 492.63 taken back, EE+CH's 787.51 billed
ADJUSTMENT_LINES = [
    ("ADJUSTMENT", "EE", date(2026, 2, 1), date(2026, 2, 9), 15835 - MONTHLY),
    ("ADJUSTMENT", "EE+CH", date(2026, 2, 10), date(2026, 2, 28), 53438),
    ("ADJUSTMENT", "EE", date(2026, 3, 1), date(2026, 2, 28), -MONTHLY),
    ("ADJUSTMENT", "EE+CH", date(2026, 3, 1), date(2026, 3, 31), 78751),
]
OWED_AFTER_THE_END = 2 * MONTHLY + FEBRUARY_ADJUSTMENT + MARCH_ADJUSTMENT  # 1,480.24
BILLED = MONTHLY + OWED_AFTER_THE_END  # January to March with the adjustments: 1,972.87


def _newborn(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, paid: int = 0
) -> Callable[[uuid.UUID, uuid.UUID], None]:
    """In the grace period: the newborn added on 20 February, then ``paid`` (a part payment) on the 25th."""

    def before_lapse(household: uuid.UUID, policy_id: uuid.UUID) -> None:
        clock.set(datetime(2026, 2, 20, 9, 0, tzinfo=UTC))
        add_newborn(platform, tenant_id, policy_id, PlansCatalog())
        drain(platform)  # billing adjusts February and March
        assert _invoices(platform, tenant_id, household)[2:] == [
            ("ADJUSTMENT", date(2026, 2, 1), date(2026, 3, 7), FEBRUARY_ADJUSTMENT, 0, "OPEN"),
            ("INDIVIDUAL", date(2026, 3, 1), date(2026, 3, 2), MONTHLY, 0, "OPEN"),
            ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 7), MARCH_ADJUSTMENT, 0, "OPEN"),
        ]
        if paid:
            clock.set(datetime(2026, 2, 25, 9, 0, tzinfo=UTC))
            assert _pay(platform, tenant_id, household, paid, "part") == (paid, 0)  # to February, the oldest

    return before_lapse


def _lines(platform: Platform, tenant_id: uuid.UUID, account: uuid.UUID, kind: str) -> list[tuple[object, ...]]:
    """Every line of the account's invoices of ``kind``: (line kind, tier, covered from, to, total)."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.execute(
            select(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.account_id == account, Invoice.kind == kind)
            .order_by(InvoiceLine.period_start, InvoiceLine.covered_from, InvoiceLine.tier_code, InvoiceLine.kind)
        ).scalars()
        return [(r.kind, r.tier_code, r.covered_from, r.covered_to, r.total_minor) for r in rows]


def _owed(platform: Platform, tenant_id: uuid.UUID, account: uuid.UUID) -> int:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return sum(row.total_minor for row in service.aging(uow) if row.account_id == account)


def test_a_lapse_voids_the_open_adjustments_of_the_months_after_the_coverage_end(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    household, policy_id, _ = _lapsed_policy(
        platform, tenant_id, clock, before_lapse=_newborn(platform, tenant_id, clock)
    )
    # Coverage ended on 31 January: neither February nor March is owed, their adjustments included.
    assert _invoices(platform, tenant_id, household) == [
        *LAPSED[:2],
        ("ADJUSTMENT", date(2026, 2, 1), date(2026, 3, 7), FEBRUARY_ADJUSTMENT, 0, "VOID"),
        LAPSED[2],
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 7), MARCH_ADJUSTMENT, 0, "VOID"),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        reasons = uow.session.scalars(
            select(Invoice.status_reason).where(Invoice.account_id == household, Invoice.kind == "ADJUSTMENT")
        )
        assert list(reasons) == ["COVERAGE_TERMINATED_NON_PAYMENT"] * 2
    assert _lines(platform, tenant_id, household, "ADJUSTMENT") == ADJUSTMENT_LINES
    assert _owed(platform, tenant_id, household) == 0
    # Every invoice after January reversed, nothing earned but January.
    assert _balances(platform, tenant_id) == {
        ("PREMIUM_RECEIVABLE", BILLED, BILLED),
        ("UNEARNED_PREMIUM", BILLED, BILLED),
        ("EARNED_PREMIUM", 0, MONTHLY),
        ("CASH", MONTHLY, 0),
    }
    # Paying the two months' premiums alone is not enough: the adjustments are owed for a reinstatement.
    clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    assert _pay(platform, tenant_id, household, 2 * MONTHLY, "months") == (0, 2 * MONTHLY)
    assert _grace(platform, tenant_id, policy_id)[0] == "EXPIRED"
    assert _status(platform, tenant_id, policy_id) == "TERMINATED"


def test_a_reinstatement_bills_the_voided_adjustments_again(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    household, policy_id, member = _lapsed_policy(
        platform, tenant_id, clock, before_lapse=_newborn(platform, tenant_id, clock)
    )
    clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    assert _pay(platform, tenant_id, household, OWED_AFTER_THE_END, "all") == (0, OWED_AFTER_THE_END)
    assert _grace(platform, tenant_id, policy_id) == ("REINSTATED", date(2026, 4, 2))
    # Each month voided at the lapse is issued again as it was, its adjustment too, paid from the credit.
    assert sorted(i for i in _invoices(platform, tenant_id, household) if i[0] == "REINSTATEMENT") == [
        ("REINSTATEMENT", date(2026, 2, 1), date(2026, 3, 12), FEBRUARY_ADJUSTMENT, FEBRUARY_ADJUSTMENT, "PAID"),
        ("REINSTATEMENT", date(2026, 2, 1), date(2026, 3, 12), MONTHLY, MONTHLY, "PAID"),
        ("REINSTATEMENT", date(2026, 3, 1), date(2026, 3, 12), MARCH_ADJUSTMENT, MARCH_ADJUSTMENT, "PAID"),
        ("REINSTATEMENT", date(2026, 3, 1), date(2026, 3, 12), MONTHLY, MONTHLY, "PAID"),
    ]
    assert _lines(platform, tenant_id, household, "REINSTATEMENT") == [
        ADJUSTMENT_LINES[0],
        ("REINSTATEMENT", "EE", date(2026, 2, 1), date(2026, 2, 28), MONTHLY),
        ADJUSTMENT_LINES[1],
        ADJUSTMENT_LINES[2],
        ("REINSTATEMENT", "EE", date(2026, 3, 1), date(2026, 3, 31), MONTHLY),
        ADJUSTMENT_LINES[3],
    ]
    (event,) = [json.loads(r.payload) for r in _outbox(platform, "billing.reinstatement.paid")]
    assert (event["amount"], event["coverageEndDate"]) == ("1480.24", "2026-01-31")
    assert _status(platform, tenant_id, policy_id) == "ACTIVE"
    assert _covered(platform, tenant_id, member, date(2026, 2, 15)) == [SILVER]
    # Enrollment's reinstatement finds the months billed as they were: nothing left to adjust.
    assert [i[0] for i in _invoices(platform, tenant_id, household)].count("ADJUSTMENT") == 2
    assert _owed(platform, tenant_id, household) == 0
    assert _balances(platform, tenant_id) >= {
        ("CASH", MONTHLY + OWED_AFTER_THE_END, 0),
        ("MEMBER_CREDIT", OWED_AFTER_THE_END, OWED_AFTER_THE_END),
    }
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_due(uow)  # April, at EE+CH
        assert (run.period_start, run.invoice_count, run.total_minor) == (date(2026, 4, 1), 1, 78751)


def test_what_was_paid_on_a_month_the_lapse_voids_becomes_credit(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    household, policy_id, _ = _lapsed_policy(
        platform, tenant_id, clock, before_lapse=_newborn(platform, tenant_id, clock, paid=30000)
    )
    # 300.00 paid on February in the grace: February is voided all the same and the 300.00 is credit.
    assert _invoices(platform, tenant_id, household) == [
        *LAPSED[:2],
        ("ADJUSTMENT", date(2026, 2, 1), date(2026, 3, 7), FEBRUARY_ADJUSTMENT, 0, "VOID"),
        LAPSED[2],
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 7), MARCH_ADJUSTMENT, 0, "VOID"),
    ]
    assert _owed(platform, tenant_id, household) == 0
    assert _balances(platform, tenant_id) == {
        ("PREMIUM_RECEIVABLE", BILLED + 30000, BILLED + 30000),
        ("UNEARNED_PREMIUM", BILLED, BILLED),
        ("EARNED_PREMIUM", 0, MONTHLY),
        ("CASH", MONTHLY + 30000, 0),
        ("MEMBER_CREDIT", 0, 30000),
    }
    # The credit counts towards a reinstatement: the rest of the 1,480.24 reinstates.
    clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    assert _pay(platform, tenant_id, household, OWED_AFTER_THE_END - 30000, "rest") == (0, OWED_AFTER_THE_END - 30000)
    assert _grace(platform, tenant_id, policy_id) == ("REINSTATED", date(2026, 4, 2))
    assert [i[3:] for i in _invoices(platform, tenant_id, household) if i[0] == "REINSTATEMENT"].count(
        (MONTHLY, MONTHLY, "PAID")
    ) == 2
    assert _owed(platform, tenant_id, household) == 0
    assert ("MEMBER_CREDIT", OWED_AFTER_THE_END, OWED_AFTER_THE_END) in _balances(platform, tenant_id)
