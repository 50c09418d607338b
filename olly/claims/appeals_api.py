"""Appeals HTTP API: file against an adjudicated claim, the queue, decisions. Thin: validate, call the service."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request

from olly.claims import appeals as service
from olly.claims.authorization_access import AppealFacts
from olly.claims.authorization_models import Appeal
from olly.claims.authorization_schemas import AppealCreate, AppealDecisionIn, AppealRead
from olly.platform.auth import Access, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.http import platform_of

router = APIRouter(prefix="/api/v1", tags=["appeals"])


def install(control: AccessControl) -> None:
    control.resolvers.register("appeal", AppealFacts())


def _read(appeal: Appeal, access: Access) -> AppealRead:
    return AppealRead(
        id=appeal.id,
        claim_id=appeal.claim_id,
        member_id=appeal.member_id,
        provider_id=appeal.provider_id,
        level=appeal.level,
        status=appeal.status,
        reason=appeal.reason,
        documents_reference=appeal.documents_reference,
        filed_at=appeal.filed_at,
        appeal_deadline=appeal.appeal_deadline,
        decision_due_at=appeal.decision_due_at,
        overdue=service.is_overdue(appeal, access.decided_at),
        decided_at=appeal.decided_at,
        decision_note=appeal.decision_note,
        allowed_lines=appeal.allowed_lines,
    )


@router.post(
    "/claims/{claim_id}/appeals", status_code=201, response_model=AppealRead, summary="Appeal a claim determination"
)
def file_appeal(
    claim_id: uuid.UUID,
    body: AppealCreate,
    request: Request,
    access: Access = Depends(policy("appeal.write", resource=path("claim_id", kind="appeal"))),
) -> AppealRead:
    filing = service.AppealFiling(
        claim_id=claim_id,
        filed_by=access.principal.subject,
        reason=body.reason,
        documents_reference=body.documents_reference,
    )
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        appeal = service.file_appeal(uow, filing)
        platform.audit.append(
            uow.session.connection(),
            [access.audit_record(resource_id=str(appeal.id), detail={"claimId": str(claim_id)})],
        )
        return _read(appeal, access)


@router.get("/appeals", response_model=list[AppealRead], summary="The appeals queue by decision due time")
def appeal_queue(
    request: Request,
    status: service.AppealStatus | None = Query(None),
    limit: int = Query(200, ge=1, le=500),
    access: Access = Depends(policy("appeal.read")),
) -> list[AppealRead]:
    scope = access.scope
    party_ids = None if scope.everything else scope.party_ids | scope.dependent_party_ids
    provider_ids = None if scope.everything else scope.provider_ids
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        found = service.queue(uow, status=status, party_ids=party_ids, provider_ids=provider_ids, limit=limit)
        return [_read(a, access) for a in found]


@router.get("/appeals/{appeal_id}", response_model=AppealRead, summary="An appeal")
def read_appeal(
    appeal_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("appeal.read", resource=path("appeal_id"))),
) -> AppealRead:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _read(service.get(uow, appeal_id), access)


@router.post("/appeals/{appeal_id}/decision", response_model=AppealRead, summary="Uphold or overturn")
def decide_appeal(
    appeal_id: uuid.UUID,
    body: AppealDecisionIn,
    request: Request,
    access: Access = Depends(policy("appeal.decide", resource=path("appeal_id"))),
) -> AppealRead:
    platform = platform_of(request)
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        appeal = service.decide(
            uow, appeal_id, service.AppealOutcome(body.outcome), body.note, access.principal.subject, lines=body.lines
        )
        platform.audit.append(
            uow.session.connection(),
            [access.audit_record(resource_id=str(appeal_id), detail={"outcome": body.outcome, "lines": body.lines})],
        )
        return _read(appeal, access)
