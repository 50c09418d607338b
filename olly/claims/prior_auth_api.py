"""Prior-authorisation HTTP API: requests, the decision queue, decisions. Thin: validate, call the service."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request

from olly.claims import prior_auth as service
from olly.claims.authorization_access import AuthorizationPersonalData, PriorAuthFacts
from olly.claims.authorization_schemas import (
    PriorAuthCreate,
    PriorAuthDecisionIn,
    PriorAuthRead,
    PriorAuthServiceRead,
)
from olly.enrollment import public as enrollment
from olly.kernel.errors import FieldError, ValidationFailed
from olly.platform.auth import Access, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.auth.rules import AccessScope
from olly.platform.http import platform_of

router = APIRouter(prefix="/api/v1", tags=["prior authorisation"])


def install(control: AccessControl) -> None:
    control.resolvers.register("prior_auth", PriorAuthFacts())
    control.personal_data.register(AuthorizationPersonalData())


def _read(view: service.PriorAuthView) -> PriorAuthRead:
    request = view.request
    return PriorAuthRead(
        id=request.id,
        member_id=request.member_id,
        requesting_provider_id=request.requesting_provider_id,
        requesting_npi=request.requesting_npi,
        plan_id=request.plan_id,
        expedited=request.expedited,
        status=request.status,
        service_from=request.service_from,
        service_to=request.service_to,
        services=[
            PriorAuthServiceRead(
                line_number=s.line_number,
                procedure_code=s.procedure_code,
                units_requested=s.units_requested,
                units_approved=s.units_approved,
                units_used=s.units_used,
            )
            for s in view.services
        ],
        diagnosis_codes=list(request.diagnosis_codes or []),
        clinical_notes=request.clinical_notes,
        received_at=request.received_at,
        decision_due_at=request.decision_due_at,
        overdue=view.overdue,
        escalated_at=request.escalated_at,
        decided_at=request.decided_at,
        decided_late=view.decided_late,
        valid_from=request.valid_from,
        valid_to=request.valid_to,
        denial_reason_code=request.denial_reason_code,
        decision_note=request.decision_note,
    )


def _scope_filter(scope: AccessScope) -> tuple[frozenset[uuid.UUID] | None, frozenset[str] | None]:
    if scope.everything:
        return None, None
    return scope.party_ids | scope.dependent_party_ids, scope.provider_ids


@router.post("/prior-auths", status_code=201, response_model=PriorAuthRead, summary="Request a prior authorisation")
def request_prior_auth(
    body: PriorAuthCreate, request: Request, access: Access = Depends(policy("prior_auth.write"))
) -> PriorAuthRead:
    scope = access.scope
    if not scope.everything and not ({body.requesting_npi, str(body.requesting_provider_id)} & scope.provider_ids):
        # A provider requests for itself only; the refusal is kept in the audit trail.
        raise access.refused(request, "not_related")
    data = service.PriorAuthRequestData(
        member_id=body.member_id,
        requesting_provider_id=body.requesting_provider_id,
        requesting_npi=body.requesting_npi,
        services=tuple(service.RequestedService(s.procedure_code, s.units) for s in body.services),
        service_from=body.service_from,
        service_to=body.service_to,
        expedited=body.expedited,
        plan_id=body.plan_id,
        diagnosis_codes=tuple(body.diagnosis_codes),
        clinical_notes=body.clinical_notes,
    )
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        if not enrollment.is_member(uow, body.member_id):
            raise ValidationFailed([FieldError("body.memberId", "no member with this id", "unknown_member")])
        view = service.submit_request(uow, data)
        platform.audit.append(uow.session.connection(), [access.audit_record(resource_id=str(view.request.id))])
        return _read(view)


@router.get("/prior-auths", response_model=list[PriorAuthRead], summary="The prior-authorisation queue by due time")
def prior_auth_queue(
    request: Request,
    status: service.PriorAuthStatus | None = Query(None),
    overdue: bool | None = Query(None),
    limit: int = Query(200, ge=1, le=500),
    access: Access = Depends(policy("prior_auth.read")),
) -> list[PriorAuthRead]:
    party_ids, provider_ids = _scope_filter(access.scope)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        views = service.queue(
            uow, status=status, overdue=overdue, party_ids=party_ids, provider_ids=provider_ids, limit=limit
        )
        return [_read(v) for v in views]


@router.get("/prior-auths/{prior_auth_id}", response_model=PriorAuthRead, summary="A prior authorisation")
def read_prior_auth(
    prior_auth_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("prior_auth.read", resource=path("prior_auth_id"))),
) -> PriorAuthRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _read(service.get(uow, prior_auth_id))


@router.post(
    "/prior-auths/{prior_auth_id}/decision", response_model=PriorAuthRead, summary="Approve, partly approve or deny"
)
def decide_prior_auth(
    prior_auth_id: uuid.UUID,
    body: PriorAuthDecisionIn,
    request: Request,
    access: Access = Depends(policy("prior_auth.decide", resource=path("prior_auth_id"))),
) -> PriorAuthRead:
    data = service.PriorAuthDecisionData(
        outcome=service.DecisionOutcome(body.outcome),
        decided_by=access.principal.subject,
        approved=tuple(service.ApprovedService(a.procedure_code, a.units) for a in body.approved),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        denial_reason_code=body.denial_reason_code,
        note=body.note,
    )
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        view = service.decide(uow, prior_auth_id, data)
        detail = {"outcome": body.outcome, "reasonCode": body.denial_reason_code, "decidedLate": view.decided_late}
        platform.audit.append(
            uow.session.connection(),
            [access.audit_record(resource_id=str(prior_auth_id), detail=detail)],
        )
        return _read(view)
