"""Changes effective inside a month already billed become ADJUSTMENT invoices, to the cent.

FakePlans: PPO-2026 is 600.00 a month for one person (EE), the employee's share 240.00; HMO-2026 is
500.00, the employee's share 200.00. February 2026 has 28 days.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from olly.app import create_app
from olly.billing import service
from olly.billing.models import Invoice, InvoiceLine
from olly.billing.rules import PaymentMethod, Proration
from olly.cli import app
from olly.config import get_settings
from olly.enrollment import service as enrollment_service
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market, QualifyingEvent, TerminationReason
from olly.enrollment.schemas import DependentReinstate, DependentRemove, PlanChange, Termination
from olly.kernel.clock import FixedClock
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from olly.plans import service as plans_service
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from tests.factories import HMO, PPO, FakePlans, person
from tests.integration.billing.support import add_newborn, drain, enrol
from tests.support.identity import sign_in_as

FEBRUARY = DatePeriod(date(2026, 2, 1), date(2026, 2, 28))


def _billed_in_february(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, proration: Proration, plan_code: str
) -> tuple[uuid.UUID, uuid.UUID]:
    group = uuid.uuid4()
    with platform.db.unit_of_work(tenant_id) as uow:
        service.configure_account(uow, group, market="GROUP", proration=proration)
    policy_id = enrol(
        platform,
        tenant_id,
        plans,
        market=Market.GROUP,
        account_id=group,
        effective=date(2026, 1, 1),
        plan_code=plan_code,
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        service.run_billing(uow, FEBRUARY)
        enrollment_service.activate_due(uow)
    drain(platform)
    return group, policy_id


def _change_plan(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock, policy_id: uuid.UUID, code: str
) -> None:
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.change_plan(
            uow,
            policy_id,
            PlanChange(plan_code=code, qualifying_event=QualifyingEvent.OPEN_ENROLLMENT, event_date=date(2026, 2, 10)),
            plans,
        )
    drain(platform)  # billing consumes enrollment.enrollment.plan_changed and adjusts February


def _invoices(platform: Platform, tenant_id: uuid.UUID, account: uuid.UUID) -> list[tuple[object, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(Invoice).where(Invoice.account_id == account).order_by(Invoice.period_start, Invoice.created_at)
        )
        return [
            (
                i.kind,
                i.period_start,
                i.due_date,
                i.total_minor,
                i.member_minor,
                i.employer_minor,
                i.paid_minor,
                i.status,
            )
            for i in rows
        ]


def _adjustment_lines(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> list[tuple[object, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.policy_id == policy_id, InvoiceLine.kind == "ADJUSTMENT")
            .order_by(InvoiceLine.covered_from)
        )
        return [
            (r.plan_code, r.covered_from, r.covered_to, r.total_minor, r.member_minor, r.employer_minor) for r in rows
        ]


def _balances(platform: Platform, tenant_id: uuid.UUID) -> set[tuple[str, int, int]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        report = service.reconcile(uow)
        assert report.is_clean, report.problems
        return {(b.ledger_account, b.debit_minor, b.credit_minor) for b in report.balances}


def test_a_cheaper_plan_from_the_10th_of_a_billed_month_is_prorated_daily_and_credited(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group, policy_id = _billed_in_february(platform, tenant_id, plans, Proration.DAILY, PPO)
    _change_plan(platform, tenant_id, plans, clock, policy_id, HMO)
    # PPO 1–9 February: 600.00 × 9/28 = 192.86 (was 600.00); HMO 10–28: 500.00 × 19/28 = 339.29.
    # Employee shares: 240.00 × 9/28 = 77.14 and 200.00 × 19/28 = 135.71.
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (PPO, date(2026, 2, 1), date(2026, 2, 9), 19286 - 60000, 7714 - 24000, 11572 - 36000),
        (HMO, date(2026, 2, 10), date(2026, 2, 28), 33929, 13571, 20358),
    ]
    # Net −67.85: account credit at once, which then goes to the open list bill.
    assert _invoices(platform, tenant_id, group) == [
        ("LIST_BILL", date(2026, 2, 1), date(2026, 2, 1), 60000, 24000, 36000, 6785, "PARTIALLY_PAID"),
        ("ADJUSTMENT", date(2026, 2, 1), date(2026, 2, 27), -6785, -2715, -4070, -6785, "PAID"),
    ]
    assert _balances(platform, tenant_id) == {
        ("PREMIUM_RECEIVABLE", 60000, 6785),
        ("UNEARNED_PREMIUM", 6785, 60000),
        ("MEMBER_CREDIT", 6785, 6785),
    }
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.adjust_policy(uow, policy_id)
        assert (again.invoice_ids, again.total_minor) == ([], 0)  # nothing more to adjust
        assert service.run_billing(uow, FEBRUARY).invoice_count == 0  # the HMO days are billed already
        march = service.run_billing(uow, DatePeriod(date(2026, 3, 1), date(2026, 3, 31)))
        assert (march.invoice_count, march.total_minor) == (1, 50000)
        service.record_payment(uow, group, Money(60000 - 6785, "USD"), PaymentMethod.ACH, "feb")
    clock.set(datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.check_payments(uow).earned_invoices == 2  # the list bill and the adjustment
    balances = _balances(platform, tenant_id)
    assert ("EARNED_PREMIUM", 6785, 60000) in balances  # February earned 532.15 net


def test_a_dearer_plan_with_whole_month_proration_bills_the_difference(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group, policy_id = _billed_in_february(platform, tenant_id, plans, Proration.WHOLE_MONTHS, HMO)
    _change_plan(platform, tenant_id, plans, clock, policy_id, PPO)
    # Covered on the 15th: the PPO's whole month is owed, the HMO's not at all.
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (HMO, date(2026, 2, 1), date(2026, 2, 9), -50000, -20000, -30000),
        (PPO, date(2026, 2, 10), date(2026, 2, 28), 60000, 24000, 36000),
    ]
    assert _invoices(platform, tenant_id, group)[1] == (
        "ADJUSTMENT",
        date(2026, 2, 1),
        date(2026, 2, 27),  # issued 12 February: 15 days to pay
        10000,
        4000,
        6000,
        0,
        "OPEN",
    )
    assert _balances(platform, tenant_id) == {("PREMIUM_RECEIVABLE", 60000, 0), ("UNEARNED_PREMIUM", 0, 60000)}


def test_a_newborn_added_from_the_10th_reprices_the_month_and_bills_the_difference(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group, policy_id = _billed_in_february(platform, tenant_id, plans, Proration.DAILY, PPO)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    add_newborn(platform, tenant_id, policy_id, plans)
    drain(platform)
    # EE (600.00) for 1–9 February: 192.86 (−407.14); EE+CH (1,000.00, employee 400.00) for 10–28:
    # 678.57, employee 271.43. Net +271.43, of which the employee's +108.57.
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (PPO, date(2026, 2, 1), date(2026, 2, 9), 19286 - 60000, 7714 - 24000, 11572 - 36000),
        (PPO, date(2026, 2, 10), date(2026, 2, 28), 67857, 27143, 40714),
    ]
    assert _invoices(platform, tenant_id, group)[1] == (
        "ADJUSTMENT",
        date(2026, 2, 1),
        date(2026, 2, 27),
        27143,
        10857,
        16286,
        0,
        "OPEN",
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [
            (t.tier_code, t.period_start, t.total_premium_minor)
            for t in enrollment_service.EnrollmentRepository(uow).terms(policy_id)
        ] == [
            ("EE", date(2026, 1, 1), 60000),
            ("EE+CH", date(2026, 2, 10), 100000),
        ]
    with platform.db.unit_of_work(tenant_id) as uow:
        march = service.run_billing(uow, DatePeriod(date(2026, 3, 1), date(2026, 3, 31)))
        assert (march.invoice_count, march.total_minor) == (1, 100000)
    _balances(platform, tenant_id)


def test_a_spouse_removed_at_the_end_of_february_credits_march_already_billed(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group = uuid.uuid4()
    policy_id = enrol(
        platform, tenant_id, plans, market=Market.GROUP, account_id=group, effective=date(2026, 1, 1), spouse=True
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.activate_due(uow)
        spouse = next(
            s.party_id
            for s in enrollment_service.EnrollmentRepository(uow).current_spans(policy_id)
            if s.party_id != enrollment_service.EnrollmentRepository(uow).policy(policy_id).subscriber_party_id  # type: ignore[union-attr]
        )
        for period in (FEBRUARY, DatePeriod(date(2026, 3, 1), date(2026, 3, 31))):
            assert service.run_billing(uow, period).total_minor == 110000  # EE+SP: 1,100.00
    drain(platform)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.remove_dependent(
            uow,
            policy_id,
            DependentRemove(party_id=spouse, reason="DIVORCE", termination_date=date(2026, 2, 20)),
            plans,
        )
    drain(platform)
    # Covered to 28 February (the end of the month): February stands; March is EE from the 1st.
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (PPO, date(2026, 3, 1), date(2026, 2, 28), -110000, -44000, -66000),
        (PPO, date(2026, 3, 1), date(2026, 3, 31), 60000, 24000, 36000),
    ]
    assert _invoices(platform, tenant_id, group)[2:] == [
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 1), -50000, -20000, -30000, -50000, "PAID"),
    ]
    assert ("MEMBER_CREDIT", 50000, 50000) in _balances(platform, tenant_id)  # applied to February's bill


def test_a_spouse_removed_by_mistake_and_reinstated_is_billed_again_for_march(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group = uuid.uuid4()
    policy_id = enrol(
        platform, tenant_id, plans, market=Market.GROUP, account_id=group, effective=date(2026, 1, 1), spouse=True
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.activate_due(uow)
        repo = enrollment_service.EnrollmentRepository(uow)
        subscriber = repo.policy(policy_id).subscriber_party_id  # type: ignore[union-attr]
        spouse = next(s.party_id for s in repo.current_spans(policy_id) if s.party_id != subscriber)
        for period in (FEBRUARY, DatePeriod(date(2026, 3, 1), date(2026, 3, 31))):
            service.run_billing(uow, period)
    drain(platform)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.remove_dependent(
            uow,
            policy_id,
            DependentRemove(party_id=spouse, reason="DIVORCE", termination_date=date(2026, 2, 20)),
            plans,
        )
    drain(platform)  # March credited down to EE (as in the test above)
    clock.set(datetime(2026, 2, 16, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.reinstate_dependent(uow, policy_id, DependentReinstate(party_id=spouse), plans)
    drain(platform)
    # March is EE+SP again from the 1st: the EE term's 600.00 is taken back, the new EE+SP term billed
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (PPO, date(2026, 3, 1), date(2026, 2, 28), -110000, -44000, -66000),
        (PPO, date(2026, 3, 1), date(2026, 3, 31), 60000, 24000, 36000),
        (PPO, date(2026, 3, 1), date(2026, 2, 28), -60000, -24000, -36000),
        (PPO, date(2026, 3, 1), date(2026, 3, 31), 110000, 44000, 66000),
    ]
    assert _invoices(platform, tenant_id, group)[2:] == [
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 1), -50000, -20000, -30000, -50000, "PAID"),
        # owed like any bill: due on the month's first day, and at least 15 days after issue
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 3), 50000, 20000, 30000, 0, "OPEN"),
    ]


def test_a_policy_terminated_by_mistake_and_reinstated_is_billed_again_for_march(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group = uuid.uuid4()
    policy_id = enrol(platform, tenant_id, plans, market=Market.GROUP, account_id=group, effective=date(2026, 1, 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.activate_due(uow)
        for period in (FEBRUARY, DatePeriod(date(2026, 3, 1), date(2026, 3, 31))):
            assert service.run_billing(uow, period).total_minor == 60000  # EE: 600.00
    drain(platform)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.terminate(
            uow, policy_id, Termination(reason=TerminationReason.EMPLOYMENT_ENDED, termination_date=date(2026, 2, 28))
        )
    drain(platform)  # covered to 28 February: March's 600.00 credited
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (PPO, date(2026, 3, 1), date(2026, 2, 28), -60000, -24000, -36000),
    ]
    clock.set(datetime(2026, 2, 16, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.reinstate(uow, policy_id, reason="terminated in error")
    drain(platform)
    # Covered again from 1 March with no gap: March's 600.00 is billed again.
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (PPO, date(2026, 3, 1), date(2026, 2, 28), -60000, -24000, -36000),
        (PPO, date(2026, 3, 1), date(2026, 3, 31), 60000, 24000, 36000),
    ]
    assert [i[0:4] + i[6:] for i in _invoices(platform, tenant_id, group)[2:]] == [
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 1), -60000, -60000, "PAID"),
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 3), 60000, 0, "OPEN"),
    ]


def test_a_change_before_anything_is_billed_adjusts_nothing(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock
) -> None:
    group = uuid.uuid4()
    policy_id = enrol(platform, tenant_id, plans, market=Market.GROUP, account_id=group, effective=date(2026, 1, 1))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.activate_due(uow)
    _change_plan(platform, tenant_id, plans, clock, policy_id, HMO)
    assert _invoices(platform, tenant_id, group) == []
    with platform.db.unit_of_work(tenant_id) as uow:
        assert service.adjust_policy(uow, policy_id).invoice_ids == []


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OLLY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OLLY_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'olly.db'}")
    monkeypatch.delenv("OLLY_MASTER_KEY", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["keys", "init"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def test_the_adjust_command(cli_env: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["billing", "adjust", "--policy", "nope"])
    assert bad.exit_code == 2 and "--policy must be a UUID" in bad.output
    policy = uuid.uuid4()
    done = runner.invoke(app, ["billing", "adjust", "--policy", str(policy)])
    assert done.exit_code == 0, done.output
    assert f"policy {policy}: nothing to adjust" in done.output


def test_a_newborn_added_over_http_reprices_a_demo_group_plan_and_february_is_adjusted(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    """The enrollment API reprices with the plans domain (OLLY-PPO-1000: EE 612.34, EE+CH 1,045.67)."""
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    group = uuid.uuid4()
    policy_id = enrol(
        platform,
        tenant_id,
        PlansCatalog(),
        market=Market.GROUP,
        account_id=group,
        effective=date(2026, 1, 1),
        plan_code="OLLY-PPO-1000",  # type: ignore[arg-type]
    )
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.activate_due(uow)
        assert service.run_billing(uow, FEBRUARY).total_minor == 61234
    drain(platform)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    baby = person(platform, tenant_id, "Tia", date(2026, 2, 10))
    with TestClient(create_app(platform, run_bus=False)) as client:
        specialist = sign_in_as(client.app, tenant_id, Role.ENROLLMENT_SPECIALIST)  # type: ignore[arg-type]
        added = client.post(
            f"/api/v1/enrollments/{policy_id}/dependents",
            json={
                "party_id": str(baby),
                "relationship": "CHILD",
                "qualifying_event": "BIRTH",
                "event_date": "2026-02-10",
            },
            headers=specialist.headers,
        )
    assert added.status_code == 200, added.text
    assert (added.json()["tier_code"], added.json()["total_premium"]) == ("EE+CH", "1045.67")
    drain(platform)
    # 612.34 × 9/28 = 196.82 for 1–9 February (−415.52); 1,045.67 × 19/28 = 709.56 for 10–28.
    assert [line[:4] for line in _adjustment_lines(platform, tenant_id, policy_id)] == [
        ("OLLY-PPO-1000", date(2026, 2, 1), date(2026, 2, 9), 19682 - 61234),
        ("OLLY-PPO-1000", date(2026, 2, 10), date(2026, 2, 28), 70956),
    ]
    adjustment = _invoices(platform, tenant_id, group)[1]
    assert (adjustment[0], adjustment[3], adjustment[7]) == ("ADJUSTMENT", 70956 + 19682 - 61234, "OPEN")
    _balances(platform, tenant_id)
