"""Factories other domains' tests use: people, a family, a plan catalog and an enrolled policy."""

from __future__ import annotations

import uuid
from datetime import date

from olly.enrollment import service
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.enrollment.service import PlanChoice, RatedMember
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from olly.policy_admin import service as people
from olly.policy_admin.schemas import IndividualCreate

PPO = "PPO-2026"
HMO = "HMO-2026"
PLAN_IDS = {
    PPO: uuid.UUID("00000000-0000-7000-8000-00000000a001"),
    HMO: uuid.UUID("00000000-0000-7000-8000-00000000a002"),
}


class FakePlans:
    """Two plans with flat tier premiums, for enrollment's own tests (plans has its own)."""

    PREMIUMS = {"EE": 50000, "EE+SP": 100000, "EE+CH": 90000, "EE+FAM": 150000}

    def __init__(self) -> None:
        self.calls: list[tuple[str, date, str, int]] = []

    def choose(
        self, uow: UnitOfWork, plan_code: str, on: date, market: Market, tier_code: str, members: list[RatedMember]
    ) -> PlanChoice:
        self.calls.append((plan_code, on, tier_code, len(members)))
        total = self.PREMIUMS[tier_code] + (10000 if plan_code == PPO else 0)
        return PlanChoice(
            plan_id=PLAN_IDS[plan_code],
            plan_code=plan_code,
            coverage_type="MEDICAL",
            currency="USD",
            period_start=date(on.year, 1, 1),
            period_end=date(on.year, 12, 31),
            total_premium_minor=total,
            member_premium_minor=total * 40 // 100,
        )


def person(platform: Platform, tenant_id: uuid.UUID, given: str, born: date) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return people.register_individual(
            uow, IndividualCreate(given_name=given, family_name="Rivera", birth_date=born)
        ).id


def make_family(platform: Platform, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    return {
        "ana": person(platform, tenant_id, "Ana", date(1985, 5, 20)),
        "ben": person(platform, tenant_id, "Ben", date(1986, 2, 11)),
        "cy": person(platform, tenant_id, "Cy", date(2015, 9, 1)),
        "baby": person(platform, tenant_id, "Dee", date(2026, 1, 3)),
        "grandma": person(platform, tenant_id, "Eve", date(1950, 1, 1)),
    }


ACCOUNT = uuid.UUID("00000000-0000-7000-8000-00000000b001")


def enroll(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    dependents: tuple[tuple[str, str], ...] = (("ben", "SPOUSE"), ("cy", "CHILD")),
    *,
    activate: bool = False,
) -> uuid.UUID:
    """Ana's group PPO from 1 January 2026 with ``dependents`` (who, relationship), activated if asked."""
    with platform.db.unit_of_work(tenant_id) as uow:
        policy = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=ACCOUNT,
                subscriber_party_id=family["ana"],
                plan_code=PPO,
                effective_date=date(2026, 1, 1),
                dependents=[
                    {"party_id": family[who], "relationship": relationship} for who, relationship in dependents
                ],
            ),
            plans,
        )
        if activate:
            service.activate(uow, policy.id)
        return policy.id
