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
