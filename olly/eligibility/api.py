"""The eligibility fast path: no queue, the read model and a cache, milliseconds.

Access: ``eligibility.read`` of the person asked about. By member id for members (themselves and
minor dependents), employer administrators (their group) and staff; by search — member number,
date of birth and family name — for providers and trading partners too (see ``access.py``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from olly.eligibility import service
from olly.eligibility.access import SEARCH_EVIDENCE, EligibilityFacts
from olly.eligibility.events import CoverageVerified
from olly.eligibility.personal_data import EligibilityPersonalData
from olly.platform.audit import AuditRecord
from olly.platform.auth import Access, body, policy, query
from olly.platform.auth.access import AccessControl
from olly.platform.cache import MemoryCache, NearCache
from olly.platform.eventloop import WouldBlock, on_event_loop
from olly.platform.http import platform_of

router = APIRouter(prefix="/api/v1/eligibility", tags=["eligibility"])


def install(control: AccessControl) -> None:
    control.resolvers.register("eligibility", EligibilityFacts())
    control.personal_data.register(EligibilityPersonalData())


class EligibilitySearch(BaseModel):
    """How a provider identifies a patient: member number, date of birth and family name."""

    model_config = ConfigDict(extra="forbid")

    member_number: str = Field(min_length=3, max_length=32)
    birth_date: date
    family_name: str = Field(min_length=1, max_length=80)
    service_date: date
    service_type: str = Field("30", min_length=1, max_length=40)


def _answer(
    request: Request, access: Access, party_id: uuid.UUID | None, on: date, service_type: str
) -> service.Answer:
    """The answer, from the cache when it holds it (no unit of work opened), else from the read model."""
    platform = platform_of(request)
    tenant = access.principal.tenant_id
    if party_id is None:
        document: dict[str, Any] = {
            "member_id": None,
            "service_date": on.isoformat(),
            "service_type": service_type.upper(),
            "covered": False,
            "status": "NOT_FOUND",
        }
        return service.Answer.of(document)
    cache = request.app.state.eligibility_cache
    key = service.answer_key(cache, tenant, party_id, on, service_type)
    found = service.cached_answer(cache, key)
    if found is not None:
        return found
    with platform.db.unit_of_work(tenant, read_only=True) as uow:
        return service.answer(uow, party_id, on, service_type, request.app.state.benefit_source, cache, key)


def _respond(request: Request, access: Access, party_id: uuid.UUID | None, found: service.Answer) -> Response:
    """Send the answer's bytes; the verified event and the check's audit record are queued for the
    background writers (group commit), so a cached answer costs no database work at all."""
    platform = platform_of(request)
    tenant = access.principal.tenant_id
    facts = found.facts
    request.app.state.verified_events.publish(
        tenant, _verified_event(facts, platform.clock.now()), key=party_id or "unknown"
    )
    platform.audit.submit(
        AuditRecord(
            subject=access.principal.subject,
            role=access.principal.role_label,
            action="eligibility.check",
            resource_type="member",
            resource_id=str(party_id) if party_id else None,
            purpose=access.purpose,
            request_id=access.request_id,
            tenant_id=tenant,
            detail={"status": facts.status},
        )
    )
    return Response(content=found.body, media_type="application/json")


async def _check(request: Request, access: Access, party_id: uuid.UUID | None, on: date, service_type: str) -> Response:
    cache = request.app.state.eligibility_cache
    if party_id is not None and _serves_in_process(cache):
        # What this process holds is answered without leaving the event loop; a trip to Redis or to
        # the read model gives the attempt up (WouldBlock) and runs in the thread pool.
        held: service.Answer | None = None
        try:
            with on_event_loop():
                held = service.cached_answer(
                    cache, service.answer_key(cache, access.principal.tenant_id, party_id, on, service_type)
                )
        except WouldBlock:
            pass
        if held is not None:
            if held.refresh_due:
                service.refresh_answer(
                    platform_of(request).db,
                    cache,
                    access.principal.tenant_id,
                    party_id,
                    on,
                    service_type,
                    request.app.state.benefit_source,
                )
            return _respond(request, access, party_id, held)
    found = await run_in_threadpool(_answer, request, access, party_id, on, service_type)
    return _respond(request, access, party_id, found)


def _serves_in_process(cache: object) -> bool:
    """Whether the cache answers from this process's memory (the in-process cache, or Redis's near
    copy while it is kept true by its invalidation listener)."""
    return isinstance(cache, MemoryCache) or (isinstance(cache, NearCache) and cache.live)


def search_document(inquiry: EligibilitySearch, request: Request, access: Access) -> dict[str, Any]:
    """The search's answer as a document, for the portals that render it (blocking: call it from a
    synchronous route). The same answer, verified event and audit record as ``POST /search``."""
    party_id = next(iter(access.facts.party_ids), None) if access.facts is not None else None
    found = _answer(request, access, party_id, inquiry.service_date, inquiry.service_type)
    _respond(request, access, party_id, found)
    return found.document


def _facts_in_process(request: Request) -> bool:
    """Whether the decision point's facts about a member may come from this process's memory (then
    the decision is tried on the event loop; with Redis alone every check would give the attempt up)."""
    return _serves_in_process(getattr(request.app.state, "eligibility_cache", None))


#: The check's policy (the route declares it; ``fastpath.FastCheck`` decides with the same object).
CHECK_POLICY = policy("eligibility.read", resource=query("memberId"), decide_on_event_loop=_facts_in_process)


def _verified_event(facts: service.Facts, now: datetime) -> CoverageVerified:
    covered = facts.covered
    return CoverageVerified(
        event_type="COVERAGE_VERIFIED" if covered else "COVERAGE_NOT_FOUND",
        member_id=facts.member_id or uuid.UUID(int=0),
        plan_id=facts.plan_id if covered else None,
        group_number=facts.group_id,
        effective_date=facts.coverage_start if covered else None,
        termination_date=facts.coverage_end if covered else None,
        network_tier="IN_NETWORK" if covered else None,
        deductible_remaining=facts.deductible_remaining,
        oop_max_remaining=facts.out_of_pocket_remaining,
        currency=facts.currency,
        verified_at=now,
    )


#: The answer is sent as cached bytes; the schema says what it is.
ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The eligibility answer",
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    }
}


@router.get(
    "",
    summary="Is this member covered on this date, and for this service?",
    response_class=Response,
    responses=ANSWER_RESPONSES,
)
async def check(
    request: Request,
    member_id: Annotated[uuid.UUID, Query(alias="memberId")],
    service_date: Annotated[date, Query(alias="serviceDate")],
    service_type: Annotated[str, Query(alias="serviceType", min_length=1, max_length=40)] = "30",
    access: Access = Depends(CHECK_POLICY),
) -> Response:
    return await _check(request, access, member_id, service_date, service_type)


@router.post(
    "/search",
    summary="Find the member by number, date of birth and name, then check",
    response_class=Response,
    responses=ANSWER_RESPONSES,
)
async def search(
    inquiry: EligibilitySearch,
    request: Request,
    access: Access = Depends(policy("eligibility.read", resource=body("member_number", evidence=SEARCH_EVIDENCE))),
) -> Response:
    # The decision point already matched number, birth date and name (all three, one person):
    # the answer is about that person or nobody.
    party_id = next(iter(access.facts.party_ids), None) if access.facts is not None else None
    return await _check(request, access, party_id, inquiry.service_date, inquiry.service_type)
