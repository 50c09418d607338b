"""The demo family floater (OLLY-FLOATER-5L, rupees) adjudicated through the claims service: the
plan's reimbursement auto-approval amount (₹5,000.00); birth dates and declared pre-existing
diseases copied from enrollment (senior co-pay, pre-existing waiting period); on SQLite and PostgreSQL.

The floater has no co-pay under 61, an OPD annual limit of ₹15,000.00 and a 30-day initial waiting
period; the clinic here is in network at 100 % of billed, so allowed = billed on every line.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from olly import edi_links
from olly.billing.repository import BillingRepository
from olly.claims import handlers, public, snapshots
from olly.claims import models as m
from olly.claims.repository import ClaimsRepository
from olly.claims.rules import Contract, Submitter
from olly.claims.schemas import CareSetting, ClaimCreate, ReimbursementCreate
from olly.claims.service import submit
from olly.edi.claims import ClaimOptions, ClaimSubmission, Diagnosis
from olly.edi.inbound import read_all
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market, WithdrawalReason
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.plans import service as plans_service
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform
from tests.factories import ACCOUNT
from tests.integration.claims.support import drain
from tests.unit.edi.conftest import fixture_bytes

FLOATER = "OLLY-FLOATER-5L"
CLINIC = "1234567893"


def seed_floater(platform: Platform, tenant_id: uuid.UUID, *members: uuid.UUID) -> uuid.UUID:
    """The floater's schedule, ``members`` covered on one family policy from 2026-01-01, the clinic."""
    plan_id, policy_id = uuid.uuid4(), uuid.uuid4()
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.sync_schedule(uow, FLOATER, plan_id, date(2026, 1, 1))
        now = uow.clock.now()
        for member in members:
            uow.session.add(
                m.CoverageView(
                    member_id=member,
                    policy_id=policy_id,
                    family_id=str(policy_id) if len(members) > 1 else None,
                    plan_id=plan_id,
                    plan_code=FLOATER,
                    plan_type="SUM_INSURED",
                    periods=[["2026-01-01", "2026-12-31"]],
                    synced_at=now,
                )
            )
        uow.session.add(
            m.ProviderView(
                npi=CLINIC,
                provider_id=uuid.uuid4(),
                credentialing_status="APPROVED",
                network_status="IN_NETWORK",
                contract_id=uuid.uuid4(),
                contract_from=date(2025, 1, 1),
                contract=snapshots.contract_to_json(Contract(percent_of_billed=Decimal(100)), "INR"),
                synced_at=now,
            )
        )
    return policy_id


def reimbursement(member: uuid.UUID, *charges: str, day: str = "2026-02-20", **extra: Any) -> ReimbursementCreate:
    body: dict[str, Any] = {
        "memberId": str(member),
        "billingNpi": CLINIC,
        "currency": "INR",
        "careSetting": "OPD",
        "diagnoses": ["J06.9"],
        "lines": [{"chargeType": "CONSULTATION", "charge": charge, "serviceDateFrom": day} for charge in charges],
    }
    body.update(extra)
    return ReimbursementCreate.model_validate(body)


def reimburse(platform: Platform, tenant_id: uuid.UUID, data: ReimbursementCreate) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = submit(uow, data.as_claim(), source="PORTAL", submitter=Submitter.MEMBER_REIMBURSEMENT).claim_id
    drain(platform)
    return claim_id


def outcome(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> tuple[str, list[str], int, int]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.claim_status(uow, claim_id)
    assert status is not None and status.allowed is not None and status.paid is not None
    return status.status, list(status.pend_reasons), status.allowed.amount, status.paid.amount


@pytest.fixture
def later(clock: FixedClock) -> FixedClock:
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # past the 30-day initial waiting period
    return clock


def test_reimbursement_at_the_auto_approval_amount_is_paid_without_review(
    platform: Platform, tenant_id: uuid.UUID, later: FixedClock
) -> None:
    member = uuid.uuid4()
    seed_floater(platform, tenant_id, member)
    # ₹3,000.00 + ₹2,000.00 = ₹5,000.00 billed: exactly the plan's auto-approval amount → approved,
    # allowed 5,000.00 (100 % of billed), no co-pay under 61 → paid 5,000.00 (500000 paise).
    at = reimburse(platform, tenant_id, reimbursement(member, "3000.00", "2000.00"))
    assert outcome(platform, tenant_id, at) == ("APPROVED", [], 500000, 500000)
    # ₹5,000.01 billed: one paisa over → pends for document review; the line is priced (allowed and
    # payable 5,000.01 once a reviewer approves) but the claim waits.
    over = reimburse(platform, tenant_id, reimbursement(member, "5000.01", day="2026-02-21"))
    assert outcome(platform, tenant_id, over) == ("PENDED", ["DOCUMENTS_TO_REVIEW"], 500001, 500001)


def declare_diabetes(uow: UnitOfWork, policy_id: uuid.UUID, ben: uuid.UUID) -> uuid.UUID:
    """Ben's type 2 diabetes (E11), with a 24-month waiting period; the flag's id."""
    return enrollment.flag_underwriting(
        uow,
        policy_id,
        party_id=ben,
        flag="PRE_EXISTING_DISEASE",
        waiting_period_months=24,
        detail="type 2 diabetes",
        diagnosis_codes=["E11"],
    ).id


def enrol_floater_family(
    platform: Platform,
    tenant_id: uuid.UUID,
    family: dict[str, uuid.UUID],
    *,
    with_eve: bool = True,
    declared: bool = True,
) -> uuid.UUID:
    """Ben (born 1986-02-11) with his mother Eve (born 1950-01-01) on the floater from 2026-01-01;
    Ben declares type 2 diabetes (E11) with a 24-month waiting period. Enrollment's events bring
    both to claims (the flag is recorded before the policy activates). Without ``with_eve``, Ben
    alone; without ``declared``, nothing declared."""
    with platform.db.unit_of_work(tenant_id) as uow:
        policy_id = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.SUM_INSURED,
                account_id=ACCOUNT,
                subscriber_party_id=family["ben"],
                plan_code=FLOATER,
                effective_date=date(2026, 1, 1),
                dependents=[{"party_id": family["grandma"], "relationship": "PARENT"}] if with_eve else [],
            ),
            PlansCatalog(),
        ).id
        if declared:
            declare_diabetes(uow, policy_id, family["ben"])
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)  # an individual policy activates once its premium is paid
    drain(platform)
    return policy_id


def visit(member: uuid.UUID, charge: str, diagnosis: str, day: str) -> ClaimCreate:
    return ReimbursementCreate.model_validate(
        {
            "memberId": str(member),
            "billingNpi": CLINIC,
            "currency": "INR",
            "careSetting": "OPD",
            "diagnoses": [diagnosis],
            "lines": [{"chargeType": "CONSULTATION", "charge": charge, "serviceDateFrom": day}],
        }
    ).as_claim()


def test_senior_copay_and_declared_pre_existing_disease_apply_through_the_service(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, family: dict[str, uuid.UUID]
) -> None:
    seed_floater(platform, tenant_id)  # the schedule and the clinic; coverage comes from enrollment
    policy_id = enrol_floater_family(platform, tenant_id, family)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        views = {v.member_id: v for v in ClaimsRepository(uow).coverage_of_policy(policy_id)}
    ben, eve = views[family["ben"]], views[family["grandma"]]
    assert (ben.birth_date, ben.pre_existing) == (date(1986, 2, 11), {"codes": ["E11"], "months": 24})
    assert (eve.birth_date, eve.pre_existing) == (date(1950, 1, 1), None)
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # past the 30-day initial waiting period
    with platform.db.unit_of_work(tenant_id) as uow:
        # Eve is 76 on 2026-02-20: the senior co-pay (20 % from 61) applies. Allowed 1,000.00
        # (100 % of billed); co-pay 20 % = 200.00 (PR-3, the member's co-payment); paid 800.00.
        senior = public.submit_claim(uow, visit(family["grandma"], "1000.00", "J06.9", "2026-02-20"), source="API")
        # Ben's diabetes visit is within his declared condition's 24 months: denied, nothing paid.
        diabetes = public.submit_claim(uow, visit(family["ben"], "1000.00", "E11.9", "2026-02-20"), source="API")
        # Ben's cold is not the declared condition: paid in full (40 years old, no co-pay).
        cold = public.submit_claim(uow, visit(family["ben"], "1000.00", "J06.9", "2026-02-21"), source="API")
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        results = {
            name: public.remittance_detail(uow, submission.claim_id)
            for name, submission in (("senior", senior), ("diabetes", diabetes), ("cold", cold))
        }
    summary = {
        name: (
            detail.status,
            detail.allowed.amount,
            detail.paid.amount,
            [(a.group, a.carc, a.amount.amount) for line in detail.lines for a in line.adjustments],
        )
        for name, detail in results.items()
        if detail is not None
    }
    assert summary == {
        "senior": ("APPROVED", 100000, 80000, [("PR", "3", 20000)]),
        "diabetes": ("DENIED", 0, 0, [("PR", "51", 100000)]),
        "cold": ("APPROVED", 100000, 100000, []),
    }


def hospital_bill(member: uuid.UUID, admitted: datetime, left: time) -> ClaimCreate:
    """The 837I sample's first claim sent as the clinic's in-patient bill (type of bill 111) for a
    stay from ``admitted`` to ``left`` on 2026-02-21, in rupees, for a cold (J06.9)."""
    bill = read_all(fixture_bytes("two-claims-single-provider.837i"), options=ClaimOptions(currency="INR"))
    sample = bill.of_type(ClaimSubmission)[0]
    day = date(2026, 2, 21)
    stay = dataclasses.replace(
        sample,
        facility_code="11",
        billing_npi=CLINIC,
        diagnoses=(Diagnosis("ABK", "J069"),),
        lines=tuple(dataclasses.replace(line, service_date_from=day, service_date_to=None) for line in sample.lines),
        statement_from=admitted.date(),
        statement_to=day,
        admission_date=admitted.date(),
        admission_time=admitted.time(),
        discharge_time=left,
    )
    return edi_links.claim_create(stay, member)


def test_an_837i_stay_shorter_than_a_day_is_not_in_patient_cover(
    platform: Platform, tenant_id: uuid.UUID, later: FixedClock
) -> None:
    member = uuid.uuid4()
    seed_floater(platform, tenant_id, member)
    short = hospital_bill(member, datetime(2026, 2, 20, 21, 30), time(10, 15))  # 12 h 45 min
    long = hospital_bill(member, datetime(2026, 2, 20, 8, 0), time(10, 15))  # 26 h 15 min
    assert (short.care_setting, short.inpatient_hours, long.inpatient_hours) == (CareSetting.IPD, 12, 26)
    with platform.db.unit_of_work(tenant_id) as uow:
        denied = public.submit_claim(uow, short, source="EDI").claim_id
        paid = public.submit_claim(uow, long, source="EDI").claim_id
    drain(platform)
    # Lines ₹13.39 (lab, 0305) and ₹76.56 (EKG, 0730), 100 % of billed in network, no co-pay under 61.
    # Under 24 hours and not a day-care procedure: each line denied in full as not covered, the
    # member's to pay (PR-96, as for any service the policy does not cover); over 24 hours: both
    # lines paid as billed, ₹89.95.
    assert outcome(platform, tenant_id, denied) == ("DENIED", [], 0, 0)
    assert outcome(platform, tenant_id, paid) == ("APPROVED", [], 8995, 8995)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        detail = public.remittance_detail(uow, denied)
    assert detail is not None
    assert [(a.group, a.carc, a.amount.amount) for line in detail.lines for a in line.adjustments] == [
        ("PR", "96", 1339),
        ("PR", "96", 7656),
    ]


def test_a_pre_existing_disease_declared_after_activation_reaches_claims(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, family: dict[str, uuid.UUID]
) -> None:
    seed_floater(platform, tenant_id)
    policy_id = enrol_floater_family(platform, tenant_id, family, with_eve=False, declared=False)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (view,) = ClaimsRepository(uow).coverage_of_policy(policy_id)
    assert view.pre_existing is None
    # The proposal form's declaration is reviewed after the policy started: the finding is recorded
    # on the live policy, and claims must apply it from the next claim on.
    with platform.db.unit_of_work(tenant_id) as uow:
        flag_id = declare_diabetes(uow, policy_id, family["ben"])
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (view,) = ClaimsRepository(uow).coverage_of_policy(policy_id)
    assert view.pre_existing == {"codes": ["E11"], "months": 24}
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # past the 30-day initial waiting period
    with platform.db.unit_of_work(tenant_id) as uow:
        diabetes = public.submit_claim(uow, visit(family["ben"], "1000.00", "E11.9", "2026-02-20"), source="API")
    drain(platform)
    # Within the declared condition's 24 months: denied, the ₹1,000.00 the member's (PR-51).
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        detail = public.remittance_detail(uow, diabetes.claim_id)
    assert detail is not None
    assert (detail.status, detail.paid.amount) == ("DENIED", 0)
    assert [(a.group, a.carc, a.amount.amount) for line in detail.lines for a in line.adjustments] == [
        ("PR", "51", 100000)
    ]
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        flagged = [
            r.payload for r in uow.session.scalars(select(OutboxRecord)) if r.topic == "enrollment.underwriting.flagged"
        ]
    assert [(e["eventType"], e["enrollmentId"], e["memberId"], e["flagId"]) for e in map(json.loads, flagged)] == [
        ("UNDERWRITING_FLAGGED", str(policy_id), str(family["ben"]), str(flag_id))
    ]
    assert "E11" not in flagged[0] and "diabetes" not in flagged[0]  # ids only: the finding stays in enrollment


def test_a_diabetes_finding_withdrawn_after_a_denial_pays_the_denied_claim_and_the_next(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, family: dict[str, uuid.UUID]
) -> None:
    seed_floater(platform, tenant_id)
    policy_id = enrol_floater_family(platform, tenant_id, family, with_eve=False, declared=False)
    with platform.db.unit_of_work(tenant_id) as uow:
        flag_id = declare_diabetes(uow, policy_id, family["ben"])  # declared late, after activation
    drain(platform)
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # past the 30-day initial waiting period
    with platform.db.unit_of_work(tenant_id) as uow:
        denied = public.submit_claim(uow, visit(family["ben"], "1000.00", "E11.9", "2026-02-20"), source="API")
    drain(platform)
    assert outcome(platform, tenant_id, denied.claim_id) == ("DENIED", [], 0, 0)
    # The finding was Ben's brother's, filed on Ben: withdrawn, it leaves claims' copy of his cover.
    clock.set(datetime(2026, 3, 3, 11, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.withdraw_underwriting(uow, policy_id, flag_id, reason=WithdrawalReason.WRONG_PERSON)
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (view,) = ClaimsRepository(uow).coverage_of_policy(policy_id)
    assert (view.pre_existing, view.synced_at) == (None, datetime(2026, 3, 3, 11, 0, tzinfo=UTC))
    # Ben's next diabetes visit: allowed ₹1,000.00 (100 % of billed in network), no co-pay under 61,
    # paid in full; nothing of the member's to pay.
    with platform.db.unit_of_work(tenant_id) as uow:
        paid = public.submit_claim(uow, visit(family["ben"], "1000.00", "E11.9", "2026-03-03"), source="API")
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        detail = public.remittance_detail(uow, paid.claim_id)
        before = public.remittance_detail(uow, denied.claim_id)
    assert detail is not None and before is not None
    assert (detail.status, detail.allowed.amount, detail.paid.amount) == ("APPROVED", 100000, 100000)
    assert [(a.group, a.carc, a.amount.amount) for line in detail.lines for a in line.adjustments] == []
    # The claim denied while the finding stood was adjudicated again on the withdrawal: the same
    # ₹1,000.00 visit of 2026-02-20 (past the 30-day initial wait), paid in full.
    assert (before.status, before.allowed.amount, before.paid.amount) == ("APPROVED", 100000, 100000)
    assert [(a.group, a.carc, a.amount.amount) for line in before.lines for a in line.adjustments] == []
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = ClaimsRepository(uow)
        first, current = repo.result(denied.claim_id, 1), repo.current_result(denied.claim_id)
        payables = [(p.amount_minor, p.status) for p in BillingRepository(uow).claim_payables(denied.claim_id)]
    assert first is not None and first.reversed  # the denial's movements (none) undone first
    assert current is not None and current.sequence == 2
    assert payables == [(100000, "UNPAID")]  # billing owes it now, like any approval
