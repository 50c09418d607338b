"""HTTP routes of the policy_admin domain: register people and organisations, open accounts.

Access: registering a party is ``party.create`` (enrollment specialists; employer administrators
for the people they then enrol); reading one is ``party.read`` of that party; accounts are
``customer_account`` (enrollment specialists). The resolvers are in ``access.py``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from olly.kernel.errors import NotFound
from olly.platform.auth import Access, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.db import UnitOfWork
from olly.platform.http import platform_of
from olly.policy_admin import service
from olly.policy_admin.access import AccountFacts, PartyFacts
from olly.policy_admin.personal_data import PolicyAdminPersonalData
from olly.policy_admin.repository import PolicyAdminRepository
from olly.policy_admin.schemas import IndividualCreate, OrganisationCreate, PartyRead

router = APIRouter(prefix="/api/v1", tags=["people and accounts"])


def install(control: AccessControl) -> None:
    """Parties (replacing the platform's default, which knows no groups), accounts and rosters; a
    person's party record for deletion requests."""
    control.resolvers.register("party", PartyFacts(), replace=True)
    control.resolvers.register("customer_account", AccountFacts())
    control.resolvers.register("roster", AccountFacts(groups_only=True))
    control.personal_data.register(PolicyAdminPersonalData())


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
def register_individual(
    body: IndividualCreate, request: Request, access: Access = Depends(policy("party.create"))
) -> PartyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        party = service.register_individual(uow, body)
        if not access.scope.everything and access.scope.group_account_ids:
            # An employer's administrator registers a person to enrol them in its group: it may
            # enrol them, and only those it registered or its group already covers.
            service.register_for_groups(uow, party.id, access.scope.group_account_ids)
        _audit_created(request, uow, access, party.id)
        return PartyRead(id=party.id, kind=party.kind, display_name=party.display_name)


@router.post("/parties/organisations", status_code=201, response_model=PartyRead, summary="Register an organisation")
def register_organisation(
    body: OrganisationCreate, request: Request, access: Access = Depends(policy("party.create"))
) -> PartyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        party = service.register_organisation(uow, body)
        _audit_created(request, uow, access, party.id)
        return PartyRead(id=party.id, kind=party.kind, display_name=party.display_name)


@router.get("/parties/{party_id}", response_model=PartyRead, summary="A person or organisation")
def read_party(
    party_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("party.read", resource=path("party_id"))),
) -> PartyRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        party = PolicyAdminRepository(uow).party(party_id)
        if party is None:
            raise NotFound("party not found")
        return PartyRead(id=party.id, kind=party.kind, display_name=party.display_name)


@router.post("/accounts", status_code=201, response_model=AccountRead, summary="Open a group or household account")
def open_account(
    body: AccountCreate, request: Request, access: Access = Depends(policy("customer_account.write"))
) -> AccountRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        account = service.open_account(
            uow,
            kind=body.kind,
            name=body.name,
            currency=body.currency,
            billing_level=body.billing_level,
            party_id=body.party_id,
        )
        _audit_created(request, uow, access, account.id)
        return AccountRead.model_validate(account, from_attributes=True)


@router.post("/accounts/{account_id}/roles", status_code=201, summary="Give a party a role on an account")
def assign_role(
    account_id: uuid.UUID,
    body: RoleCreate,
    request: Request,
    access: Access = Depends(policy("customer_account.write", resource=path("account_id"))),
) -> dict[str, str]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        role = service.assign_role(
            uow, party_id=body.party_id, account_id=account_id, role=body.role, effective_from=body.effective_from
        )
        return {"id": str(role.id), "role": role.role}


def _audit_created(request: Request, uow: UnitOfWork, access: Access, created: uuid.UUID) -> None:
    """Name the new record in the audit trail, in the transaction that creates it."""
    platform_of(request).audit.append(uow.session.connection(), [access.audit_record(resource_id=str(created))])
