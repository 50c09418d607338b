"""The eligibility fast path: no queue, the read model and a cache, milliseconds."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from olly.eligibility import service
from olly.eligibility.events import CoverageVerified
from olly.platform.audit import AuditRecord
from olly.platform.http import platform_of, request_id_of, tenant_of

router = APIRouter(prefix="/api/v1/eligibility", tags=["eligibility"])


class EligibilitySearch(BaseModel):
    """How a provider identifies a patient: member number, date of birth and family name."""

    model_config = ConfigDict(extra="forbid")

    member_number: str = Field(min_length=3, max_length=32)
    birth_date: date
    family_name: str = Field(min_length=1, max_length=80)
    service_date: date
    service_type: str = Field("30", min_length=1, max_length=40)


def _answer(request: Request, party_id: uuid.UUID | None, on: date, service_type: str) -> dict[str, Any]:
    platform = platform_of(request)
    tenant = tenant_of(request)
    if party_id is None:
        answer: dict[str, Any] = {
            "member_id": None,
            "service_date": on.isoformat(),
            "service_type": service_type.upper(),
            "covered": False,
            "status": "NOT_FOUND",
        }
    else:
        with platform.db.unit_of_work(tenant, read_only=True) as uow:
            answer = service.check(
                uow, party_id, on, service_type, request.app.state.benefit_source, request.app.state.eligibility_cache
            )
    request.app.state.verified_events.publish(
        tenant, _verified_event(answer, platform.clock.now()), key=party_id or "unknown"
    )
    principal = getattr(request.state, "principal", None)
    platform.audit.submit(
        AuditRecord(
            subject=getattr(principal, "subject", "anonymous"),
            role=getattr(principal, "role", "anonymous"),
            action="eligibility.check",
            resource_type="member",
            resource_id=str(party_id) if party_id else None,
            purpose="eligibility",
            request_id=request_id_of(request),
            tenant_id=tenant,
            detail={"status": answer["status"]},
        )
    )
    return answer


def _verified_event(answer: dict[str, Any], now: datetime) -> CoverageVerified:
    covered = answer["covered"]
    deductible = next((a for a in answer.get("deductible", []) if a["network"] == "IN_NETWORK"), None)
    oop = next((a for a in answer.get("out_of_pocket", []) if a["network"] == "IN_NETWORK"), None)
    return CoverageVerified(
        event_type="COVERAGE_VERIFIED" if covered else "COVERAGE_NOT_FOUND",
        member_id=answer["member_id"] or uuid.UUID(int=0),
        plan_id=answer.get("plan_id") if covered else None,
        group_number=answer.get("group_id"),
        effective_date=answer.get("coverage_start") if covered else None,
        termination_date=answer.get("coverage_end") if covered else None,
        network_tier="IN_NETWORK" if covered else None,
        deductible_remaining=deductible["individual_remaining"] if deductible else None,
        oop_max_remaining=oop["individual_remaining"] if oop else None,
        currency=answer.get("currency", "USD"),
        verified_at=now,
    )


@router.get("", summary="Is this member covered on this date, and for this service?")
def check(
    request: Request,
    member_id: Annotated[uuid.UUID, Query(alias="memberId")],
    service_date: Annotated[date, Query(alias="serviceDate")],
    service_type: Annotated[str, Query(alias="serviceType", min_length=1, max_length=40)] = "30",
) -> dict[str, Any]:
    return _answer(request, member_id, service_date, service_type)


@router.post("/search", summary="Find the member by number, date of birth and name, then check")
def search(body: EligibilitySearch, request: Request) -> dict[str, Any]:
    with platform_of(request).db.unit_of_work(tenant_of(request), read_only=True) as uow:
        party_id = service.find_member(uow, body.member_number, body.birth_date, body.family_name)
    return _answer(request, party_id, body.service_date, body.service_type)
