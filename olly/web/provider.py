"""The provider portal: eligibility check, credentialing status, claim status, claim entry, 837
upload with its acknowledgements, prior-authorisation requests and status, remittances (835).

Claim entry and prior-authorisation requests take the member as a provider knows them (member
number, family name, date of birth: all three must match, as for an eligibility check or an 837)
and then call the claims domain as ``POST /api/v1/claims`` and ``POST /api/v1/prior-auths`` do."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from olly.billing import public as billing_public
from olly.claims import prior_auth_api
from olly.claims import public as claims_public
from olly.claims.authorization_schemas import PriorAuthCreate
from olly.edi import api as edi_api
from olly.edi import public as edi_public
from olly.edi import service as edi_service
from olly.eligibility import api as eligibility_api
from olly.eligibility import service as eligibility_service
from olly.eligibility.access import SEARCH_EVIDENCE
from olly.kernel.errors import Conflict, NotFound, ValidationFailed
from olly.kernel.money import Money
from olly.platform.auth import SELF, Access, body, path, policy
from olly.platform.http import platform_of
from olly.provider import public as provider_public
from olly.web import provider_forms as forms
from olly.web.member import progress_of
from olly.web.rendering import PAGE_HEADERS, PORTAL_TAG, outside, render, wants_fragment

router = APIRouter(prefix="/provider", tags=[PORTAL_TAG], include_in_schema=False)


@router.get("")
def home(request: Request, access: Access = Depends(policy("session.read", resource=SELF))) -> Response:
    if (elsewhere := outside(access.principal.roles, "/provider")) is not None:
        return elsewhere
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


# -------------------------------------------------------------------------------------------------
# Claim entry and prior-authorisation requests
# -------------------------------------------------------------------------------------------------
NO_MATCH: Final = "No member matches this member number, family name and date of birth."
FORM_KEY: Final = re.compile(r"^[0-9a-f]{32}$")


def _npis(access: Access) -> list[str]:
    """The caller's own NPIs (a provider user's account names one; an organisation's, its own)."""
    return sorted(p for p in access.principal.provider_ids if len(p) == 10 and p.isdigit())


def _posted(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _member(request: Request, access: Access, values: dict[str, str]) -> uuid.UUID | None:
    """The member the form names by number, family name and birth date (all three), or None."""
    number, family = values.get("member_number", "").strip(), values.get("family_name", "").strip()
    try:
        born = date.fromisoformat(values.get("birth_date", "").strip())
    except ValueError:
        return None
    if not number or not family:
        return None
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return eligibility_service.find_member(uow, number, born, family)


def _form_context(request: Request, access: Access, values: dict[str, str], errors: forms.FormErrors) -> dict[str, Any]:
    key = values.get("form_key", "")
    return {
        "npis": _npis(access),
        "places": forms.PLACES_OF_SERVICE,
        "line_numbers": range(1, forms.CLAIM_LINES + 1),
        "service_numbers": range(1, forms.PA_SERVICES + 1),
        "values": values,
        "errors": errors,
        "form_key": key if FORM_KEY.match(key) else uuid.uuid4().hex,
        "today": platform_of(request).clock.today(),
        "portal": "provider",
    }


@router.get("/claims/new")
def claim_form(request: Request, access: Access = Depends(policy("claim.write", resource=SELF))) -> Response:
    context = _form_context(request, access, {"place_of_service": "11"}, forms.FormErrors())
    return render(request, "provider/claim_form.html", {**context, "submission": None})


@router.post("/claims/new")
async def submit_claim(
    request: Request,
    # The API's own declaration: the provider submits under its own billing NPI only.
    access: Access = Depends(policy("claim.write", resource=body("billingNpi", evidence=("memberId",)))),
) -> Response:
    """A professional claim from the form, through ``claims.public.submit_claim`` with the API's
    validation; errors come back beside their fields (status 422), nothing half-written."""
    values = _posted(await request.form())
    platform = platform_of(request)

    def work() -> tuple[claims_public.Submission | None, forms.FormErrors]:
        member = _member(request, access, values)
        decided_about = access.facts.party_ids if access.facts is not None else frozenset()
        if member is not None and decided_about and member not in decided_about:
            # A ``memberId`` field (a member may write their own claims) decided the policy: the
            # claim is for that person only, never for whoever the demographics match.
            raise access.refused(request, "not_related")
        payload, errors = forms.claim_body(values, str(member) if member else None)
        if member is None:
            errors.add("member_number", NO_MATCH)
        try:
            data = claims_public.ClaimCreate.model_validate(payload)
        except ValidationError as exc:
            found = forms.claim_errors(values, [(e["loc"], e["msg"]) for e in exc.errors()])
            for name, message in found.fields.items():
                if not (member is None and name == "member_number"):
                    errors.add(name, message)
            for message in found.general:
                errors.add(None, message)
            return None, errors
        if errors:
            return None, errors
        # The form's own key, made the caller's (as the API does with Idempotency-Key): sent twice,
        # the same form answers the first claim.
        form_key = values.get("form_key", "")
        key = f"{access.principal.subject}\x00portal-claim\x00{form_key}" if FORM_KEY.match(form_key) else None
        try:
            with platform.db.unit_of_work(access.principal.tenant_id) as uow:
                submission = claims_public.submit_claim(
                    uow,
                    data,
                    source="PORTAL",
                    idempotency_key=hashlib.sha256(key.encode()).hexdigest() if key else None,
                )
        except ValidationFailed as exc:
            return None, forms.claim_errors(values, [(forms.path_parts(e.field), e.message) for e in exc.errors])
        except Conflict:
            errors.add(None, "This form was already sent with other details. Open a new claim form to send another.")
            return None, errors
        return submission, errors

    submission, errors = await run_in_threadpool(work)
    context = _form_context(request, access, values, errors)
    if submission is None:
        return render(request, "provider/claim_form.html", {**context, "submission": None}, status_code=422)
    return render(request, "provider/claim_form.html", {**context, "submission": submission}, status_code=202)


@router.get("/prior-authorisations/new")
def prior_auth_form(request: Request, access: Access = Depends(policy("prior_auth.write", resource=SELF))) -> Response:
    context = _form_context(request, access, {}, forms.FormErrors())
    return render(request, "provider/prior_auth_form.html", context)


@router.post("/prior-authorisations/new")
async def request_prior_auth(request: Request, access: Access = Depends(policy("prior_auth.write"))) -> Response:
    """A request through the API's own view (the caller asks for itself only; audited as the API
    does); then the status list with the new request in it."""
    values = _posted(await request.form())
    platform = platform_of(request)

    def work() -> tuple[bool, forms.FormErrors]:
        member = _member(request, access, values)
        payload, errors = forms.prior_auth_body(values)
        if member is None:
            errors.add("member_number", NO_MATCH)
        npi = values.get("billingNpi", "").strip()
        if npi not in _npis(access):
            errors.add("billingNpi")
        if errors:
            return False, errors
        with platform.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
            registered = provider_public.provider_by_npi(uow, npi)
            provider_id = registered.provider_id if registered else claims_public.provider_id_of(uow, npi)
        try:
            data = PriorAuthCreate.model_validate(
                {**payload, "memberId": str(member), "requestingProviderId": str(provider_id), "requestingNpi": npi}
            )
        except ValidationError as exc:
            return False, forms.prior_auth_errors(values, [(e["loc"], e["msg"]) for e in exc.errors()])
        try:
            prior_auth_api.request_prior_auth(data, request, access)
        except ValidationFailed as exc:
            return False, forms.prior_auth_errors(values, [(forms.path_parts(e.field), e.message) for e in exc.errors])
        return True, errors

    sent, errors = await run_in_threadpool(work)
    if not sent:
        context = _form_context(request, access, values, errors)
        return render(request, "provider/prior_auth_form.html", context, status_code=422)
    requests = prior_auth_api.prior_auth_queue(request, status=None, overdue=None, limit=200, access=access)
    return render(
        request,
        "provider/prior_auths.html",
        {"requests": requests, "sent": True, "portal": "provider"},
        status_code=201,
    )


# -------------------------------------------------------------------------------------------------
# Remittances
# -------------------------------------------------------------------------------------------------
def _payee_ids(request: Request, access: Access) -> list[uuid.UUID]:
    """Billing's payee ids of the caller: claims' provider id of each of its NPIs, and its
    organisation's id."""
    ids: set[uuid.UUID] = set()
    for value in access.principal.provider_ids:
        try:
            ids.add(uuid.UUID(value))
        except ValueError:
            continue
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        ids |= {claims_public.provider_id_of(uow, npi) for npi in _npis(access)}
    return sorted(ids)


@router.get("/remittances")
def remittances(request: Request, access: Access = Depends(policy("remittance.read", resource=SELF))) -> Response:
    """The claim payments made to the caller (billing), newest first, each with the 835 the gateway
    wrote for it when there is one (paired by the EFT trace or cheque number). Payments are found by
    the caller's NPIs too: those made before the registry's id was known to claims carry the id
    claims derived from the NPI."""
    payees = _payee_ids(request, access)
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        payments = billing_public.provider_payments(uow, payees, npis=_npis(access))
        files = edi_public.remittance_files(uow, {str(p.run_id) for p in payments})
    by_trace = {f.trace_number: f for f in files if f.trace_number}
    own = set(_npis(access))
    rows = [
        {
            "payment": p,
            "amount": Money(p.amount_minor, p.currency).to_decimal_string(),
            "file": found if (found := by_trace.get(p.trace_number)) and found.payee_npi in own else None,
        }
        for p in payments
    ]
    return render(request, "provider/remittances.html", {"rows": rows, "portal": "provider"})


@router.get("/remittances/{file_id}/835")
def download_835(
    file_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("remittance.read", resource=path("file_id"))),
) -> Response:
    """The 835 itself (the decision point answered 404 unless it was written for the caller)."""
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        found = edi_public.remittance_file(uow, file_id)
    if found is None:
        raise NotFound("no such remittance")
    record, content = found
    name = f"835-{record.interchange_control_number}-{record.id}.x12"
    return Response(
        content,
        media_type="application/edi-x12",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
