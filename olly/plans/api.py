"""The plans API: list plans, read the version in force on a date, load a plan document, quote.

Routes stay thin: parse, open the unit of work, call the service, render. Plans are not personal
data, but group rates are a sponsor's commercial terms: reading plans and quoting (``plan.read``)
needs a sign-in in any role; loading a plan document (``plan.write``) is for administrators.
Requests act for the caller's tenant.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic.alias_generators import to_camel

from olly.kernel.errors import FieldError, OllyError, ValidationFailed
from olly.plans import document, service
from olly.plans.schemas import (
    LoadResultRead,
    PlanListItemRead,
    PlanListRead,
    PlanVersionRead,
    PlanVersionSummaryRead,
    QuoteCreate,
    QuoteRead,
)
from olly.platform.auth import Access, policy
from olly.platform.runtime import Platform

router = APIRouter(prefix="/api/v1/plans", tags=["plans"])

_YAML_TYPES: Final = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
PlanCodePath = Annotated[str, Path(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]+$")]
OnQuery = Annotated[date | None, Query(description="The date asked about (default: today)")]


class PayloadTooLarge(OllyError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class UnsupportedMediaType(OllyError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


READ = policy("plan.read")


@router.get("", summary="Every plan, with the version in force on a date", response_model=PlanListRead)
def list_plans(request: Request, on: OnQuery = None, access: Access = Depends(READ)) -> PlanListRead:
    platform = _platform(request)
    day = on or platform.clock.today()
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        listings = service.list_plans(uow, day)
        items = [
            PlanListItemRead(
                code=listing.code,
                latest_version=listing.latest_version,
                in_force=PlanVersionSummaryRead.of(listing.in_force) if listing.in_force else None,
            )
            for listing in listings
        ]
    return PlanListRead(on=day, plans=items)


_DOCUMENT_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "A plan document (one plan, or `plans: [...]`) as JSON or YAML; see docs/plans.md",
        "content": {
            "application/json": {"schema": document.PlanDocument.model_json_schema(by_alias=True)},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "",
    summary="Load a plan document (new versions are added; an identical version reloads as unchanged)",
    status_code=201,
    response_model=LoadResultRead,
    openapi_extra=_DOCUMENT_BODY,
    responses={200: {"description": "Every version in the document was already loaded, unchanged"}},
)
async def load_plan_document(
    request: Request, response: Response, access: Access = Depends(policy("plan.write"))
) -> LoadResultRead:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        fmt: document.DocumentFormat = "json"
    elif content_type in _YAML_TYPES:
        fmt = "yaml"
    else:
        raise UnsupportedMediaType("send the plan document as application/json or application/yaml")
    raw = await _read_body(request)
    platform = _platform(request)

    def load() -> list[service.LoadOutcome]:
        limits = service.limits_from_settings(platform.settings)
        with platform.db.unit_of_work(access.principal.tenant_id) as uow:
            return service.load_text(uow, raw, fmt, limits, source="api")

    outcomes = await run_in_threadpool(load)
    if all(outcome.status == "unchanged" for outcome in outcomes):
        response.status_code = 200
    return LoadResultRead.of(outcomes)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > document.MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(f"a plan document may be at most {document.MAX_DOCUMENT_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > document.MAX_DOCUMENT_BYTES:
            raise PayloadTooLarge(f"a plan document may be at most {document.MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/{code}", summary="The version of a plan in force on a date", response_model=PlanVersionRead)
def get_plan_in_force(
    request: Request, code: PlanCodePath, on: OnQuery = None, access: Access = Depends(READ)
) -> PlanVersionRead:
    platform = _platform(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return PlanVersionRead.of(service.version_in_force(uow, code, on or platform.clock.today()))


@router.get("/{code}/versions", summary="Every version of a plan", response_model=list[PlanVersionSummaryRead])
def list_plan_versions(
    request: Request, code: PlanCodePath, access: Access = Depends(READ)
) -> list[PlanVersionSummaryRead]:
    platform = _platform(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return [PlanVersionSummaryRead.of(stored) for stored in service.list_versions(uow, code)]


@router.get("/{code}/versions/{version}", summary="One version of a plan", response_model=PlanVersionRead)
def get_plan_version(
    request: Request,
    code: PlanCodePath,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    access: Access = Depends(READ),
) -> PlanVersionRead:
    platform = _platform(request)
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return PlanVersionRead.of(service.get_version(uow, code, version))


@router.post("/{code}/quote", summary="Quote the premium for a tier or a household", response_model=QuoteRead)
def quote_plan(request: Request, code: PlanCodePath, body: QuoteCreate, access: Access = Depends(READ)) -> QuoteRead:
    platform = _platform(request)
    day = body.on or platform.clock.today()
    contribution = body.employer_contribution
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        try:
            quote = service.quote(
                uow,
                code,
                day,
                body.to_request(),
                contribution_percent=contribution.percent if contribution else None,
                contribution_amount=contribution.amount if contribution else None,
            )
        except ValidationFailed as exc:
            raise ValidationFailed([_body_field(error) for error in exc.errors]) from None
    return QuoteRead.of(quote, day)


def _body_field(error: FieldError) -> FieldError:
    """``members.0.tobacco_user`` in the rules is ``body.members.0.tobaccoUser`` on the wire."""
    path = ".".join(["body", *(to_camel(part) for part in error.field.split("."))])
    return FieldError(path, error.message, error.code)
