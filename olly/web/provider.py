"""The provider portal: eligibility check, credentialing status, claim status, 837 upload with its
acknowledgements, prior-authorisation status. Remittances are still a ``pending.py`` page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from olly.claims import prior_auth_api
from olly.claims import public as claims_public
from olly.edi import api as edi_api
from olly.edi import service as edi_service
from olly.eligibility import api as eligibility_api
from olly.eligibility.access import SEARCH_EVIDENCE
from olly.platform.auth import SELF, Access, body, policy
from olly.platform.http import platform_of
from olly.provider import public as provider_public
from olly.web.member import progress_of
from olly.web.pending import PENDING, pending_page
from olly.web.rendering import PORTAL_TAG, render, wants_fragment

router = APIRouter(prefix="/provider", tags=[PORTAL_TAG], include_in_schema=False)


@router.get("")
def home(request: Request, access: Access = Depends(policy("session.read", resource=SELF))) -> Response:
    today = platform_of(request).clock.today()
    return render(request, "provider/eligibility.html", {"answer": None, "today": today, "portal": "provider"})


@router.post("/eligibility")
def check_eligibility(
    request: Request,
    member_number: Annotated[str, Form(min_length=3, max_length=32)],
    birth_date: Annotated[date, Form()],
    family_name: Annotated[str, Form(min_length=1, max_length=80)],
    service_date: Annotated[date, Form()],
    service_type: Annotated[str, Form(min_length=1, max_length=40)] = "30",
    access: Access = Depends(policy("eligibility.read", resource=body("member_number", evidence=SEARCH_EVIDENCE))),
) -> Response:
    # The decision point matched number, birth date and name to one person (or refused with 404).
    try:
        inquiry = eligibility_api.EligibilitySearch(
            member_number=member_number,
            birth_date=birth_date,
            family_name=family_name,
            service_date=service_date,
            service_type=service_type,
        )
    except ValidationError:
        return render(request, "provider/_answer.html", {"answer": None, "progress": []}, status_code=422)
    answer = eligibility_api.search_document(inquiry, request, access)
    progress = progress_of("Deductible", answer.get("deductible", [])) + progress_of(
        "Out-of-pocket maximum", answer.get("out_of_pocket", [])
    )
    template = "provider/_answer.html" if wants_fragment(request) else "provider/eligibility.html"
    return render(
        request,
        template,
        {"answer": answer, "progress": progress, "today": service_date, "portal": "provider"},
    )


@router.get("/credentialing")
def credentialing(request: Request, access: Access = Depends(policy("credentialing.read", resource=SELF))) -> Response:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        providers = [
            found
            for npi in sorted(access.principal.provider_ids)
            if (found := provider_public.provider_by_npi(uow, npi)) is not None
        ]
    return render(request, "provider/credentialing.html", {"providers": providers, "portal": "provider"})


@router.get("/claims")
def claims(request: Request, access: Access = Depends(policy("claim.read", resource=SELF))) -> Response:
    """The claims billed under the provider's own NPIs, newest first."""
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        found = claims_public.claims_of_provider(uow, sorted(access.principal.provider_ids))
    return render(request, "provider/claims.html", {"claims": found, "portal": "provider"})


@router.get("/claims/837")
def upload_837_form(request: Request, access: Access = Depends(policy("edi_file.write", resource=SELF))) -> Response:
    return render(request, "provider/upload_837.html", {"outcome": None, "error": None, "portal": "provider"})


@router.post("/claims/837")
async def upload_837(
    request: Request,
    file: Annotated[UploadFile, File()],
    access: Access = Depends(policy("edi_file.write")),
) -> Response:
    """The EDI gateway's intake, as ``POST /api/v1/edi`` runs it: the caller submits only for the
    senders it acts for; bad X12 is answered with a TA1/999, never refused."""
    data = await file.read(edi_api.MAX_BODY_BYTES + 1)
    error = None
    if not data:
        error = "The file is empty."
    elif len(data) > edi_api.MAX_BODY_BYTES:
        error = "The file is too large for the portal: send it through the EDI inbox."
    if error:
        return render(
            request,
            "provider/upload_837.html",
            {"outcome": None, "error": error, "portal": "provider"},
            status_code=422,
        )
    caller = None if access.scope.everything else access.scope.provider_ids
    platform = platform_of(request)

    def run() -> dict[str, Any]:
        with platform.db.unit_of_work(access.principal.tenant_id) as uow:
            return edi_service.ingest(uow, data, source="portal", filename=file.filename, caller_ids=caller).view()

    answer = await run_in_threadpool(run)
    edi_api._audit(
        request, access, "edi_file.submit", answer["fileId"], {"status": answer["status"], "kind": answer["kind"]}
    )
    return render(request, "provider/upload_837.html", {"outcome": answer, "error": None, "portal": "provider"})


@router.get("/prior-authorisations")
def prior_authorisations(
    request: Request, access: Access = Depends(policy("prior_auth.read", resource=SELF))
) -> Response:
    """The requests this provider made (the API's queue, filtered to the caller's NPIs), soonest due first."""
    requests = prior_auth_api.prior_auth_queue(request, status=None, overdue=None, limit=200, access=access)
    return render(request, "provider/prior_auths.html", {"requests": requests, "portal": "provider"})


def _pending(key: str, action: str) -> None:
    spec = PENDING[key]

    @router.get(spec.path.removeprefix("/provider"), name=f"pending_{key}")
    def page(request: Request, access: Access = Depends(policy(action, resource=SELF))) -> Response:
        return pending_page(request, spec, "provider")


_pending("provider_remittances", "remittance.read")
