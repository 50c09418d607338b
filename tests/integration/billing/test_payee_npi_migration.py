"""Migration 0025_payee_npi fills the billing NPI of claims payable, payments and recoveries written
before it, from the claims they concern, on SQLite and PostgreSQL; rows recorded without it learn it
at the next payment run."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import select, update

from olly.billing import service
from olly.billing.models import ClaimPayable, ClaimPayment, ClaimRecovery
from olly.claims import public
from olly.claims.schemas import ClaimCreate
from olly.platform import migrate
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, claim_body, drain, line, seed


def _claim(platform: Platform, tenant_id: uuid.UUID, body: dict) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        claim_id = public.submit_claim(uow, ClaimCreate.model_validate(body), source="API").claim_id
    drain(platform)
    return claim_id


def _npis(platform: Platform, tenant_id: uuid.UUID) -> dict[str, list[str | None]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return {
            model.__tablename__: sorted(uow.session.scalars(select(model.payee_npi)), key=str)
            for model in (ClaimPayable, ClaimPayment, ClaimRecovery)
        }


def test_the_migration_fills_the_npi_of_rows_written_before_it(platform: Platform, tenant_id: uuid.UUID) -> None:
    world = seed(platform, tenant_id)
    paid = _claim(platform, tenant_id, claim_body(world.ana, line("99213", "150.00")))  # paid 75.00
    with platform.db.unit_of_work(tenant_id) as uow:
        service.run_claim_payments(uow)
    _claim(
        platform, tenant_id, claim_body(world.ana, line("99213", "150.00"), frequency="8", originalClaimId=str(paid))
    )
    _claim(platform, tenant_id, claim_body(world.ana, line("99213", "120.00", "2026-01-11")))  # owed 75.00
    assert _npis(platform, tenant_id) == {
        "claim_payables": [NPI_IN, NPI_IN],
        "claim_payments": [NPI_IN],
        "claim_recoveries": [NPI_IN],
    }

    platform.db.dispose()
    command.downgrade(migrate.alembic_config(platform.db), "0024_party_gender")
    migrate.upgrade(platform.db)
    assert migrate.current_revision(platform.db) == migrate.head_revision()
    assert _npis(platform, tenant_id) == {
        "claim_payables": [NPI_IN, NPI_IN],
        "claim_payments": [NPI_IN],
        "claim_recoveries": [NPI_IN],
    }

    # A payable recorded without its NPI (its claim unknown to claims then) learns it when paid.
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.session.execute(update(ClaimPayable).where(ClaimPayable.status == "UNPAID").values(payee_npi=None))
    with platform.db.unit_of_work(tenant_id) as uow:
        run = service.run_claim_payments(uow)
        (payment,) = uow.session.scalars(select(ClaimPayment).where(ClaimPayment.run_id == run.id))
        # 75.00 owed, all of it netted against the 75.00 the void takes back
        assert (payment.payee_npi, payment.amount_minor, run.claim_count) == (NPI_IN, 0, 1)
    assert _npis(platform, tenant_id)["claim_payables"] == [NPI_IN, NPI_IN]
