"""Adjudication reads the prior-authorisation records: pends while none is on file or the request is
undecided, denies CO-197 under a denied request, records the units an approved one gives the claim,
and gives them back when the claim is voided, replaced or reversed after an overturned appeal.

The demo PPO lists 29881 as needing authorisation and pends a claim when none is on file; the
in-network provider's contract allows 1,500.00 for it. Ana's first claim of the year therefore pays
1,500.00 − 1,000.00 deductible − 20% × 500.00 = 400.00.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from olly.claims import models as m
from olly.claims import prior_auth, public, service
from olly.claims.events import AppealResolved
from olly.claims.schemas import ClaimCreate
from olly.kernel.clock import FixedClock
from olly.platform.db import UnitOfWork
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


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict[str, Any]) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id
    drain(platform)
    return claim_id


def status(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> tuple[str, tuple[str, ...]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        view = public.claim_status(uow, claim_id)
    assert view is not None
    return view.status, view.pend_reasons


def remittance(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> public.RemittanceClaim:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = public.remittance_detail(uow, claim_id)
    assert found is not None
    return found


def history(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> list[tuple[str, str]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(
            select(m.ClaimStatusChange)
            .where(m.ClaimStatusChange.claim_id == claim_id)
            .order_by(m.ClaimStatusChange.changed_at, m.ClaimStatusChange.id)
        )
        return [(row.status, row.reason) for row in rows]


def approved_auth(platform: Platform, tenant_id: uuid.UUID, member: uuid.UUID, units: int) -> uuid.UUID:
    auth_id = request_auth(platform, tenant_id, member, units=units)
    decide_auth(platform, tenant_id, auth_id)
    drain(platform)
    return auth_id


def test_a_claim_before_any_request_pends_required_and_after_receipt_pends_pending(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld, clock: FixedClock
) -> None:
    before = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00")))
    assert status(platform, tenant_id, before) == ("PENDED", ("PRIOR_AUTH_REQUIRED",))
    clock.advance(timedelta(minutes=5))
    auth_id = request_auth(platform, tenant_id, world.ana)
    drain(platform)
    assert status(platform, tenant_id, before) == ("PENDED", ("PRIOR_AUTH_REQUIRED",))  # receipt decides nothing
    clock.advance(timedelta(minutes=5))
    after = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00", day="2026-01-12")))
    assert status(platform, tenant_id, after) == ("PENDED", ("PRIOR_AUTH_PENDING",))
    assert units_used(platform, tenant_id, auth_id) == [("29881", 0, 0)]  # a pended claim holds no units
    # The decision (one unit) re-adjudicates both, oldest first: the first claim takes the unit and
    # pays 400.00; the approval is then used up, so the second still needs one (this plan pends).
    decide_auth(platform, tenant_id, auth_id)
    drain(platform)
    assert (remittance(platform, tenant_id, before).status, remittance(platform, tenant_id, before).paid.amount) == (
        "APPROVED",
        40000,
    )
    assert status(platform, tenant_id, after) == ("PENDED", ("PRIOR_AUTH_REQUIRED",))
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 1)]
    # A pended adjudication has no remittance, current or asked for by its sequence.
    wanted = [(before, 1), (before, 2), (before, None), (after, None), (after, 1)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = public.remittance_details(uow, wanted)
    assert [(d.status, d.paid.amount) if d else None for d in found.values()] == [
        None,
        ("APPROVED", 40000),
        ("APPROVED", 40000),
        None,
        None,
    ]


def test_an_approved_authorisation_records_the_units_the_claim_used(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    # 29881 × 2 allowed 3,000.00: deductible 1,000.00, 20% × 2,000.00 = 400.00, paid 1,600.00;
    # 99213 allowed 100.00, 25.00 copay, paid 75.00 (needs no authorisation).
    auth_id = approved_auth(platform, tenant_id, world.ana, units=3)
    claim_id = submit(
        platform,
        tenant_id,
        claim_body(
            world.ana,
            line("29881", "3600.00", units=2),
            line("99213", "150.00"),
            priorAuthReference=str(auth_id),
        ),
    )
    found = remittance(platform, tenant_id, claim_id)
    assert found.status == "APPROVED"
    assert [(ln.procedure_code, ln.units, ln.allowed.amount, ln.paid.amount) for ln in found.lines] == [
        ("29881", 2, 300000, 160000),
        ("99213", 1, 10000, 7500),
    ]
    assert units_used(platform, tenant_id, auth_id) == [("29881", 3, 2)]


def test_a_void_releases_the_units_and_a_replacement_uses_them_again(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    auth_id = approved_auth(platform, tenant_id, world.ana, units=1)
    original = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00")))
    assert remittance(platform, tenant_id, original).paid.amount == 40000
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 1)]
    # The replacement needs the unit the original holds: it is reversed first, so the unit is free.
    replacement = submit(
        platform,
        tenant_id,
        claim_body(world.ana, line("29881", "1800.00"), frequency="7", originalClaimId=str(original)),
    )
    assert status(platform, tenant_id, original)[0] == "REPLACED"
    assert (
        remittance(platform, tenant_id, replacement).status,
        remittance(platform, tenant_id, replacement).paid.amount,
    ) == (
        "APPROVED",
        40000,
    )
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 1)]
    void = submit(
        platform,
        tenant_id,
        claim_body(world.ana, line("29881", "1800.00"), frequency="8", originalClaimId=str(replacement)),
    )
    assert status(platform, tenant_id, void)[0] == "VOIDED"
    assert status(platform, tenant_id, replacement)[0] == "VOIDED"
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 0)]


def test_an_overturned_appeal_gives_back_the_units_before_adjudicating_again(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    auth_id = approved_auth(platform, tenant_id, world.ana, units=1)
    claim_id = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00")))
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
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        records = list(uow.session.scalars(select(m.AdjudicationRecord).order_by(m.AdjudicationRecord.sequence)))
    assert [(r.cause, r.status, r.paid_minor) for r in records] == [
        ("SUBMITTED", "APPROVED", 40000),
        ("APPEAL_OVERTURNED", "APPROVED", 40000),
    ]
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 1)]


def test_a_claim_quoting_a_denied_authorisation_is_denied_co_197(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    auth_id = request_auth(platform, tenant_id, world.ana)
    decide_auth(platform, tenant_id, auth_id, prior_auth.DecisionOutcome.DENIED, denial_reason_code="50")
    drain(platform)
    claim_id = submit(
        platform, tenant_id, claim_body(world.ana, line("29881", "1800.00"), priorAuthReference=str(auth_id))
    )
    found = remittance(platform, tenant_id, claim_id)
    assert (found.status, found.paid.amount, found.patient_responsibility.amount) == ("DENIED", 0, 0)
    [denied] = found.lines
    assert [(a.group, a.carc, a.amount.amount, a.rarcs) for a in denied.adjustments] == [("CO", "197", 180000, ())]
    assert units_used(platform, tenant_id, auth_id) == [("29881", 0, 0)]


def test_a_refused_unit_recording_leaves_the_adjudication_standing(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth_id = approved_auth(platform, tenant_id, world.ana, units=1)
    first = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00")))
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 1)]
    real = service.prior_authorizations_of

    def stale(uow: UnitOfWork, member_id: uuid.UUID, excluding_claims: Collection[uuid.UUID] = ()) -> Any:
        # As if the first claim's unit had not been recorded when this adjudication read the authorisation.
        return real(uow, member_id, {*excluding_claims, first})

    monkeypatch.setattr(service, "prior_authorizations_of", stale)
    second = submit(platform, tenant_id, claim_body(world.ana, line("29881", "1800.00", day="2026-01-12")))
    # Deductible met by the first claim: 20% × 1,500.00 = 300.00; paid 1,200.00.
    assert (remittance(platform, tenant_id, second).status, remittance(platform, tenant_id, second).paid.amount) == (
        "APPROVED",
        120000,
    )
    assert units_used(platform, tenant_id, auth_id) == [("29881", 1, 1)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        [service_id] = [str(s.id) for s in prior_auth.get(uow, auth_id).services]
    assert ("AUTH_UNITS_REFUSED", f"units not recorded on authorised service {service_id}") in history(
        platform, tenant_id, second
    )
