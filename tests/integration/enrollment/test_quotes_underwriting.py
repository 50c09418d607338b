"""Quotes kept as entities, priced by the real demo plans; underwriting only where the market allows."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from olly.enrollment import service
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market, Relationship
from olly.enrollment.schemas import EnrollmentCreate
from olly.enrollment.service import RatedMember
from olly.kernel.errors import ValidationFailed
from olly.plans import service as plans_service
from olly.platform.runtime import Platform


@pytest.fixture
def demo_plans(platform: Platform, tenant_id: uuid.UUID) -> PlansCatalog:
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    return PlansCatalog()


def test_group_quotes_split_premium_by_the_tier_contribution(
    platform: Platform, tenant_id: uuid.UUID, demo_plans: PlansCatalog
) -> None:
    adults = [RatedMember(Relationship.SELF, date(1985, 1, 1)), RatedMember(Relationship.SPOUSE, date(1986, 1, 1))]
    with platform.db.unit_of_work(tenant_id) as uow:
        # EE+SP on the demo PPO: 1200.00 a month, the employer pays 60% (720.00), the employee 480.00
        pair = service.quote(
            uow,
            demo_plans,
            market=Market.GROUP,
            plan_code="OLLY-PPO-1000",
            effective_date=date(2026, 1, 1),
            members=adults,
        )
        # EE: 612.34, employer 80% = 489.872 → 489.87, employee 612.34 - 489.87 = 122.47
        alone = service.quote(
            uow,
            demo_plans,
            market=Market.GROUP,
            plan_code="OLLY-PPO-1000",
            effective_date=date(2026, 1, 1),
            members=adults[:1],
        )
        assert (pair.tier_code, pair.total_premium_minor, pair.member_premium_minor) == ("EE+SP", 120000, 48000)
        assert (alone.tier_code, alone.total_premium_minor, alone.member_premium_minor) == ("EE", 61234, 12247)
        assert pair.lines == [{"relationship": "SELF", "age": 41}, {"relationship": "SPOUSE", "age": 40}]
        assert (pair.premium_period, pair.currency, pair.valid_until) == ("MONTHLY", "USD", date(2026, 2, 14))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.get(type(pair), pair.id) is not None


def test_a_quote_for_a_family_the_market_does_not_cover_is_refused(
    platform: Platform, tenant_id: uuid.UUID, demo_plans: PlansCatalog
) -> None:
    members = [RatedMember(Relationship.SELF, date(1985, 1, 1)), RatedMember(Relationship.PARENT, date(1950, 1, 1))]
    with pytest.raises(ValidationFailed) as info, platform.db.unit_of_work(tenant_id) as uow:
        service.quote(
            uow,
            demo_plans,
            market=Market.GROUP,
            plan_code="OLLY-PPO-1000",
            effective_date=date(2026, 1, 1),
            members=members,
        )
    assert [(e.field, e.code) for e in info.value.errors] == [("members.1.relationship", "relationship_not_covered")]


def test_underwriting_is_refused_in_aca_markets_and_kept_encrypted_for_sum_insured(
    platform: Platform, tenant_id: uuid.UUID, demo_plans: PlansCatalog, family: dict[str, uuid.UUID]
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        group = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["ana"],
                plan_code="OLLY-PPO-1000",
                effective_date=date(2026, 1, 1),
            ),
            demo_plans,
        ).id
        floater = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.SUM_INSURED,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["ben"],
                plan_code="OLLY-FLOATER-5L",
                effective_date=date(2026, 1, 1),
                dependents=[{"party_id": family["grandma"], "relationship": "PARENT"}],
            ),
            demo_plans,
        ).id
    with pytest.raises(ValidationFailed) as info, platform.db.unit_of_work(tenant_id) as uow:
        service.flag_underwriting(
            uow, group, party_id=family["ana"], flag="PRE_EXISTING_DISEASE", waiting_period_months=24
        )
    assert [e.code for e in info.value.errors] == ["not_allowed"]
    with pytest.raises(ValidationFailed) as info, platform.db.unit_of_work(tenant_id) as uow:
        service.flag_underwriting(
            uow, floater, party_id=family["grandma"], flag="PRE_EXISTING_DISEASE", waiting_period_months=60
        )
    assert [e.field for e in info.value.errors] == ["waiting_period_months"]
    with platform.db.unit_of_work(tenant_id) as uow:
        service.flag_underwriting(
            uow,
            floater,
            party_id=family["grandma"],
            flag="PRE_EXISTING_DISEASE",
            waiting_period_months=36,
            detail="type 2 diabetes",
        )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (flag,) = EnrollmentRepository(uow).underwriting_flags(floater)
        assert (flag.flag, flag.waiting_period_months, flag.detail) == ("PRE_EXISTING_DISEASE", 36, "type 2 diabetes")
        assert EnrollmentRepository(uow).underwriting_flags(group) == []
