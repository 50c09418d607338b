"""Helpers of the billing tests: policies of a group and of households, a bus to drain."""

from __future__ import annotations

import uuid
from datetime import date

from olly.enrollment import service as enrollment
from olly.enrollment.rules import Market, QualifyingEvent
from olly.enrollment.schemas import DependentAdd, EnrollmentCreate
from olly.enrollment.service import PlanCatalog
from olly.platform.runtime import Platform
from tests.factories import PPO, FakePlans, person
from tests.support.bus import drain as drain  # the tests of this package import it from here

GROUP_ACCOUNT = uuid.UUID("00000000-0000-7000-8000-00000000c001")


def enrol(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    *,
    market: Market,
    account_id: uuid.UUID,
    effective: date,
    name: str = "Ana",
    born: date = date(1985, 5, 20),
    spouse: bool = False,
    plan_code: str = PPO,
) -> uuid.UUID:
    subscriber = person(platform, tenant_id, name, born)
    dependents = []
    if spouse:
        dependents.append({"party_id": person(platform, tenant_id, f"{name}-spouse", born), "relationship": "SPOUSE"})
    with platform.db.unit_of_work(tenant_id) as uow:
        return enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=market,
                account_id=account_id,
                subscriber_party_id=subscriber,
                plan_code=plan_code,
                effective_date=effective,
                dependents=dependents,
            ),
            plans,
        ).id


def add_newborn(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID, plans: PlanCatalog) -> uuid.UUID:
    """Tia, born on 10 February 2026, added to the policy as a child from her birth; her party id."""
    baby = person(platform, tenant_id, "Tia", date(2026, 2, 10))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.add_dependent(
            uow,
            policy_id,
            DependentAdd(
                party_id=baby,
                relationship="CHILD",
                qualifying_event=QualifyingEvent.BIRTH,
                event_date=date(2026, 2, 10),
            ),
            plans,
        )
    return baby
