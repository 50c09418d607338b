"""Re-adjudication: a prior-auth decision releases claims pended for it; an overturned appeal
reverses the claim's result exactly and adjudicates it again (accumulators never count twice)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from olly.claims import models as m
from olly.claims import public
from olly.claims.events import AppealResolved
from olly.claims.schemas import ClaimCreate
from olly.platform.runtime import Platform
from tests.integration.claims.support import (
    ClaimsWorld,
    claim_body,
    decide_auth,
    drain,
    line,
    request_auth,
    seed,
    units_used,
)


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id


def test_prior_auth_decision_releases_the_pended_claim(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    claim_id = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00")))
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        pended = public.claim_status(uow, claim_id)
    assert pended is not None and (pended.status, pended.pend_reasons) == ("PENDED", ("PRIOR_AUTH_REQUIRED",))
    auth_id = request_auth(platform, tenant_id, world.ana, units=1)
    drain(platform)  # the request's receipt (PRIOR_AUTH_PENDED) leaves the claim pended
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        still = public.claim_status(uow, claim_id)
    assert still is not None and still.status == "PENDED"
    decide_auth(platform, tenant_id, auth_id)  # publishes claims.prior_auth.decision PRIOR_AUTH_APPROVED
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        remittance = public.remittance_detail(uow, claim_id)
        causes = [
            r.cause for r in uow.session.scalars(select(m.AdjudicationRecord).order_by(m.AdjudicationRecord.sequence))
        ]
    # allowed 1,500.00; deductible 1,000.00; 20% × 500.00 = 100.00; paid 400.00
    assert remittance is not None and (remittance.status, remittance.paid.amount) == ("APPROVED", 40000)
    assert causes == ["SUBMITTED", "PRIOR_AUTH_DECIDED"]
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 1)]


def test_overturned_appeal_reverses_before_adjudicating_again(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    claim_id = submit(platform, tenant_id, claim_body(world.ana, line("29880", "2000.00")))
    drain(platform)

    def used() -> dict[tuple[str, str], int]:
        with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
            return {(r.kind, r.level): r.used for r in uow.session.scalars(select(m.Accumulator))}

    before = used()
    assert before[("DEDUCTIBLE", "MEMBER")] == 100000
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.publish(
            AppealResolved(
                event_type="APPEAL_OVERTURNED",
                appeal_id=uuid.uuid4(),
                claim_id=claim_id,
                member_id=world.ana,
                resolved_at=uow.clock.now(),
            ),
            key=world.ana,
        )
    drain(platform)
    assert used() == before
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        records = list(uow.session.scalars(select(m.AdjudicationRecord).order_by(m.AdjudicationRecord.sequence)))
    assert [(r.cause, r.reversed, r.is_current, r.paid_minor) for r in records] == [
        ("SUBMITTED", True, False, 80000),
        ("APPEAL_OVERTURNED", False, True, 80000),
    ]
