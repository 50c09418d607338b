"""Out-of-network pricing through the claims service, from the demo PPO's maximum allowable amounts
(150 % of a Medicare-style base for office visits at $33.4009 a relative value unit, else 50 % of
the charge), with balance billing explained; on SQLite and PostgreSQL.

Out of network the PPO has a $2,000.00 individual deductible, then 40 % coinsurance (office visits
and outpatient surgery); the member may be billed the charge above the allowed amount (PR-45),
except for an emergency (No Surprises Act: in-network cost sharing, CO-45).
"""

from __future__ import annotations

import uuid

import pytest

from olly.claims import public
from olly.claims.repository import ClaimsRepository
from olly.claims.schemas import ClaimCreate
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_OUT, ClaimsWorld, claim_body, drain, line, seed


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def adjudicated(platform: Platform, tenant_id: uuid.UUID, body: dict) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id
    drain(platform)
    return claim_id


def summary(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> tuple[str, int, int, list[str]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        detail = public.remittance_detail(uow, claim_id)
    assert detail is not None
    adjustments = [f"{a.group}-{a.carc} {a.amount.to_decimal_string()}" for x in detail.lines for a in x.adjustments]
    return detail.status, detail.allowed.amount, detail.paid.amount, adjustments


def pricing_notes(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> list[tuple[str, dict]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        record = ClaimsRepository(uow).current_result(claim_id)
    assert record is not None
    (first,) = record.result["lines"]
    return [(step["note"], step["outputs"]) for step in first["trace"] if step["step"] == "pricing"]


def test_out_of_network_lines_are_priced_and_balance_billing_explained(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # 10060 billed 5,000.00 has no base rate: 50 % of billed = 2,500.00 allowed; PR-45 2,500.00
    # (balance bill); deductible 2,000.00 (PR-1); 40 % of 500.00 = 200.00 (PR-2); paid 300.00.
    surgery = adjudicated(platform, tenant_id, claim_body(world.ana, line("10060", "5000.00"), billingNpi=NPI_OUT))
    assert summary(platform, tenant_id, surgery) == (
        "APPROVED", 250000, 30000, ["PR-45 2500.00", "PR-1 2000.00", "PR-2 200.00"],
    )  # fmt: skip
    # 99213 billed 200.00: 2.60 RVU × 33.4009 × 150 % = 130.26351 → 130.26 allowed; PR-45 69.74;
    # deductible met; 40 % of 130.26 = 52.104 → 52.10 (PR-2); paid 78.16.
    visit = adjudicated(
        platform, tenant_id, claim_body(world.ana, line("99213", "200.00", "2026-01-12"), billingNpi=NPI_OUT)
    )
    assert summary(platform, tenant_id, visit) == ("APPROVED", 13026, 7816, ["PR-45 69.74", "PR-2 52.10"])
    notes = pricing_notes(platform, tenant_id, visit)
    assert notes[0][1]["rate_amount"] == "130.26" and notes[0][1]["above_allowed_group"] == "PR"
    assert notes[1] == (
        "Out of network the plan recognises at most its maximum allowable amount; the provider may bill the "
        "member the charge above it (balance billing, PR-45), which counts toward no deductible or "
        "out-of-pocket maximum.",
        {"balance_bill": "69.74"},
    )


def test_an_out_of_network_emergency_is_not_balance_billed(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # 99285 billed 1,500.00 at an out-of-network ER: allowed 50 % = 750.00, the rest CO-45 (No
    # Surprises Act); in-network emergency cost sharing: copay 300.00 (PR-3) before the deductible,
    # then the in-network deductible 450.00 of the remaining 450.00 (PR-1); paid 0.00.
    body = claim_body(world.solo, line("99285", "1500.00"), billingNpi=NPI_OUT, placeOfService="23", isEmergency=True)
    er = adjudicated(platform, tenant_id, body)
    assert summary(platform, tenant_id, er) == ("APPROVED", 75000, 0, ["CO-45 750.00", "PR-1 450.00", "PR-3 300.00"])
    assert pricing_notes(platform, tenant_id, er)[1] == (
        "The No Surprises Act applies: the provider may not bill the member the charge above the allowed "
        "amount (CO-45).",
        {"balance_bill": "0.00"},
    )
