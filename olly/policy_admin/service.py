"""Use cases of the policy_admin domain. Services never commit: the unit of work does."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection
from datetime import date

from sqlalchemy import select

from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.kernel.money import exponent
from olly.platform.db import UnitOfWork
from olly.policy_admin.models import Account, Party, PartyGroupRegistration, PartyRole
from olly.policy_admin.repository import PolicyAdminRepository
from olly.policy_admin.schemas import IndividualCreate, IndividualUpdate, OrganisationCreate

ACCOUNT_KINDS = frozenset({"GROUP", "HOUSEHOLD"})
BILLING_LEVELS = frozenset({"ACCOUNT", "MEMBER"})
ROLES = frozenset({"SPONSOR", "ADMINISTRATOR", "SUBSCRIBER", "PAYER", "BROKER"})


def register_individual(uow: UnitOfWork, data: IndividualCreate) -> Party:
    if data.birth_date > uow.clock.today():
        raise ValidationFailed([FieldError("birth_date", "cannot be in the future", "future_date")])
    repo = PolicyAdminRepository(uow)
    if data.ssn is not None and repo.parties_by_ssn(data.ssn):
        # Say which field collides, never whose record it is.
        raise Conflict("a person with this SSN is already registered", extra={"field": "ssn"})
    party = Party(
        id=uuid7(),
        kind="INDIVIDUAL",
        display_name=f"{data.given_name} {data.family_name}",
        given_name=data.given_name,
        family_name=data.family_name,
        birth_date=data.birth_date,
        gender=data.gender,
        ssn=data.ssn,
        national_id_scheme=data.national_id_scheme or ("SSN" if data.ssn else None),
        address=data.address.model_dump() if data.address else None,
        phone=data.phone,
        email=str(data.email) if data.email else None,
        created_at=uow.clock.now(),
    )
    repo.add(party)
    uow.flush()
    return party


def register_for_groups(uow: UnitOfWork, party_id: uuid.UUID, group_account_ids: Collection[uuid.UUID]) -> None:
    """Record that an administrator of these employer groups registered this person (they may enrol them)."""
    now = uow.clock.now()
    for group_account_id in sorted(set(group_account_ids)):
        uow.session.add(PartyGroupRegistration(party_id=party_id, group_account_id=group_account_id, registered_at=now))
    uow.flush()


def registered_for(
    uow: UnitOfWork, party_ids: Collection[uuid.UUID], group_account_ids: Collection[uuid.UUID]
) -> frozenset[uuid.UUID]:
    """Those of ``party_ids`` an administrator of one of these groups registered."""
    if not party_ids or not group_account_ids:
        return frozenset()
    return frozenset(
        uow.session.scalars(
            select(PartyGroupRegistration.party_id).where(
                PartyGroupRegistration.party_id.in_(sorted(set(party_ids))),
                PartyGroupRegistration.group_account_id.in_(sorted(set(group_account_ids))),
            )
        )
    )


def update_individual(uow: UnitOfWork, party_id: uuid.UUID, data: IndividualUpdate) -> tuple[str, ...]:
    """Change a person's name, birth date, gender or address; returns the names of the fields that changed."""
    party = PolicyAdminRepository(uow).party(party_id)
    if party is None or party.kind != "INDIVIDUAL":
        raise NotFound("person not found")
    if data.birth_date is not None and data.birth_date > uow.clock.today():
        raise ValidationFailed([FieldError("birth_date", "cannot be in the future", "future_date")])
    changed: list[str] = []
    if data.given_name is not None and data.given_name != party.given_name:
        party.given_name = data.given_name
        changed.append("given_name")
    if data.family_name is not None and data.family_name != party.family_name:
        party.family_name = data.family_name
        changed.append("family_name")
    if data.birth_date is not None and data.birth_date != party.birth_date:
        party.birth_date = data.birth_date
        changed.append("birth_date")
    if data.gender is not None and data.gender != party.gender:
        party.gender = data.gender
        changed.append("gender")
    if data.address is not None and data.address.model_dump() != party.address:
        party.address = data.address.model_dump()
        changed.append("address")
    if "given_name" in changed or "family_name" in changed:
        party.display_name = f"{party.given_name or ''} {party.family_name or ''}".strip()
    uow.flush()
    return tuple(changed)


def register_organisation(uow: UnitOfWork, data: OrganisationCreate) -> Party:
    party = Party(
        id=uuid7(),
        kind="ORGANISATION",
        display_name=data.name,
        address=data.address.model_dump() if data.address else None,
        phone=data.phone,
        email=str(data.email) if data.email else None,
        created_at=uow.clock.now(),
    )
    PolicyAdminRepository(uow).add(party)
    uow.flush()
    return party


def open_account(
    uow: UnitOfWork,
    *,
    kind: str,
    name: str,
    currency: str,
    billing_level: str | None = None,
    party_id: uuid.UUID | None = None,
    account_number: str | None = None,
) -> Account:
    errors = []
    if kind not in ACCOUNT_KINDS:
        errors.append(FieldError("kind", f"must be one of {sorted(ACCOUNT_KINDS)}"))
    level = billing_level or ("ACCOUNT" if kind == "GROUP" else "MEMBER")
    if level not in BILLING_LEVELS:
        errors.append(FieldError("billing_level", f"must be one of {sorted(BILLING_LEVELS)}"))
    try:
        exponent(currency)
    except ValidationFailed:
        errors.append(FieldError("currency", "not a supported ISO 4217 currency code", "unknown_currency"))
    if errors:
        raise ValidationFailed(errors)
    repo = PolicyAdminRepository(uow)
    if party_id is not None and repo.party(party_id) is None:
        raise NotFound("party not found")
    number = account_number or _new_account_number(kind)
    if repo.account_by_number(number) is not None:
        raise Conflict("an account with this number exists", extra={"field": "account_number"})
    account = Account(
        id=uuid7(),
        kind=kind,
        account_number=number,
        # A household is never named after its people: its name is its number.
        name=name if kind == "GROUP" else number,
        billing_level=level,
        currency=currency,
        party_id=party_id,
        created_at=uow.clock.now(),
    )
    repo.add(account)
    uow.flush()
    return account


def assign_role(
    uow: UnitOfWork, *, party_id: uuid.UUID, account_id: uuid.UUID, role: str, effective_from: date
) -> PartyRole:
    if role not in ROLES:
        raise ValidationFailed([FieldError("role", f"must be one of {sorted(ROLES)}")])
    repo = PolicyAdminRepository(uow)
    if repo.party(party_id) is None or repo.account(account_id) is None:
        raise NotFound("party or account not found")
    if any(r.account_id == account_id and r.role == role and r.effective_to is None for r in repo.roles_of(party_id)):
        raise BusinessRuleViolation("the party already holds this role on the account")
    party_role = PartyRole(
        id=uuid7(), party_id=party_id, account_id=account_id, role=role, effective_from=effective_from
    )
    repo.add(party_role)
    uow.flush()
    return party_role


def _new_account_number(kind: str) -> str:
    prefix = "GRP" if kind == "GROUP" else "HH"
    return f"{prefix}-{secrets.randbelow(10**8):08d}"
