"""HTTP routes of the EDI gateway.

* ``POST /api/v1/edi``: a raw X12 body (any content type; documented as ``text/plain``); answers
  with the TA1/999 (and 277CA, 271, 277) and the ids created. ``edi_file.write``; a trading
  partner or provider may submit only files whose ISA sender is a registered partner it acts for
  (its provider ids).
* ``GET /api/v1/edi/files`` and ``GET /api/v1/edi/files/{file_id}`` (``?download=true`` for the raw
  X12): ``edi_file.read`` — staff see every file, a partner the files of the partners it acts for.
* ``/api/v1/edi/partners``: the trading-partner registry, ``api_client.read`` / ``api_client.write``
  (administrators).
* ``POST /api/v1/edi/remittances/{run_id}``: the 835s of a payment run (``remittance.write``: billing).
* ``POST /api/v1/edi/partners/{code}/834``: an 834 of an employer partner's group, into its outbox
  (``enrollment.write``, staff only: an employer administrator is answered 404); the file is then
  downloaded from ``/files/{file_id}?download=true``.
* ``GET /api/v1/edi/files/{file_id}/reconciliation``: an 834 audit compared with the enrollment in
  force, per member (``enrollment.read``, staff only like the 834 out: the findings name members).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from olly.edi import public, service
from olly.edi.models import EdiFile, TradingPartner
from olly.edi.repository import EdiRepository
from olly.kernel.errors import FieldError, NotFound, ValidationFailed
from olly.platform.audit import AuditRecord
from olly.platform.auth import Access, ResolveContext, ResourceFacts, ResourceRef, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.auth.resolvers import parse_uuid
from olly.platform.http import platform_of

router = APIRouter(prefix="/api/v1/edi", tags=["edi"])

#: A raw X12 body larger than this is refused (files that big go through the inbox folder).
MAX_BODY_BYTES = 50 * 1024 * 1024


class EdiFileFacts:
    """An EDI file of the caller's tenant: its partner's interchange id and provider ids relate it."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        file_id = parse_uuid(ref.resource_id)
        if file_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            row = uow.session.get(EdiFile, file_id)
            if row is None:
                return None
            partner = uow.session.get(TradingPartner, row.partner_id) if row.partner_id else None
            providers = service.partner_identities(partner) if partner is not None else frozenset()
        return ResourceFacts(kind="edi_file", resource_id=str(file_id), provider_ids=providers)


class RemittanceFacts:
    """An 835 by its file id: the payee it was written for relates it (a clearinghouse's other
    providers do not see it)."""

    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        file_id = parse_uuid(ref.resource_id)
        if file_id is None:
            return None
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            found = public.remittance_payee(uow, file_id)
        if found is None:
            return None
        payees = frozenset({found.payee_npi}) if found.payee_npi else frozenset()
        return ResourceFacts(kind="remittance", resource_id=str(file_id), provider_ids=payees)


def install(control: AccessControl) -> None:
    control.resolvers.register("edi_file", EdiFileFacts())
    control.resolvers.register("remittance", RemittanceFacts())


def _audit(request: Request, access: Access, action: str, resource_id: str | None, detail: dict[str, Any]) -> None:
    platform_of(request).audit.submit(
        AuditRecord(
            subject=access.principal.subject,
            role=access.principal.role_label,
            action=action,
            resource_type="edi_file",
            resource_id=resource_id,
            purpose=access.purpose,
            request_id=access.request_id,
            tenant_id=access.principal.tenant_id,
            detail=detail,
        )
    )


@router.post(
    "",
    summary="Submit a raw X12 interchange; answered with its acknowledgements and the ids created",
    status_code=200,
    openapi_extra={"requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}},
    responses={
        422: {
            "description": "The body is empty or too large (bad X12 is answered with a TA1/999, not refused)",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        }
    },
)
async def submit(request: Request, access: Access = Depends(policy("edi_file.write"))) -> dict[str, Any]:
    data = await _body_within(request, MAX_BODY_BYTES)
    if not data:
        raise ValidationFailed([FieldError("body", "is empty: send the X12 file as the request body", "required")])
    caller = None if access.scope.everything else access.scope.provider_ids
    platform = platform_of(request)

    def run() -> dict[str, Any]:
        with platform.db.unit_of_work(access.principal.tenant_id) as uow:
            return service.ingest(uow, data, source="api", caller_ids=caller).view()

    answer = await run_in_threadpool(run)
    _audit(request, access, "edi_file.submit", answer["fileId"], {"status": answer["status"], "kind": answer["kind"]})
    return answer


async def _body_within(request: Request, limit: int) -> bytes:
    """The request body, refused (422 ``too_large``) once it exceeds ``limit`` bytes: at once when
    its Content-Length says so, else as soon as the bytes read pass it (never held whole)."""
    too_large = ValidationFailed(
        [FieldError("body", "is too large: use the inbox folder for files this big", "too_large")]
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _partner_filter(access: Access, repo: EdiRepository) -> set[uuid.UUID] | None:
    if access.scope.everything:
        return None
    return {p.id for p in repo.partners() if service.partner_identities(p) & access.scope.provider_ids}


@router.get("/files", summary="EDI files received and sent, newest first")
def list_files(
    request: Request,
    direction: Annotated[str | None, Query(pattern="^(IN|OUT)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    access: Access = Depends(policy("edi_file.read")),
) -> dict[str, Any]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        repo = EdiRepository(uow)
        rows = repo.files(direction=direction, partner_ids=_partner_filter(access, repo), limit=limit)
        return {"items": [service.file_view(r) for r in rows]}


@router.get(
    "/files/{file_id}",
    summary="One EDI file: its record, or the raw X12 with ?download=true",
    response_model=None,
)
def show_file(
    request: Request,
    file_id: uuid.UUID,
    download: bool = False,
    access: Access = Depends(policy("edi_file.read", resource=path("file_id"))),
) -> dict[str, Any] | Response:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        if not download:
            row = EdiRepository(uow).file(file_id)
            if row is None:
                raise NotFound("no such EDI file")
            view = service.file_view(row)
            view["replies"] = [service.file_view(r) for r in EdiRepository(uow).replies_to(file_id)]
            return view
        row, content = service.file_content(uow, file_id)
    _audit(request, access, "edi_file.download", str(file_id), {"kind": row.kind})
    name = service.outbound_name(row) if row.direction == "OUT" else f"{row.kind}-{row.id}.x12"
    return Response(
        content,
        media_type="application/edi-x12",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/files/{file_id}/reconciliation",
    summary="An 834 audit file compared with the enrollment in force on its effective date, member by member",
)
def show_reconciliation(
    request: Request, file_id: uuid.UUID, access: Access = Depends(policy("enrollment.read"))
) -> dict[str, Any]:
    platform = platform_of(request)
    if not access.scope.everything:  # the findings name members of the whole group: the plan's staff only
        raise access.refused(request, "staff_only")
    with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        items = service.reconciliations(uow, file_id)
    _audit(request, access, "edi_file.reconciliation", str(file_id), {"sets": len(items)})
    return {"fileId": str(file_id), "items": items}


class PartnerBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(pattern="^(CLEARINGHOUSE|PROVIDER|EMPLOYER)$")
    interchange_qualifier: str = Field(alias="interchangeQualifier", min_length=2, max_length=2)
    interchange_id: str = Field(alias="interchangeId", min_length=1, max_length=15)
    application_code: str | None = Field(None, alias="applicationCode", max_length=15)
    accepted_transactions: list[str] = Field(
        default_factory=lambda: list(service.INBOUND_KINDS), alias="acceptedTransactions"
    )
    ta1_always: bool = Field(False, alias="ta1Always")
    send_999: bool = Field(True, alias="send999")
    usage: str = Field("P", pattern="^[PT]$")
    element_separator: str = Field("*", alias="elementSeparator", min_length=1, max_length=1)
    component_separator: str = Field(":", alias="componentSeparator", min_length=1, max_length=1)
    repetition_separator: str = Field("^", alias="repetitionSeparator", min_length=1, max_length=1)
    segment_terminator: str = Field("~", alias="segmentTerminator", min_length=1, max_length=1)
    provider_ids: list[str] = Field(default_factory=list, alias="providerIds", max_length=100)
    group_account_id: uuid.UUID | None = Field(None, alias="groupAccountId")
    apply_audit_changes: bool = Field(
        False, alias="applyAuditChanges", description="an 834 audit also applies adds, plan, name, birth date"
    )
    active: bool = True

    def settings(self) -> service.PartnerSettings:
        data = self.model_dump()
        data["accepted_transactions"] = tuple(data["accepted_transactions"])
        data["provider_ids"] = tuple(data["provider_ids"])
        return service.PartnerSettings(**data)


@router.get("/partners", summary="The trading-partner registry")
def list_partners(request: Request, access: Access = Depends(policy("api_client.read"))) -> dict[str, Any]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return {"items": [service.partner_view(p) for p in EdiRepository(uow).partners()]}


@router.post("/partners", summary="Register a trading partner", status_code=201)
def create_partner(
    request: Request, body: PartnerBody, access: Access = Depends(policy("api_client.write"))
) -> dict[str, Any]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        return service.partner_view(service.save_partner(uow, body.settings()))


@router.put("/partners/{code}", summary="Replace a trading partner's settings")
def update_partner(
    request: Request, code: str, body: PartnerBody, access: Access = Depends(policy("api_client.write"))
) -> dict[str, Any]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        found = EdiRepository(uow).partner_by_code(code)
        if found is None:
            raise NotFound("no such trading partner")
        return service.partner_view(service.save_partner(uow, body.settings(), found.id))


@router.post("/remittances/{run_id}", summary="Write the 835s of a payment run (one per payee)", status_code=201)
def remit(request: Request, run_id: str, access: Access = Depends(policy("remittance.write"))) -> dict[str, Any]:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        files = service.remit(uow, run_id)
        return {"items": [service.file_view(f) for f in files]}


class EnrollmentFileBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    as_of: date | None = Field(None, alias="asOf", description="members covered on that day or later (today)")
    since: date | None = Field(None, description="only the changes recorded from that day to asOf")


@router.post(
    "/partners/{code}/834",
    summary="Write an 834 of the partner's group into its outbox: the whole group, or the changes since a day",
    status_code=201,
)
def send_enrollment(
    request: Request,
    code: str,
    body: EnrollmentFileBody | None = None,
    access: Access = Depends(policy("enrollment.write")),
) -> dict[str, Any]:
    platform = platform_of(request)
    if not access.scope.everything:  # an employer's own group goes out on the plan's schedule, not on demand
        raise access.refused(request, "staff_only")
    wanted = body or EnrollmentFileBody()
    with platform.db.unit_of_work(access.principal.tenant_id) as uow:
        row = service.send_enrollment(uow, code, wanted.as_of or uow.clock.today(), since=wanted.since)
        view = service.file_view(row)
    _audit(request, access, "edi_file.send_834", view["id"], {"kind": "834", "partner": code})
    return view
