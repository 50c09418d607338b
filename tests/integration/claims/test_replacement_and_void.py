"""A replacement (frequency 7) reverses the original's payment and accumulators exactly before the
new claim is adjudicated; a void (8) reverses and pays nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from olly.claims import models as m
from olly.claims import public
from olly.claims.schemas import ClaimCreate
from olly.kernel.errors import ValidationFailed
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, claim_body, drain, line, seed


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id


def used(platform: Platform, tenant_id: uuid.UUID) -> dict[tuple[str, str], int]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return {(r.kind, r.level): r.used for r in uow.session.scalars(select(m.Accumulator))}


def test_replace_then_void(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> None:
    # 29880 allowed 2,000.00: deductible 1,000.00, coinsurance 20% × 1,000.00 = 200.00, paid 800.00.
    original = submit(platform, tenant_id, claim_body(world.ana, line("29880", "2000.00")))
    drain(platform)
    assert used(platform, tenant_id) == {
        ("DEDUCTIBLE", "MEMBER"): 100000,
        ("DEDUCTIBLE", "FAMILY"): 100000,
        ("OUT_OF_POCKET", "MEMBER"): 120000,
        ("OUT_OF_POCKET", "FAMILY"): 120000,
    }
    # The provider corrects the code: 10060 allowed 400.00, all deductible, paid 0.
    replacement = submit(
        platform,
        tenant_id,
        claim_body(world.ana, line("10060", "500.00"), frequency="7", originalClaimId=str(original)),
    )
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        first = public.claim_status(uow, original)
        remittance = public.remittance_detail(uow, replacement)
    assert first is not None and first.status == "REPLACED"
    assert remittance is not None and remittance.reversal_of == original
    assert remittance.reversal_paid is not None and remittance.reversal_paid.amount == -80000
    assert (remittance.paid.amount, remittance.allowed.amount) == (0, 40000)
    assert used(platform, tenant_id) == {
        ("DEDUCTIBLE", "MEMBER"): 40000,
        ("DEDUCTIBLE", "FAMILY"): 40000,
        ("OUT_OF_POCKET", "MEMBER"): 40000,
        ("OUT_OF_POCKET", "FAMILY"): 40000,
    }
    # A claim once replaced cannot be replaced again.
    with pytest.raises(ValidationFailed):
        submit(
            platform,
            tenant_id,
            claim_body(world.ana, line("10060", "500.00"), frequency="8", originalClaimId=str(original)),
        )
    void = submit(
        platform,
        tenant_id,
        claim_body(world.ana, line("10060", "500.00"), frequency="8", originalClaimId=str(replacement)),
    )
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        voided = public.claim_status(uow, void)
        replaced = public.claim_status(uow, replacement)
        void_remittance = public.remittance_detail(uow, void)
    assert voided is not None and replaced is not None and (voided.status, replaced.status) == ("VOIDED", "VOIDED")
    assert void_remittance is not None and void_remittance.lines == ()
    assert void_remittance.reversal_of == replacement and void_remittance.reversal_paid is not None
    assert void_remittance.reversal_paid.amount == 0
    assert used(platform, tenant_id) == {
        ("DEDUCTIBLE", "MEMBER"): 0,
        ("DEDUCTIBLE", "FAMILY"): 0,
        ("OUT_OF_POCKET", "MEMBER"): 0,
        ("OUT_OF_POCKET", "FAMILY"): 0,
    }
