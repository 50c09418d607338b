"""A replacement (frequency 7) reverses the original's payment and accumulators exactly before the
new claim is adjudicated; a void (8) reverses and pays nothing."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from olly.claims import models as m
from olly.claims import public
from olly.claims.schemas import ClaimCreate
from olly.kernel.errors import ValidationFailed
from olly.kernel.money import Money
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, ClaimsWorld, claim_body, drain, line, seed


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict[str, Any]) -> uuid.UUID:
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


def test_the_remittance_of_a_replacement_and_of_a_void_exactly(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # 29880 allowed 2,000.00: deductible 1,000.00, coinsurance 20% × 1,000.00 = 200.00, paid 800.00.
    original = submit(platform, tenant_id, claim_body(world.ana, line("29880", "2000.00")))
    drain(platform)
    # Replaced by a visit (modifier 25) and a drainage on the next day, with the submitter's origin.
    body = claim_body(
        world.ana,
        line("99213", "150.00", modifiers=["25"]),
        line("10060", "500.00", day="2026-01-11", units=2),
        frequency="7",
        originalClaimId=str(original),
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        replacement = public.submit_claim(
            uow, ClaimCreate.model_validate(body), source="EDI", origin='{"claim":"PCN-7"}'
        ).claim_id
    drain(platform)
    void = submit(
        platform,
        tenant_id,
        claim_body(world.ana, line("10060", "500.00"), frequency="8", originalClaimId=str(replacement)),
    )
    drain(platform)
    wanted = [(replacement, None), (replacement, 1), (replacement, 2), (void, None), (original, None)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        together = public.remittance_details(uow, wanted)
        alone = {
            (claim_id, sequence): public.remittance_detail(uow, claim_id, sequence) for claim_id, sequence in wanted
        }
    with platform.db.unit_of_work(uuid.uuid4(), read_only=True) as uow:  # another tenant sees none of them
        assert public.remittance_details(uow, wanted) == dict.fromkeys(wanted)
    assert together == alone

    def usd(amount: int) -> Money:
        return Money(amount, "USD")

    def header(claim_id: uuid.UUID, status: str, totals: tuple[int, int, int, int]) -> dict[str, Any]:
        billed, allowed, paid, patient = totals
        return {
            "claim_id": claim_id,
            "member_id": world.ana,
            "billing_npi": NPI_IN,
            "status": status,
            "payee": "PROVIDER",
            "currency": "USD",
            "billed": usd(billed),
            "allowed": usd(allowed),
            "paid": usd(paid),
            "patient_responsibility": usd(patient),
            "plan_type": "PPO",  # Ana's demo PPO: the 835's CLP06 12
        }

    # The original as the replacement's reversal CLP reports it: 1,000.00 deductible, 200.00 coinsurance.
    reversed_original = public.RemittanceClaim(
        **header(original, "APPROVED", (200000, 200000, 80000, 120000)),
        lines=(remitted(1, "29880", 1, (200000, 200000, 80000), ("PR", "1", 100000), ("PR", "2", 20000)),),
        reversal_of=None,
        reversal_paid=None,
    )
    # The original's deductible is given back first, so the replacement's drainage (2 units at the
    # 400.00 fee, allowed the 500.00 charged) goes to it whole; the visit: CO-45 50.00, PR-3 25.00.
    replacing = public.RemittanceClaim(
        **header(replacement, "APPROVED", (65000, 60000, 7500, 52500)),
        lines=(
            remitted(1, "99213", 1, (15000, 10000, 7500), ("CO", "45", 5000), ("PR", "3", 2500), modifiers=("25",)),
            remitted(2, "10060", 2, (50000, 50000, 0), ("PR", "1", 50000), day=date(2026, 1, 11)),
        ),
        reversal_of=original,
        reversal_paid=usd(-80000),
        origin='{"claim":"PCN-7"}',
    )
    voiding = public.RemittanceClaim(
        **header(void, "VOIDED", (0, 0, 0, 0)), lines=(), reversal_of=replacement, reversal_paid=usd(-7500)
    )
    assert together == {
        (replacement, None): replacing,
        (replacement, 1): replacing,
        (replacement, 2): None,  # no second adjudication
        (void, None): voiding,
        (original, None): reversed_original,
    }


def remitted(
    number: int,
    code: str,
    units: int,
    amounts: tuple[int, int, int],
    *adjustments: tuple[str, str, int],
    modifiers: tuple[str, ...] = (),
    day: date = date(2026, 1, 10),
) -> public.RemittanceLine:
    """A remitted line: its billed, allowed and paid amounts (USD cents) and CAS (group, CARC, cents)."""
    billed, allowed, paid = (Money(amount, "USD") for amount in amounts)
    cas = tuple(public.RemittanceAdjustment(group, carc, Money(cents, "USD"), ()) for group, carc, cents in adjustments)
    return public.RemittanceLine(number, code, modifiers, None, units, day, billed, allowed, paid, cas)
