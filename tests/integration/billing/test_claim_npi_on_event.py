"""The billing NPI a provider claim is paid under comes with ``ClaimApproved`` (schema v4); an event
from before it is answered by claims (``claims.public.billing_npis``), with the same outcome."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from olly.billing import public, service
from olly.billing.models import ClaimPayable
from olly.claims import public as claims_public
from olly.claims.events import ClaimApproved
from olly.claims.schemas import ClaimCreate
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.integration.billing.support import drain
from tests.integration.claims.support import NPI_IN, claim_body, line, seed

CLINIC, ANA = uuid.UUID(int=0xC11), uuid.UUID(int=0xA)


class ClaimsAnswers:
    """``claims.public.billing_npis`` as claims would answer it for claims it holds, counting calls."""

    def __init__(self, npis: dict[uuid.UUID, str]) -> None:
        self.npis = npis
        self.asked: list[list[uuid.UUID]] = []

    def __call__(self, uow: object, claim_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        wanted = list(claim_ids)
        self.asked.append(wanted)
        return {c: self.npis[c] for c in wanted if c in self.npis}


def approved(paid: str, npi: str | None) -> ClaimApproved:
    return ClaimApproved(
        claim_id=uuid.uuid4(),
        member_id=ANA,
        provider_id=CLINIC,
        status="APPROVED",
        total_billed_amount="200.00",
        allowed_amount=paid,
        paid_amount=paid,
        member_responsibility="0.00",
        deductible_applied="0.00",
        copay_applied="0.00",
        coinsurance_applied="0.00",
        adjudicated_at=datetime(2026, 1, 14, 12, 0, tzinfo=UTC),
        adjudication_sequence=1,
        billing_npi=npi,
    )


def payables(platform: Platform, tenant_id: uuid.UUID) -> dict[uuid.UUID, tuple[object, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(ClaimPayable))
        return {
            r.claim_id: (r.payee, r.payee_id, r.payee_npi, r.provider_id, r.amount_minor, r.currency, r.status)
            for r in rows
        }


def test_an_event_with_or_without_the_npi_is_handled_alike(
    platform: Platform, tenant_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_npi = [approved("120.00", NPI_IN), approved("0.00", NPI_IN)]  # the second settled at $0
    old = [approved("120.00", None), approved("0.00", None)]  # schema v3: no billingNpi
    claims = ClaimsAnswers({e.claim_id: NPI_IN for e in with_npi + old})
    monkeypatch.setattr(claims_public, "billing_npis", claims)
    with platform.db.unit_of_work(tenant_id) as uow:
        for event in with_npi:
            uow.publish(event, key=event.member_id)
    drain(platform)
    assert claims.asked == []  # the event said it: claims is not asked
    with platform.db.unit_of_work(tenant_id) as uow:
        for event in old:
            published = uow.publish(event, key=event.member_id)
            payload = {k: v for k, v in published.payload.items() if k != "billingNpi"}
            uow.pending_events[-1] = replace(published, payload=payload)  # as a v3 producer wrote it
    drain(platform)
    assert sorted(map(sorted, claims.asked)) == sorted([[old[0].claim_id], [old[1].claim_id]])  # once each
    found = payables(platform, tenant_id)
    expected = [
        ("PROVIDER", CLINIC, NPI_IN, CLINIC, 12000, "USD", "UNPAID"),
        ("PROVIDER", CLINIC, NPI_IN, CLINIC, 0, "USD", "UNPAID"),
    ]
    assert [found[e.claim_id] for e in with_npi] == expected
    assert [found[e.claim_id] for e in old] == expected
    with platform.db.unit_of_work(tenant_id) as uow:
        run_id = service.run_claim_payments(uow).id
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        advice = public.payment_run(uow, run_id)
    assert advice is not None
    (payment,) = advice.payments  # one NPI, one payment, old and new events alike
    assert (payment.payee_npi, payment.amount_minor, sorted(c.paid_minor for c in payment.claims)) == (
        NPI_IN,
        24000,
        [0, 0, 12000, 12000],
    )
    assert len(claims.asked) == 2  # the run found every NPI on its payables


def test_claims_publishes_the_billing_npi_and_billing_needs_no_lookup(
    platform: Platform, tenant_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = seed(platform, tenant_id)
    answer = claims_public.billing_npis
    claims = ClaimsAnswers({})
    monkeypatch.setattr(claims_public, "billing_npis", claims)
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = claims_public.submit_claim(
            uow, ClaimCreate.model_validate(claim_body(world.ana, line("99213", "150.00"))), source="API"
        ).claim_id
    drain(platform)
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        (sent,) = [
            json.loads(r.payload)
            for r in uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic == "claims.claim.adjudicated"))
        ]
        assert answer(uow, [claim_id]) == {claim_id: NPI_IN}  # what the fallback would have read
    assert (sent["eventType"], sent["claimId"], sent["paidAmount"], sent["billingNpi"]) == (
        "CLAIM_APPROVED",
        str(claim_id),
        "75.00",
        NPI_IN,
    )
    assert claims.asked == []
    ((payee, _, npi, _, amount, _, status),) = payables(platform, tenant_id).values()
    assert (payee, npi, amount, status) == ("PROVIDER", NPI_IN, 7500, "UNPAID")
