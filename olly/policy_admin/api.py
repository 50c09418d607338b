"""HTTP routes of the policy_admin domain: register people and organisations, open accounts."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from olly.kernel.errors import NotFound
from olly.platform.http import platform_of, tenant_of
from olly.policy_admin import service
from olly.policy_admin.repository import PolicyAdminRepository
from olly.policy_admin.schemas import IndividualCreate, OrganisationCreate, PartyRead

router = APIRouter(prefix="/api/v1", tags=["people and accounts"])


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["GROUP", "HOUSEHOLD"]
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3)
    billing_level: Literal["ACCOUNT", "MEMBER"] | None = None
    party_id: uuid.UUID | None = None


class AccountRead(BaseModel):
    id: uuid.UUID
    kind: str
    account_number: str
    name: str
    billing_level: str
    currency: str


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID
    role: str
    effective_from: date


@router.post("/parties/individuals", status_code=201, response_model=PartyRead, summary="Register a person")
def register_individual(body: IndividualCreate, request: Request) -> PartyRead:
    with platform_of(request).db.unit_of_work(tenant_of(request)) as uow:
        party = service.register_individual(uow, body)
        return PartyRead(id=party.id, kind=party.kind, display_name=party.display_name)


@router.post("/parties/organisations", status_code=201, response_model=PartyRead, summary="Register an organisation")
def register_organisation(body: OrganisationCreate, request: Request) -> PartyRead:
    with platform_of(request).db.unit_of_work(tenant_of(request)) as uow:
        party = service.register_organisation(uow, body)
        return PartyRead(id=party.id, kind=party.kind, display_name=party.display_name)


@router.get("/parties/{party_id}", response_model=PartyRead, summary="A person or organisation")
def read_party(party_id: uuid.UUID, request: Request) -> PartyRead:
    with platform_of(request).db.unit_of_work(tenant_of(request), read_only=True) as uow:
        party = PolicyAdminRepository(uow).party(party_id)
        if party is None:
            raise NotFound("party not found")
        return PartyRead(id=party.id, kind=party.kind, display_name=party.display_name)


@router.post("/accounts", status_code=201, response_model=AccountRead, summary="Open a group or household account")
def open_account(body: AccountCreate, request: Request) -> AccountRead:
    with platform_of(request).db.unit_of_work(tenant_of(request)) as uow:
        account = service.open_account(
            uow,
            kind=body.kind,
            name=body.name,
            currency=body.currency,
            billing_level=body.billing_level,
            party_id=body.party_id,
        )
        return AccountRead.model_validate(account, from_attributes=True)


@router.post("/accounts/{account_id}/roles", status_code=201, summary="Give a party a role on an account")
def assign_role(account_id: uuid.UUID, body: RoleCreate, request: Request) -> dict[str, str]:
    with platform_of(request).db.unit_of_work(tenant_of(request)) as uow:
        role = service.assign_role(
            uow, party_id=body.party_id, account_id=account_id, role=body.role, effective_from=body.effective_from
        )
        return {"id": str(role.id), "role": role.role}
