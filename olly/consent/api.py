"""Consent HTTP API: consents per person, deletion requests. Thin: validate, call the service."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from olly.consent import service
from olly.consent.access import ConsentFacts, ConsentPersonalData, DeletionRequestFacts
from olly.consent.models import ConsentRecord, DeletionRequest
from olly.consent.schemas import (
    AppSharingGrant,
    CommunicationPreferencesUpdate,
    ConfidentialContact,
    ConsentRead,
    DeletionRejection,
    DeletionRequestRead,
    SelfDeletionRequest,
    StaffDeletionRequest,
)
from olly.kernel.errors import NotFound
from olly.platform.auth import SELF, Access, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.runtime import Platform

router = APIRouter(tags=["consent"])

#: A member confirms their password (and code) within this many seconds before filing a deletion request.
FRESH_AUTH_SECONDS = 300


def install(control: AccessControl) -> None:
    control.resolvers.register("consent", ConsentFacts())
    control.resolvers.register("deletion_request", DeletionRequestFacts())
    control.personal_data.register(ConsentPersonalData())


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def _read(record: ConsentRecord) -> ConsentRead:
    return ConsentRead(
        id=record.id,
        party_id=record.party_id,
        kind=record.kind,
        status=record.status,
        preferences=record.preferences,
        app_client_id=record.app_client_id,
        app_name=record.app_name,
        scopes=record.scopes,
        confidential_contact=record.confidential_contact,
        effective_at=record.effective_at,
        expires_at=record.expires_at,
        recorded_at=record.recorded_at,
        revoked_at=record.revoked_at,
    )


def _request_read(request: DeletionRequest) -> DeletionRequestRead:
    return DeletionRequestRead(
        id=request.id,
        party_id=request.party_id,
        status=request.status,
        requested_via=request.requested_via,
        verification_method=request.verification_method,
        received_at=request.received_at,
        verified_at=request.verified_at,
        processed_at=request.processed_at,
        rejection_reason=request.rejection_reason,
        report=request.report,
    )


def _view(access: Access, party_id: uuid.UUID) -> service.ConsentView:
    scope = access.scope
    guardian_only = party_id in scope.dependent_party_ids and party_id not in scope.party_ids
    return service.ConsentView(include_confidential=scope.everything or not guardian_only)


def _own_party(access: Access) -> uuid.UUID:
    if access.principal.party_id is None:
        raise NotFound("this account is not linked to a member")
    return access.principal.party_id


# -- consents ---------------------------------------------------------------------------------------
@router.get("/me/consents", response_model=list[ConsentRead], summary="My active consents")
def my_consents(request: Request, access: Access = Depends(policy("consent.read", resource=SELF))) -> list[ConsentRead]:
    party_id = _own_party(access)
    with _platform(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return [_read(c) for c in service.consents(uow, party_id, service.ConsentView(include_confidential=True))]


@router.get("/members/{party_id}/consents", response_model=list[ConsentRead], summary="A person's active consents")
def member_consents(
    party_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("consent.read", resource=path("party_id", kind="party"))),
) -> list[ConsentRead]:
    with _platform(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return [_read(c) for c in service.consents(uow, party_id, _view(access, party_id))]


@router.put(
    "/members/{party_id}/consents/communication",
    response_model=ConsentRead,
    summary="Set how and about what the plan may contact the person",
)
def set_communication(
    party_id: uuid.UUID,
    body: CommunicationPreferencesUpdate,
    request: Request,
    access: Access = Depends(policy("consent.write", resource=path("party_id", kind="party"))),
) -> ConsentRead:
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        record = service.set_communication_preferences(
            uow, party_id, body.channels, body.topics, access.principal.subject
        )
        return _read(record)


@router.post(
    "/members/{party_id}/consents/app-sharing",
    status_code=201,
    response_model=ConsentRead,
    summary="Allow a third-party app to receive the person's data (Patient Access API)",
)
def grant_app_sharing(
    party_id: uuid.UUID,
    body: AppSharingGrant,
    request: Request,
    access: Access = Depends(policy("consent.write", resource=path("party_id", kind="party"))),
) -> ConsentRead:
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        record = service.grant_app_sharing(
            uow, party_id, body.app_client_id, body.app_name, body.scopes, body.expires_at, access.principal.subject
        )
        return _read(record)


@router.put(
    "/members/{party_id}/consents/confidential-communication",
    response_model=ConsentRead,
    summary="Send the person's communications to an alternative contact, kept from other family members",
)
def set_confidential(
    party_id: uuid.UUID,
    body: ConfidentialContact,
    request: Request,
    access: Access = Depends(policy("consent.write", resource=path("party_id", kind="party"))),
) -> ConsentRead:
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        record = service.request_confidential_communication(
            uow, party_id, body.model_dump(exclude_none=True), access.principal.subject
        )
        return _read(record)


@router.get("/consents/{consent_id}", response_model=ConsentRead, summary="One consent record")
def get_consent(
    consent_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("consent.read", resource=path("consent_id"))),
) -> ConsentRead:
    with _platform(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _read(service.get_consent(uow, consent_id))


@router.post("/consents/{consent_id}/revoke", response_model=ConsentRead, summary="Withdraw a consent")
def revoke_consent(
    consent_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("consent.write", resource=path("consent_id"))),
) -> ConsentRead:
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        return _read(service.revoke(uow, consent_id, access.principal.subject))


# -- deletion requests ----------------------------------------------------------------------------------
@router.post(
    "/me/deletion-requests",
    status_code=201,
    response_model=DeletionRequestRead,
    summary="Ask for my data to be deleted (confirm your password first: POST /auth/reauthenticate)",
)
def request_my_deletion(
    body: SelfDeletionRequest,
    request: Request,
    access: Access = Depends(policy("deletion_request.write", resource=SELF, fresh_auth_seconds=FRESH_AUTH_SECONDS)),
) -> DeletionRequestRead:
    party_id = _own_party(access)
    method = "reauthenticated_with_mfa" if access.principal.mfa_enabled else "reauthenticated_password"
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        created = service.file_deletion_request(
            uow, party_id, access.principal.subject, via="self_service", verification_method=method
        )
        return _request_read(created)


@router.get("/me/deletion-requests", response_model=list[DeletionRequestRead], summary="My deletion requests")
def my_deletion_requests(
    request: Request, access: Access = Depends(policy("deletion_request.read", resource=SELF))
) -> list[DeletionRequestRead]:
    party_id = _own_party(access)
    with _platform(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        found = service.deletion_requests(uow, frozenset({party_id}))
        return [_request_read(r) for r in found]


@router.post(
    "/deletion-requests",
    status_code=201,
    response_model=DeletionRequestRead,
    summary="File a deletion request on a person's behalf after verifying their identity",
)
def file_deletion_request(
    body: StaffDeletionRequest, request: Request, access: Access = Depends(policy("deletion_request.write"))
) -> DeletionRequestRead:
    # A member's own grant is for ``/me/deletion-requests`` (after re-authenticating); here anyone
    # could be named, with documents the caller claims to have checked.
    if not access.scope.everything:
        raise access.refused(request, "staff_only", resource_id=str(body.party_id))
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        created = service.file_deletion_request(
            uow,
            body.party_id,
            access.principal.subject,
            via="staff",
            verification_method=body.verification_method,
            verification_reference=body.verification_reference,
        )
        return _request_read(created)


@router.get("/deletion-requests", response_model=list[DeletionRequestRead], summary="Deletion requests")
def list_deletion_requests(
    request: Request,
    status: Annotated[Literal["verified", "completed", "rejected"] | None, Query()] = None,
    access: Access = Depends(policy("deletion_request.read")),
) -> list[DeletionRequestRead]:
    scope = access.scope
    parties = None if scope.everything else scope.party_ids
    with _platform(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        found = service.deletion_requests(uow, parties, status)
        return [_request_read(r) for r in found]


@router.get(
    "/deletion-requests/{request_id}", response_model=DeletionRequestRead, summary="A deletion request and its report"
)
def get_deletion_request(
    request_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("deletion_request.read", resource=path("request_id"))),
) -> DeletionRequestRead:
    with _platform(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _request_read(service.get_deletion_request(uow, request_id))


@router.post(
    "/deletion-requests/{request_id}/process",
    response_model=DeletionRequestRead,
    summary="Carry out a deletion request in every domain and store the report",
)
def process_deletion_request(
    request_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("deletion_request.process", resource=path("request_id"))),
) -> DeletionRequestRead:
    control: AccessControl = request.app.state.access
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        done = service.process_deletion_request(uow, request_id, control.personal_data, access.principal.subject)
        return _request_read(done)


@router.post(
    "/deletion-requests/{request_id}/reject", response_model=DeletionRequestRead, summary="Refuse a deletion request"
)
def reject_deletion_request(
    request_id: uuid.UUID,
    body: DeletionRejection,
    request: Request,
    access: Access = Depends(policy("deletion_request.process", resource=path("request_id"))),
) -> DeletionRequestRead:
    with _platform(request).db.unit_of_work(access.principal.tenant_id) as uow:
        return _request_read(service.reject_deletion_request(uow, request_id, body.reason, access.principal.subject))
