"""A unit of work sees and writes only its own tenant's rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, update

from olly.kernel.errors import TenantViolation
from olly.platform.runtime import Platform
from olly.platform.tenancy import Tenant
from olly.policy_admin import service
from olly.policy_admin.models import Account, Party
from olly.policy_admin.repository import PolicyAdminRepository
from olly.policy_admin.schemas import IndividualCreate

OTHER_TENANT = uuid.UUID("00000000-0000-7000-8000-000000000002")


@pytest.fixture
def other_tenant(platform: Platform) -> uuid.UUID:
    with platform.db.unit_of_work(None, all_tenants=True) as uow:
        uow.session.add(Tenant(id=OTHER_TENANT, slug="other", name="Other", created_at=datetime.now(UTC)))
    return OTHER_TENANT


def new_person(ssn: str) -> IndividualCreate:
    return IndividualCreate(given_name="Sam", family_name="Lee", birth_date=date(1990, 1, 1), ssn=ssn)


def test_a_repository_cannot_return_another_tenants_row(
    platform: Platform, tenant_id: uuid.UUID, other_tenant: uuid.UUID
) -> None:
    with platform.db.unit_of_work(other_tenant) as uow:
        theirs = service.register_individual(uow, new_person("078-05-1120")).id
        their_account = service.open_account(uow, kind="GROUP", name="Acme", currency="USD", account_number="G-1").id
    with platform.db.unit_of_work(tenant_id) as uow:
        mine = service.register_individual(uow, new_person("078-05-1120")).id  # same SSN, other tenant: allowed
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = PolicyAdminRepository(uow)
        assert repo.party(theirs) is None  # by primary key
        assert repo.account(their_account) is None
        assert repo.account_by_number("G-1") is None
        assert [p.id for p in repo.parties_by_ssn("078051120")] == [mine]  # by index
        assert uow.session.scalar(select(func.count()).select_from(Party)) == 1  # by any ORM query
    with platform.db.unit_of_work(tenant_id) as uow:
        # an ORM UPDATE without a WHERE cannot reach across either
        uow.session.execute(update(Party).values(national_id_scheme="X"))
    with platform.db.unit_of_work(other_tenant, read_only=True) as uow:
        party = PolicyAdminRepository(uow).party(theirs)
        assert party is not None and party.national_id_scheme == "SSN" and party.ssn == "078051120"


def test_writing_a_row_of_another_tenant_is_refused(
    platform: Platform, tenant_id: uuid.UUID, other_tenant: uuid.UUID
) -> None:
    with pytest.raises(TenantViolation), platform.db.unit_of_work(tenant_id) as uow:
        uow.session.add(
            Account(
                tenant_id=other_tenant,
                id=uuid.uuid4(),
                kind="GROUP",
                account_number="X",
                name="X",
                billing_level="ACCOUNT",
                currency="USD",
                created_at=datetime.now(UTC),
            )
        )
    with platform.db.unit_of_work(other_tenant, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)) == 0


def test_a_unit_of_work_needs_a_tenant(platform: Platform) -> None:
    with pytest.raises(TenantViolation):
        platform.db.unit_of_work(None)


def test_services_cannot_commit_and_a_failure_writes_nothing(platform: Platform, tenant_id: uuid.UUID) -> None:
    with pytest.raises(RuntimeError, match="services never commit"), platform.db.unit_of_work(tenant_id) as uow:
        service.register_individual(uow, new_person("078-05-1120"))
        uow.session.commit()
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Party)) == 0
