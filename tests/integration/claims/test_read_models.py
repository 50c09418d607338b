"""Claims' read models follow other domains' events, and accumulators reach eligibility's fast path.

Enrol a family (enrollment events → claims' coverage, with the demo PPO's schedule copied from
plans), adjudicate a claim, and the eligibility answer shows the deductible left.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from olly.claims import models as m
from olly.claims import public
from olly.claims.schemas import ClaimCreate
from olly.eligibility import service as eligibility
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.platform.jobs import JobScheduler, discover_jobs
from olly.platform.runtime import Platform
from tests.factories import ACCOUNT
from tests.integration.claims.support import NPI_IN, claim_body, drain, line
from tests.integration.claims.support import seed as seed_claims


def test_enrolment_reaches_claims_and_accumulators_reach_eligibility(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, family: dict[str, uuid.UUID]
) -> None:
    seed_claims(platform, tenant_id)  # demo plans and the in-network provider
    with platform.db.unit_of_work(tenant_id) as uow:
        policy_id = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=ACCOUNT,
                subscriber_party_id=family["ana"],
                plan_code="OLLY-PPO-1000",
                effective_date=date(2026, 1, 1),
                dependents=[
                    {"party_id": family["ben"], "relationship": "SPOUSE"},
                    {"party_id": family["cy"], "relationship": "CHILD"},
                ],
            ),
            PlansCatalog(),
        ).id
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    scheduler = JobScheduler(platform.db, "test")
    discover_jobs(scheduler)
    scheduler.run_all_once()
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        views = {
            v.member_id: v
            for v in uow.session.scalars(select(m.CoverageView).where(m.CoverageView.policy_id == policy_id))
        }
    ana = views[family["ana"]]
    assert (ana.family_id, ana.plan_code, ana.plan_type, ana.periods) == (
        str(policy_id), "OLLY-PPO-1000", "PPO", [["2026-01-01", "2026-12-31"]],
    )  # fmt: skip
    assert set(views) == {family["ana"], family["ben"], family["cy"]}

    # 10060 billed 500.00, allowed 400.00 → 400.00 to Ana's deductible.
    with platform.db.unit_of_work(tenant_id) as uow:
        body = ClaimCreate.model_validate(claim_body(family["ana"], line("10060", "500.00")))
        claim_id = public.submit_claim(uow, body, source="API").claim_id
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.claim_status(uow, claim_id)
        assert status is not None and status.status == "APPROVED" and status.billing_npi == NPI_IN
        answer = eligibility.check(uow, family["ana"], date(2026, 2, 1), "30", PlanBenefitSource())
        spouse = eligibility.check(uow, family["ben"], date(2026, 2, 1), "30", PlanBenefitSource())
    deductible = {a["network"]: a for a in answer["deductible"]}["IN_NETWORK"]
    assert (deductible["individual_remaining"], deductible["family_remaining"]) == ("600.00", "1600.00")
    oop = {a["network"]: a for a in answer["out_of_pocket"]}["IN_NETWORK"]
    assert (oop["individual_remaining"], oop["family_remaining"]) == ("3600.00", "7600.00")
    ben = {a["network"]: a for a in spouse["deductible"]}["IN_NETWORK"]
    assert (ben["individual_remaining"], ben["family_remaining"]) == ("1000.00", "1600.00")
