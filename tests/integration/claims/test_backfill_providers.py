"""`olly claims backfill-providers`: claims' provider read model rebuilt from the provider registry
for providers whose network and credentialing events claims never consumed; the copy carries the
contract's dates, so the engine prices the provider in network within them; idempotent."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from olly.claims import backfill, snapshots
from olly.claims import models as m
from olly.cli import app
from olly.kernel.money import Money
from olly.platform.bus.models import OutboxRecord
from olly.platform.db import UnitOfWork
from olly.platform.runtime import Platform, build_platform
from olly.provider import rules as r
from olly.provider import service as provider_service
from olly.provider.events import CredentialingStatusChanged
from tests.integration.claims.support import ClaimsWorld, claim_body, drain, line, seed
from tests.integration.claims.test_backfill import env, runner  # noqa: F401  (fixture)
from tests.integration.claims.test_read_model_revisions import lines_of, submit
from tests.integration.provider import factories as provider_factories

NPI = "1003000126"
RATES = "code,modifier,amount\n99213,,92.47\n"


def contracted(uow: UnitOfWork, npi: str, start: date, last_day: date | None) -> tuple[uuid.UUID, uuid.UUID]:
    """A credentialed clinic with a PPO contract on its own fee schedule from ``start`` (ending after
    ``last_day`` when given). Returns (provider id, contract id)."""
    provider_service.load_fee_schedule(
        uow,
        provider_service.FeeScheduleHeader(code="CLINIC-2026", name="Clinic rates", kind=r.FeeScheduleKind.AMOUNT),
        provider_service.read_rate_csv(RATES),
    )
    provider_id = provider_service.register_provider(uow, provider_factories.individual(npi=npi)).id
    provider_factories.credential(uow, provider_id)
    draft = provider_service.ContractDraft(provider_id, "K-CLINIC", "PPO", "TIER_1", start, None, "CLINIC-2026")
    contract_id = provider_service.create_contract(uow, draft).id
    if last_day is not None:
        provider_service.terminate_contract(uow, contract_id, last_day)
    return provider_id, contract_id


def forget_provider_events(uow: UnitOfWork) -> None:
    """As if claims had been installed after the provider was contracted: its events (written to the
    outbox when their unit of work committed) never reach claims."""
    gone = uow.session.execute(delete(OutboxRecord).where(OutboxRecord.topic.like("provider.%")))
    assert gone.rowcount > 0


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


def test_a_contracted_provider_claims_never_heard_of_is_copied_with_its_contract(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        provider_id, contract_id = contracted(uow, NPI, date(2026, 1, 1), date(2026, 12, 31))
    with platform.db.unit_of_work(tenant_id) as uow:
        forget_provider_events(uow)
    with platform.db.unit_of_work(tenant_id) as uow:
        report = backfill.backfill_providers(
            uow, backfill.providers(uow), date(2026, 1, 10), backfill.ProviderBackfillReport()
        )
    # seed()'s two NPIs are claims' own rows, not registered providers: only the clinic is copied
    assert (report.providers, report.in_network, report.added) == (1, 1, 1)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = uow.session.scalars(select(m.ProviderView).where(m.ProviderView.npi == NPI)).one()
        copied = (
            row.provider_id, row.credentialing_status, row.network_status, row.tier, row.contract_id,
            row.contract_from, row.contract_to,
        )  # fmt: skip
        assert copied == (
            provider_id,
            "APPROVED",
            "IN_NETWORK",
            "TIER_1",
            contract_id,
            date(2026, 1, 1),
            date(2026, 12, 31),
        )
        assert row.contract is not None
        rates = snapshots.contract_from_json(row.contract).fee_schedule
        assert rates == {("99213", None): Money(9247, "USD")}

    claim_id = submit(
        platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10"), billingNpi=NPI)
    )
    drain(platform)
    # allowed = the clinic's rate 92.47; CO-45 = 150.00 - 92.47 = 57.53; the PPO's office-visit copay
    # PR-3 25.00; paid = 92.47 - 25.00 = 67.47
    assert lines_of(platform, tenant_id, claim_id) == [
        ("2026-01-10", 9247, 6747, [("CO", "45", 5753), ("PR", "3", 2500)])
    ]

    # Again: nothing new, the same row.
    with platform.db.unit_of_work(tenant_id) as uow:
        again = backfill.backfill_providers(
            uow, backfill.providers(uow), date(2026, 1, 10), backfill.ProviderBackfillReport()
        )
    assert (again.providers, again.in_network, again.added) == (1, 1, 0)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalar(select(m.ProviderView.contract_to).where(m.ProviderView.npi == NPI)) == date(
            2026, 12, 31
        )


def test_a_credentialing_event_first_copies_the_contract_dates_too(
    platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """Claims first hears of a contracted provider through a re-credentialing event: the copy it makes
    is in network within the contract's dates (it used to leave them empty, which the engine read as
    out of network on every date)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        provider_id, _ = contracted(uow, NPI, date(2026, 1, 1), None)
    with platform.db.unit_of_work(tenant_id) as uow:
        forget_provider_events(uow)
    with platform.db.unit_of_work(tenant_id) as uow:  # what a re-credentialing decision publishes
        uow.publish(
            CredentialingStatusChanged(
                event_type="CREDENTIALING_APPROVED",
                provider_id=provider_id,
                npi=NPI,
                provider_name="Clinic",
                specialty=None,
                credentialing_status="APPROVED",
                network_status="IN_NETWORK",
                effective_date=uow.clock.today(),
                approved_at=uow.clock.now(),
            ),
            key=provider_id,
        )
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = uow.session.scalars(select(m.ProviderView).where(m.ProviderView.npi == NPI)).one()
        assert (row.network_status, row.contract_from, row.contract_to) == ("IN_NETWORK", date(2026, 1, 1), None)
    claim_id = submit(
        platform, tenant_id, claim_body(world.solo, line("99213", "150.00", "2026-01-10"), billingNpi=NPI)
    )
    drain(platform)
    assert lines_of(platform, tenant_id, claim_id) == [
        ("2026-01-10", 9247, 6747, [("CO", "45", 5753), ("PR", "3", 2500)])
    ]


def test_the_command_reports_and_is_idempotent(env: Path) -> None:  # noqa: F811
    platform = build_platform()
    try:
        tenant = platform.settings.default_tenant_id
        with platform.db.unit_of_work(tenant) as uow:
            contracted(uow, NPI, date(2020, 1, 1), None)  # the command runs on the real clock
            provider_service.register_provider(uow, provider_factories.individual(npi="1234567893"))
        with platform.db.unit_of_work(tenant) as uow:
            forget_provider_events(uow)
        today = platform.clock.now().date()
    finally:
        platform.close()
    first = runner.invoke(app, ["claims", "backfill-providers", "--batch-size", "1"])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == f"2 provider(s) copied (2 new to claims), 1 in network on {today.isoformat()}"
    second = runner.invoke(app, ["claims", "backfill-providers"])
    assert second.exit_code == 0, second.output
    assert second.stdout.strip() == f"2 provider(s) copied (0 new to claims), 1 in network on {today.isoformat()}"


def test_the_command_with_no_provider_says_so(env: Path) -> None:  # noqa: F811
    result = runner.invoke(app, ["claims", "backfill-providers"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no provider is registered: nothing to copy"
