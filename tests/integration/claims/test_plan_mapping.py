"""The demo plans mapped onto the engine's schedule: the figures that matter, and an exact JSON round trip."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from olly.claims import models as m
from olly.claims import plan_mapping, snapshots
from olly.claims.repository import ClaimsRepository
from olly.claims.rules import ChargeType, FamilyDesign, MissingAuthorization, SubLimitPer
from olly.kernel.money import Money
from olly.plans import public as plans
from olly.plans import service as plans_service
from olly.platform.runtime import Platform


def test_demo_plans_map_and_round_trip(sqlite_platform: Platform, tenant_id: uuid.UUID) -> None:
    with sqlite_platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(sqlite_platform.settings))
    mapped = {}
    with sqlite_platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        for code in plans.DEMO_PLAN_CODES.values():
            schedule = plans.benefit_schedule(uow, code, date(2026, 3, 1))
            assert schedule is not None, code
            mapped[code] = plan_mapping.benefit_schedule(schedule, code)
    for code, schedule in mapped.items():
        assert snapshots.schedule_from_json(snapshots.schedule_to_json(schedule)) == schedule, code
    ppo = mapped["OLLY-PPO-1000"]
    assert ppo.in_network.deductible_individual == Money(100000, "USD")
    assert ppo.in_network.out_of_pocket_family == Money(800000, "USD")
    assert ppo.family_design is FamilyDesign.EMBEDDED
    assert ppo.missing_authorization is MissingAuthorization.PEND and "29881" in ppo.prior_auth_codes
    office = ppo.categories["office_visit"].in_network
    assert office is not None and (office.copay, office.deductible_applies) == (Money(2500, "USD"), False)
    assert ppo.categories["preventive"].is_preventive
    assert ppo.high_dollar_threshold == Money(2500000, "USD")
    floater = mapped["OLLY-FLOATER-5L"]
    assert floater.sum_insured is not None and floater.sum_insured.floater
    terms = floater.sum_insured
    assert terms.sum_insured == Money(50000000, "INR")
    assert (terms.senior_age, terms.senior_copay_percent, terms.initial_waiting_days) == (61, Decimal(20), 30)
    room, icu = terms.sub_limits
    assert (room.charge_type, room.per, room.percent_of_sum_insured, room.proportional_deduction) == (
        ChargeType.ROOM_RENT, SubLimitPer.DAY, Decimal(1), True,
    )  # fmt: skip
    assert (icu.charge_type, icu.percent_of_sum_insured) == (ChargeType.ICU, Decimal(2))
    assert "K80" in floater.sum_insured.named_illness_diagnoses  # gallstones


def test_an_835_reads_a_plans_type_from_its_latest_coverage_copy(platform: Platform, tenant_id: uuid.UUID) -> None:
    """Members' copies of a POS plan: one made before the catalog's type was kept (PPO), one since
    (POS), stored in either order; the latest copy's type is the plan's."""
    earlier, later = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    stored = {uuid.uuid4(): (("PPO", earlier), ("POS", later)), uuid.uuid4(): (("POS", later), ("PPO", earlier))}
    with platform.db.unit_of_work(tenant_id) as uow:
        for plan_id, copies in stored.items():
            for plan_type, synced_at in copies:
                uow.session.add(
                    m.CoverageView(
                        member_id=uuid.uuid4(),
                        policy_id=uuid.uuid4(),
                        plan_id=plan_id,
                        plan_code="OLLY-POS-1000",
                        plan_type=plan_type,
                        periods=[["2026-01-01", "2026-12-31"]],
                        synced_at=synced_at,
                    )
                )
                uow.session.flush()
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert ClaimsRepository(uow)._plan_types(set(stored)) == dict.fromkeys(stored, "POS")
