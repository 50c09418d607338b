"""Intake → claims.claim.submitted → the adjudication worker → result, accumulators and events,
on SQLite and PostgreSQL. Amounts come from the demo PPO (office visit $25 copay, no deductible;
outpatient surgery 20% after a $1,000/$2,000 embedded deductible) and the seeded fee schedule."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from olly.claims import models as m
from olly.claims import public, service
from olly.claims.rules import Submitter
from olly.claims.schemas import ClaimCreate
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, NPI_OUT, ClaimsWorld, claim_body, drain, line, seed


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict, key: str | None = None) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return public.submit_claim(uow, ClaimCreate.model_validate(body), source="API", idempotency_key=key).claim_id


def accumulators(platform: Platform, tenant_id: uuid.UUID) -> dict[tuple[str, str, str, str], int]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(m.Accumulator))
        return {(r.kind, r.level, r.network, r.holder_id): r.used for r in rows if r.used}


def test_office_visit_copay_through_the_bus(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> None:
    claim_id = submit(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.claim_status(uow, claim_id)
        assert status is not None and status.status == "RECEIVED"
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.claim_status(uow, claim_id)
        remittance = public.remittance_detail(uow, claim_id)
    assert status is not None and status.status == "APPROVED"
    assert remittance is not None
    (only,) = remittance.lines
    # allowed = min(150.00, fee 100.00) = 100.00; CO-45 50.00; copay 25.00 (PR-3); paid 75.00
    assert (only.billed.amount, only.allowed.amount, only.paid.amount) == (15000, 10000, 7500)
    assert [(a.group, a.carc, a.amount.amount) for a in only.adjustments] == [("CO", "45", 5000), ("PR", "3", 2500)]
    assert accumulators(platform, tenant_id) == {
        ("OUT_OF_POCKET", "MEMBER", "IN_NETWORK", str(world.ana)): 2500,
        ("OUT_OF_POCKET", "FAMILY", "IN_NETWORK", str(world.family_id)): 2500,
    }
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        records = list(uow.session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))
    topics = [r.topic for r in records]
    assert topics[:3] == ["claims.claim.submitted", "claims.claim.adjudicated", "claims.accumulator.updated"]


def test_deductible_then_coinsurance_across_the_family(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # Ana: 10060 billed 500.00, allowed 400.00 → all to the deductible (400.00), paid 0.
    first = submit(platform, tenant_id, claim_body(world.ana, line("10060", "500.00")))
    # Ana again: 29880 billed 2,500.00, allowed 2,000.00 → deductible 600.00 (1,000 − 400), then
    # 20% of 1,400.00 = 280.00 coinsurance, paid 1,120.00.
    second = submit(platform, tenant_id, claim_body(world.ana, line("29880", "2500.00", "2026-01-12")))
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        a = public.remittance_detail(uow, first)
        b = public.remittance_detail(uow, second)
    assert a is not None and b is not None
    assert (a.allowed.amount, a.paid.amount, a.patient_responsibility.amount) == (40000, 0, 40000)
    assert [(x.group, x.carc, x.amount.amount) for x in b.lines[0].adjustments] == [
        ("CO", "45", 50000),
        ("PR", "1", 60000),
        ("PR", "2", 28000),
    ]
    assert b.paid.amount == 112000
    used = accumulators(platform, tenant_id)
    assert used[("DEDUCTIBLE", "MEMBER", "IN_NETWORK", str(world.ana))] == 100000
    assert used[("DEDUCTIBLE", "FAMILY", "IN_NETWORK", str(world.family_id))] == 100000
    assert used[("OUT_OF_POCKET", "MEMBER", "IN_NETWORK", str(world.ana))] == 128000


def test_idempotency_key(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> None:
    body = claim_body(world.ana, line("99213", "150.00"))
    first = submit(platform, tenant_id, body, key="k-1")
    again = submit(platform, tenant_id, body, key="k-1")
    assert first == again
    other = claim_body(world.ana, line("99213", "151.00"))
    with pytest.raises(service.IdempotencyConflict):
        submit(platform, tenant_id, other, key="k-1")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert len(list(uow.session.scalars(select(m.Claim)))) == 1


def test_claim_payees_say_what_claim_status_says_of_the_payee(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider_claim = submit(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))
    with platform.db.unit_of_work(tenant_id) as uow:
        reimbursement = service.submit(
            uow,
            ClaimCreate.model_validate(claim_body(world.ben, line("99213", "80.00"), billingNpi=NPI_OUT)),
            source="PORTAL",
            submitter=Submitter.MEMBER_REIMBURSEMENT,
        ).claim_id
    unknown = uuid.uuid4()
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        payees = public.claim_payees(uow, [provider_claim, reimbursement, unknown])
        statuses = [public.claim_status(uow, claim_id) for claim_id in (provider_claim, reimbursement)]
    assert payees == {
        provider_claim: public.ClaimPayee("PROVIDER", NPI_IN, "USD"),
        reimbursement: public.ClaimPayee("MEMBER", NPI_OUT, "USD"),
    }
    assert [(s.payee, s.billing_npi, s.billed.currency) for s in statuses if s is not None] == [
        ("PROVIDER", NPI_IN, "USD"),
        ("MEMBER", NPI_OUT, "USD"),
    ]
    with platform.db.unit_of_work(uuid.uuid4(), read_only=True) as uow:
        assert public.claim_payees(uow, [provider_claim]) == {}  # another tenant's claim is not seen
