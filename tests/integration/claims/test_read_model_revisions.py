"""Adjudication caches parsed copies of claims' schedule and contract read models by row revision:
an update is seen by the very next claim, even at the same instant (the test clock stands still).
The duplicate edit reads only the member's earlier claims from the same provider whose service
dates meet the new claim's, and still finds every duplicate. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from olly.claims import handlers, public, snapshots
from olly.claims import models as m
from olly.claims.repository import ClaimsRepository
from olly.claims.rules import Contract
from olly.claims.schemas import ClaimCreate
from olly.kernel.money import Money
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from olly.provider import service as provider_service
from tests.integration.claims.support import NPI_IN, PPO, ClaimsWorld, claim_body, drain, line, seed
from tests.integration.provider import factories as provider_factories


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def submit(platform: Platform, tenant_id: uuid.UUID, body: dict) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id


def lines_of(platform: Platform, tenant_id: uuid.UUID, claim_id: uuid.UUID) -> list[tuple[str, int, int, list]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        detail = public.remittance_detail(uow, claim_id)
    assert detail is not None
    return [
        (
            str(ln.service_date),
            ln.allowed.amount,
            ln.paid.amount,
            [(a.group, a.carc, a.amount.amount) for a in ln.adjustments],
        )
        for ln in detail.lines
    ]


def test_a_changed_contract_prices_the_next_claim(platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld) -> None:
    first = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    # allowed = fee 100.00; CO-45 50.00; copay 25.00; paid 75.00
    assert lines_of(platform, tenant_id, first) == [
        ("2026-01-10", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)])
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        view = uow.session.scalars(select(m.ProviderView).where(m.ProviderView.npi == NPI_IN)).one()
        assert view.revision == 1
        view.contract = snapshots.contract_to_json(Contract(fee_schedule={("99213", None): Money(12000, "USD")}), "USD")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalars(select(m.ProviderView.revision).where(m.ProviderView.npi == NPI_IN)).one() == 2
    second = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-11")))
    drain(platform)
    # allowed = new fee 120.00; CO-45 30.00; copay 25.00; paid 95.00
    assert lines_of(platform, tenant_id, second) == [
        ("2026-01-11", 12000, 9500, [("CO", "45", 3000), ("PR", "3", 2500)])
    ]


def test_a_changed_schedule_is_read_by_intake_and_adjudication(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        view = uow.session.scalars(select(m.BenefitScheduleView).where(m.BenefitScheduleView.plan_code == PPO)).one()
        view.schedule = view.schedule | {"priorAuthCodes": sorted({*view.schedule["priorAuthCodes"], "99213"})}
    claim_id = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-11")))
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        submitted = [
            r.payload
            for r in uow.session.scalars(select(OutboxRecord).where(OutboxRecord.topic == "claims.claim.submitted"))
        ]
    assert [json.loads(p)["requiresPriorAuth"] for p in submitted] == [False, True]
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.claim_status(uow, claim_id)
    # the demo PPO pends a service that needs an authorisation not on file
    assert status is not None
    assert (status.status, status.pend_reasons) == ("PENDED", ("PRIOR_AUTH_REQUIRED",))


def test_duplicates_are_found_in_overlapping_claims_only(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    first = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10")))
    drain(platform)
    # a claim spanning 01-09..01-10 repeats the 01-10 visit exactly: that line is denied CO-18
    spanning = submit(
        platform,
        tenant_id,
        claim_body(world.solo, line("99213", "150.00", "2026-01-09"), line("99213", "150.00", "2026-01-10")),
    )
    # the same visit on another day is no duplicate
    other_day = submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-12")))
    drain(platform)
    assert lines_of(platform, tenant_id, first) == [
        ("2026-01-10", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)])
    ]
    assert lines_of(platform, tenant_id, spanning) == [
        ("2026-01-09", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)]),
        ("2026-01-10", 0, 0, [("CO", "18", 15000)]),
    ]
    assert lines_of(platform, tenant_id, other_day) == [
        ("2026-01-12", 10000, 7500, [("CO", "45", 5000), ("PR", "3", 2500)])
    ]


def test_a_provider_registered_but_not_yet_credentialed_is_out_of_network(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    npi = "1003000126"
    with platform.db.unit_of_work(tenant_id) as uow:
        registered = provider_service.register_provider(uow, provider_factories.individual(npi=npi)).id
        view = handlers.sync_provider(uow, registered, date(2026, 1, 1))
        assert view is not None and view.credentialing_status == "NOT_CREDENTIALED"
    claim_id = submit(
        platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10"), billingNpi=npi)
    )
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        status = public.claim_status(uow, claim_id)
        record = ClaimsRepository(uow).current_result(claim_id)
    # Adjudicated (not dead-lettered) as out of network: the demo PPO's out-of-network allowable for
    # 99213 is 130.26, all of it to the 2,000.00 out-of-network deductible (PR-1); the 19.74 above it
    # is balance billing (PR-45); the plan pays nothing.
    assert status is not None and status.status == "APPROVED"
    assert record is not None and [ln["benefitLevel"] for ln in record.result["lines"]] == ["OUT_OF_NETWORK"]
    assert lines_of(platform, tenant_id, claim_id) == [
        ("2026-01-10", 13026, 0, [("PR", "45", 1974), ("PR", "1", 13026)])
    ]
