"""The demo population is realistic, complete and the same every time."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from olly import demo
from olly.enrollment import public
from olly.enrollment.models import Policy
from olly.platform.runtime import Platform
from tests.factories import HMO, PPO, FakePlans


def test_demo_seed_builds_the_three_markets(platform: Platform, tenant_id: uuid.UUID) -> None:
    plans = FakePlans()
    summary = demo.seed(
        lambda: platform.db.unit_of_work(tenant_id),
        plans,
        demo.DemoPlans(employer=(PPO, HMO), individual=HMO, floater=PPO),
        date(2026, 1, 1),
        employees=12,
    )
    assert (summary.employees, summary.individual_members, summary.floater_members, summary.policies) == (12, 6, 6, 19)
    assert summary.dependents > 0
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        markets = dict(uow.session.execute(select(Policy.market, func.count()).group_by(Policy.market)).all())
        assert markets == {"GROUP": 12, "INDIVIDUAL": 6, "SUM_INSURED": 1}
        floater = uow.session.scalars(select(Policy).where(Policy.market == "SUM_INSURED")).one()
        relationships = sorted(f.relationship for f in public.coverage_facts(uow, floater.id))
        assert relationships == ["CHILD", "CHILD", "PARENT", "PARENT_IN_LAW", "SELF", "SPOUSE"]
        assert {f.plan_code for f in public.coverage_facts(uow, floater.id)} == {PPO}
    # employees alternate between the employer plans, in order
    assert [call[0] for call in plans.calls[:4]] == [PPO, HMO, PPO, HMO]


def test_demo_claims_are_paid_pended_and_denied(platform: Platform, tenant_id: uuid.UUID) -> None:
    from olly.claims import public as claims
    from olly.claims.models import Claim
    from olly.enrollment import service as enrollment
    from olly.enrollment.plan_catalog import PlansCatalog
    from olly.plans import public as plans_public
    from olly.plans import service as plans_service

    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    codes = plans_public.DEMO_PLAN_CODES
    plans = demo.DemoPlans(
        employer=(codes["employer_ppo"], codes["employer_hmo"], codes["employer_hdhp"]),
        individual=codes["aca_silver"],
        floater=codes["family_floater"],
    )
    start = date(2026, 1, 1)
    summary = demo.seed(lambda: platform.db.unit_of_work(tenant_id), PlansCatalog(), plans, start, employees=6)
    assert [code for code, _ in summary.subscribers] == [
        codes["employer_ppo"],
        codes["employer_hmo"],
        codes["employer_hdhp"],
    ] * 2
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate_due(uow)
    today = platform.clock.now().date()  # 2026-01-15: later service dates are clipped to today
    statuses = demo.seed_claims(lambda: platform.db.unit_of_work(tenant_id), summary, plans, start, today)
    assert statuses == {"APPROVED": 2, "PENDED": 2, "DENIED": 1}
    first_ppo = summary.subscribers[0][1]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(Claim).where(Claim.member_id == first_ppo).order_by(Claim.received_at))
        paid = [claims.remittance_detail(uow, row.id) for row in rows]
    # 10060 billed 6,000.00 out of network: allowed 50 % = 3,000.00 (PR-45 3,000.00 balance bill);
    # out-of-network deductible 2,000.00; 40 % of 1,000.00 = 400.00; paid 600.00.
    # 99213 billed 180.00: allowed 2.60 × 33.4009 × 150 % = 130.26 (PR-45 49.74); deductible met;
    # 40 % of 130.26 = 52.10; paid 78.16.
    assert [(p.allowed.amount, p.paid.amount, p.patient_responsibility.amount) for p in paid if p] == [
        (300000, 60000, 540000),  # member: 3,000.00 + 2,000.00 + 400.00
        (13026, 7816, 10184),  # member: 49.74 + 52.10
    ]
