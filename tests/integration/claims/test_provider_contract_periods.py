"""Claims' copy of a provider keeps every contract period, so a contract signed ahead (a renewal, a
new schedule from a later date) does not take the place of the one in effect: each date of service
is priced under the contract covering it, and a day no contract covers is out of network. Through
provider's events and the bus, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from olly.claims import models as m
from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from olly.provider import rules as r
from olly.provider import service as provider_service
from tests.integration.claims.support import claim_body, drain, line, seed
from tests.integration.claims.test_read_model_revisions import lines_of, submit
from tests.integration.provider import factories as provider_factories

NPI = "1003000126"


def schedule(platform: Platform, tenant_id: uuid.UUID, code: str, rate: str) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        provider_service.load_fee_schedule(
            uow,
            provider_service.FeeScheduleHeader(code=code, name=code, kind=r.FeeScheduleKind.AMOUNT),
            provider_service.read_rate_csv(f"code,modifier,amount\n99213,,{rate}\n"),
        )


def contract(
    platform: Platform,
    tenant_id: uuid.UUID,
    provider_id: uuid.UUID,
    number: str,
    start: date,
    end: date | None,
    fees: str,
) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        draft = provider_service.ContractDraft(provider_id, number, "PPO", "TIER_1", start, end, fees)
        contract_id = provider_service.create_contract(uow, draft).id
    drain(platform)  # claims consumes provider.network.updated
    return contract_id


def test_each_date_of_service_is_priced_under_the_contract_covering_it(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    world = seed(platform, tenant_id)
    schedule(platform, tenant_id, "CLINIC-JAN", "92.47")
    schedule(platform, tenant_id, "CLINIC-NEW", "98.00")
    with platform.db.unit_of_work(tenant_id) as uow:
        provider_id = provider_service.register_provider(uow, provider_factories.individual(npi=NPI)).id
        provider_factories.credential(uow, provider_id)
    january = contract(platform, tenant_id, provider_id, "K-JAN", date(2026, 1, 1), date(2026, 1, 31), "CLINIC-JAN")
    # Signed on 15 January, from 15 February: the last event claims hears is this one's.
    renewal = contract(platform, tenant_id, provider_id, "K-NEW", date(2026, 2, 15), None, "CLINIC-NEW")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = uow.session.scalars(select(m.ProviderView).where(m.ProviderView.npi == NPI)).one()
        assert [(p["from"], p["to"], p["contractId"], p["tier"]) for p in row.periods or []] == [
            ("2026-01-01", "2026-01-31", str(january), "TIER_1"),
            ("2026-02-15", None, str(renewal), "TIER_1"),
        ]

    clock.set(datetime(2026, 2, 25, 9, 0, tzinfo=UTC))
    claims = [
        submit(platform, tenant_id, claim_body(world.solo, line("99213", "150.00", day), billingNpi=NPI))
        for day in ("2026-01-10", "2026-02-10", "2026-02-20")
    ]
    drain(platform)
    assert [lines_of(platform, tenant_id, claim_id) for claim_id in claims] == [
        # January's contract: allowed 92.47, CO-45 57.53, the office-visit copay PR-3 25.00, paid 67.47
        [("2026-01-10", 9247, 6747, [("CO", "45", 5753), ("PR", "3", 2500)])],
        # no contract on 10 February: out of network, the PPO's out-of-network allowable for 99213
        # (130.26) all to the out-of-network deductible, the 19.74 above it balance billed
        [("2026-02-10", 13026, 0, [("PR", "45", 1974), ("PR", "1", 13026)])],
        # the renewal's: allowed 98.00, CO-45 52.00, PR-3 25.00, paid 73.00
        [("2026-02-20", 9800, 7300, [("CO", "45", 5200), ("PR", "3", 2500)])],
    ]
