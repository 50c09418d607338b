"""Read functions other domains may call synchronously; results are frozen."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from olly.platform.db import UnitOfWork
from olly.policy_admin import service as _service
from olly.policy_admin.repository import PolicyAdminRepository
from olly.policy_admin.schemas import Address, AdministrativeGender, IndividualUpdate


@dataclass(frozen=True, slots=True)
class PersonSummary:
    party_id: uuid.UUID
    display_name: str
    birth_date: date | None


def person(uow: UnitOfWork, party_id: uuid.UUID) -> PersonSummary | None:
    party = PolicyAdminRepository(uow).party(party_id)
    if party is None or party.kind != "INDIVIDUAL":
        return None
    return PersonSummary(party.id, party.display_name, party.birth_date)


def registered_for_groups(
    uow: UnitOfWork, party_ids: Collection[uuid.UUID], group_account_ids: Collection[uuid.UUID]
) -> frozenset[uuid.UUID]:
    """Those of ``party_ids`` an administrator of one of these employer groups registered."""
    return _service.registered_for(uow, party_ids, group_account_ids)


def find_by_ssn(uow: UnitOfWork, ssn: str) -> uuid.UUID | None:
    """The party registered with this SSN, if any (exact match through the blind index)."""
    found = PolicyAdminRepository(uow).parties_by_ssn(ssn)
    return found[0].id if found else None


def find_people(uow: UnitOfWork, *, family_name: str, birth_date: date) -> list[PersonSummary]:
    """Exact match on family name (case-insensitive) and date of birth, through blind indexes."""
    parties = PolicyAdminRepository(uow).parties_by_family_name_and_birth_date(family_name, birth_date)
    return [PersonSummary(p.id, p.display_name, p.birth_date) for p in parties]


def update_individual(
    uow: UnitOfWork,
    party_id: uuid.UUID,
    *,
    given_name: str | None = None,
    family_name: str | None = None,
    birth_date: date | None = None,
    address: Address | None = None,
    gender: AdministrativeGender | None = None,
) -> tuple[str, ...]:
    """Change a person's identifying data (only what is given); the names of the fields that changed.
    Raises ``NotFound`` for an unknown person and ``ValidationFailed`` for bad values."""
    return _service.update_individual(
        uow,
        party_id,
        IndividualUpdate(
            given_name=given_name, family_name=family_name, birth_date=birth_date, gender=gender, address=address
        ),
    )


@dataclass(frozen=True, slots=True)
class IndividualRecord:
    """A person's identifying data, for writing files a partner needs (e.g. an 834). PHI: never log."""

    party_id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date | None
    ssn: str | None
    address: dict[str, str] | None
    gender: str | None = None
    """M, F or U; None when never given."""


def individual(uow: UnitOfWork, party_id: uuid.UUID) -> IndividualRecord | None:
    party = PolicyAdminRepository(uow).party(party_id)
    if party is None or party.kind != "INDIVIDUAL":
        return None
    return IndividualRecord(
        party.id,
        party.given_name or "",
        party.family_name or "",
        party.birth_date,
        party.ssn,
        {k: str(v) for k, v in party.address.items() if v is not None} if party.address else None,
        party.gender,
    )


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account_id: uuid.UUID
    account_number: str
    name: str
    kind: str = ""
    """``GROUP`` or ``HOUSEHOLD``."""
    currency: str = ""


def account(uow: UnitOfWork, account_id: uuid.UUID) -> AccountSummary | None:
    found = PolicyAdminRepository(uow).account(account_id)
    if found is None:
        return None
    return AccountSummary(found.id, found.account_number, found.name, found.kind, found.currency)


def open_household(uow: UnitOfWork, party_id: uuid.UUID, currency: str) -> uuid.UUID:
    """A new household account held by ``party_id`` (billed at member level), e.g. for a COBRA
    beneficiary who pays the continuation premium directly."""
    return _service.open_account(uow, kind="HOUSEHOLD", name="", currency=currency, party_id=party_id).id
