"""HTTP API of the provider domain. Routes stay thin: validate, open the unit of work, call the
service, render. Every route declares its policy: registry, credentialing and contract work is for
staff whose role grants it (docs/security.md); the directory search is public. Provider users serve
themselves through the provider and credentialing resolvers (``access.py``): their own listing's
languages, new-patient acceptance and locations, their own credentialing file and application,
their own contracts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from olly.kernel.money import Money
from olly.platform import filetypes
from olly.platform.auth import Access, path, policy, public
from olly.platform.auth.access import AccessControl
from olly.platform.db import UnitOfWork
from olly.provider import rules as r
from olly.provider import schemas as s
from olly.provider import service
from olly.provider.access import CredentialingFacts, FeeScheduleFacts, ProviderFacts

router = APIRouter(tags=["providers"])

IMPORT_BATCH_ROWS = 500

#: A provider record named by the path, for self-service routes (the provider resolver).
OWN_PROVIDER = path("provider_id", kind="provider")
#: A credentialing request named by the path (the credentialing resolver).
OWN_REQUEST = path("request_id")
#: A fee schedule named by its code in the path (the fee-schedule resolver).
OWN_SCHEDULE = path("code", kind="fee_schedule")


def install(control: AccessControl) -> None:
    control.resolvers.register("provider", ProviderFacts())
    control.resolvers.register("credentialing", CredentialingFacts())
    control.resolvers.register("fee_schedule", FeeScheduleFacts())


@contextmanager
def _unit_of_work(request: Request, *, read_only: bool = False) -> Iterator[UnitOfWork]:
    platform = request.app.state.platform
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=read_only) as uow:
        yield uow


# -- renderers -------------------------------------------------------------------------------------
def _taxonomy(code: str, is_primary: bool | None = None) -> s.TaxonomyRead:
    t = service.taxonomy_of(code)
    if t is None:  # pragma: no cover - codes are validated against the same table
        return s.TaxonomyRead(
            code=code,
            display_name=code,
            classification="",
            specialization=None,
            specialty="",
            section="",
            is_primary=is_primary,
        )
    return s.TaxonomyRead(
        code=t.code,
        display_name=t.display_name,
        classification=t.classification,
        specialization=t.specialization or None,
        specialty=t.specialty,
        section=t.section,
        is_primary=is_primary,
    )


def _provider(details: service.ProviderDetails) -> s.ProviderRead:
    p = details.provider
    return s.ProviderRead(
        id=p.id,
        npi=p.npi,
        kind=p.kind,
        name=service.provider_name(p),
        first_name=p.first_name,
        middle_name=p.middle_name,
        last_name=p.last_name,
        credential=p.credential,
        organisation_name=p.organisation_name,
        taxonomies=[_taxonomy(t.code, t.is_primary) for t in details.taxonomies],
        languages=details.languages,
        accepting_new_patients=p.accepting_new_patients,
        credentialing_status=p.credentialing_status,
        credentialing_effective_on=p.credentialing_effective_on,
        recredentialing_due_on=p.recredentialing_due_on,
        locations=[s.LocationRead.model_validate(loc, from_attributes=True) for loc in details.locations],
        licences=[s.LicenceRead.model_validate(lic, from_attributes=True) for lic in details.licences],
        affiliations=[s.AffiliationRead.model_validate(a, from_attributes=True) for a in details.affiliations],
    )


def _document(document: Any) -> s.DocumentRead:
    return s.DocumentRead(
        id=document.id,
        kind=document.kind,
        file_name=document.file_name,
        content_type=document.content_type,
        size_bytes=document.size_bytes,
        sha256=document.sha256,
        received_at=document.received_at,
        has_file=document.object_key is not None,
    )


def _request(details: service.RequestDetails, today: date) -> s.CredentialingRequestRead:
    req = details.request
    return s.CredentialingRequestRead(
        id=req.id,
        provider_id=req.provider_id,
        kind=req.kind,
        state=req.state,
        opened_at=req.opened_at,
        submitted_at=req.submitted_at,
        decided_at=req.decided_at,
        decided_by=req.decided_by,
        decision_reason=req.decision_reason,
        effective_on=req.effective_on,
        recredentialing_due_on=req.recredentialing_due_on,
        documents=[_document(d) for d in details.documents],
        checklist=[
            s.VerificationRead(
                item=v.item,
                status=v.status,
                due_on=v.due_on,
                overdue=v.status == r.VerificationStatus.PENDING and v.due_on < today,
                source=v.source,
                evidence=v.evidence,
                verified_at=v.verified_at,
                verified_by=v.verified_by,
            )
            for v in details.verifications
        ],
    )


def _contract(uow: UnitOfWork, contract: Any) -> s.ContractRead:
    return s.ContractRead(
        id=contract.id,
        provider_id=contract.provider_id,
        contract_number=contract.contract_number,
        network=contract.network,
        tier=contract.tier,
        fee_schedule_code=service.fee_schedule_code_of(uow, contract.fee_schedule_id),
        effective_from=contract.effective_from,
        effective_to=contract.effective_to,
    )


def _schedule(details: service.FeeScheduleDetails) -> dict[str, Any]:
    sch = details.schedule
    return {
        "id": sch.id,
        "code": sch.code,
        "name": sch.name,
        "kind": sch.kind,
        "currency": sch.currency,
        "percent": s.decimal_text(sch.percent),
        "conversion_factor": s.decimal_text(sch.conversion_factor),
        "base_schedule_code": details.base_code,
        "rate_count": sch.rate_count,
        "loaded_at": sch.loaded_at,
    }


def _money(value: Money | None) -> str | None:
    return value.to_decimal_string() if value is not None else None


# -- registry ----------------------------------------------------------------------------------------
@router.post(
    "/providers",
    status_code=status.HTTP_201_CREATED,
    summary="Register a provider",
    dependencies=[Depends(policy("provider.write"))],
)
def create_provider(request: Request, body: s.ProviderCreate) -> s.ProviderRead:
    with _unit_of_work(request) as uow:
        provider = service.register_provider(uow, body.draft())
        return _provider(service.provider_details(uow, provider.id))


@router.post(
    "/providers/import",
    summary="Bulk import providers from CSV (each row atomic)",
    dependencies=[Depends(policy("provider.write"))],
)
def import_providers(request: Request, csv_text: Annotated[str, Body(media_type="text/csv")]) -> s.ImportResult:
    rows = list(service.read_import_csv(csv_text))
    report = service.ImportReport()
    for start in range(0, len(rows), IMPORT_BATCH_ROWS):
        with _unit_of_work(request) as uow:
            report.merge(service.import_providers(uow, rows[start : start + IMPORT_BATCH_ROWS]))
    return s.ImportResult(
        rows=report.rows,
        imported=report.imported,
        skipped=report.skipped,
        failed=report.failed,
        errors=[s.RowErrorRead(line=e.line, field=e.field, message=e.message, code=e.code) for e in report.errors],
    )


@router.get(
    "/providers/by-npi/{npi}", summary="Find a provider by NPI", dependencies=[Depends(policy("provider.read"))]
)
def get_provider_by_npi(request: Request, npi: str) -> s.ProviderRead:
    with _unit_of_work(request, read_only=True) as uow:
        return _provider(service.provider_details(uow, service.find_provider_id(uow, npi)))


@router.get(
    "/providers/{provider_id}",
    summary="A provider with its registry details",
    dependencies=[Depends(policy("provider.read"))],
)
def get_provider(request: Request, provider_id: uuid.UUID) -> s.ProviderRead:
    with _unit_of_work(request, read_only=True) as uow:
        return _provider(service.provider_details(uow, provider_id))


@router.patch(
    "/providers/{provider_id}",
    summary="Change new-patient acceptance, languages or credential",
    dependencies=[Depends(policy("provider.write"))],
)
def update_provider(request: Request, provider_id: uuid.UUID, body: s.ProviderUpdate) -> s.ProviderRead:
    changes = service.ProviderChanges(
        accepting_new_patients=body.accepting_new_patients,
        languages=tuple(c.strip().lower() for c in body.languages) if body.languages is not None else None,
        credential=body.credential,
    )
    with _unit_of_work(request) as uow:
        service.update_provider(uow, provider_id, changes)
        return _provider(service.provider_details(uow, provider_id))


@router.patch(
    "/providers/{provider_id}/directory",
    summary="Keep a listing current: new-patient acceptance and languages (the provider itself, or staff)",
    dependencies=[Depends(policy("provider_directory.write", resource=OWN_PROVIDER))],
)
def update_directory_listing(
    request: Request, provider_id: uuid.UUID, body: s.DirectoryListingUpdate
) -> s.ProviderRead:
    changes = service.ProviderChanges(
        accepting_new_patients=body.accepting_new_patients,
        languages=tuple(c.strip().lower() for c in body.languages) if body.languages is not None else None,
    )
    with _unit_of_work(request) as uow:
        service.update_provider(uow, provider_id, changes)
        return _provider(service.provider_details(uow, provider_id))


@router.post(
    "/providers/{provider_id}/locations",
    status_code=status.HTTP_201_CREATED,
    summary="Add a location",
    dependencies=[Depends(policy("provider_directory.write", resource=OWN_PROVIDER))],
)
def add_location(request: Request, provider_id: uuid.UUID, body: s.LocationCreate) -> s.LocationRead:
    with _unit_of_work(request) as uow:
        location = service.add_location(uow, provider_id, body.draft())
        return s.LocationRead.model_validate(location, from_attributes=True)


@router.delete(
    "/providers/{provider_id}/locations/{location_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a location",
    dependencies=[Depends(policy("provider_directory.write", resource=OWN_PROVIDER))],
)
def remove_location(request: Request, provider_id: uuid.UUID, location_id: uuid.UUID) -> None:
    with _unit_of_work(request) as uow:
        service.remove_location(uow, provider_id, location_id)


@router.post(
    "/providers/{provider_id}/licences",
    status_code=status.HTTP_201_CREATED,
    summary="Add a state licence",
    dependencies=[Depends(policy("provider.write"))],
)
def add_licence(request: Request, provider_id: uuid.UUID, body: s.LicenceCreate) -> s.LicenceRead:
    with _unit_of_work(request) as uow:
        licence = service.add_licence(uow, provider_id, body.draft())
        return s.LicenceRead.model_validate(licence, from_attributes=True)


@router.post(
    "/provider-licences/{licence_id}/renewal",
    summary="Record a licence's new expiry date",
    dependencies=[Depends(policy("provider.write"))],
)
def renew_licence(request: Request, licence_id: uuid.UUID, body: s.LicenceRenew) -> s.LicenceRead:
    with _unit_of_work(request) as uow:
        licence = service.renew_licence(uow, licence_id, body.expires_on)
        return s.LicenceRead.model_validate(licence, from_attributes=True)


@router.post(
    "/providers/{provider_id}/affiliations",
    status_code=status.HTTP_201_CREATED,
    summary="Affiliate an individual with an organisation",
    dependencies=[Depends(policy("provider.write"))],
)
def add_affiliation(request: Request, provider_id: uuid.UUID, body: s.AffiliationCreate) -> s.AffiliationRead:
    with _unit_of_work(request) as uow:
        affiliation = service.add_affiliation(
            uow, provider_id, body.organisation_id, role=body.role, start_on=body.start_on, end_on=body.end_on
        )
        return s.AffiliationRead.model_validate(affiliation, from_attributes=True)


@router.post(
    "/provider-affiliations/{affiliation_id}/end",
    summary="End an affiliation",
    dependencies=[Depends(policy("provider.write"))],
)
def end_affiliation(request: Request, affiliation_id: uuid.UUID, body: s.AffiliationEnd) -> s.AffiliationRead:
    with _unit_of_work(request) as uow:
        affiliation = service.end_affiliation(uow, affiliation_id, body.end_on)
        return s.AffiliationRead.model_validate(affiliation, from_attributes=True)


@router.get(
    "/provider-taxonomies",
    summary="Look up NUCC taxonomy codes by code or words",
    dependencies=[Depends(policy("provider.read"))],
)
def search_taxonomies(
    q: Annotated[str | None, Query(max_length=100)] = None,
    section: Annotated[str | None, Query(pattern="^(Individual|Non-Individual)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[s.TaxonomyRead]:
    return [_taxonomy(t.code) for t in service.search_taxonomies(q, section=section, limit=limit)]


# -- credentialing -------------------------------------------------------------------------------------
@router.post(
    "/providers/{provider_id}/credentialing-requests",
    status_code=status.HTTP_201_CREATED,
    summary="Open a credentialing application (initial or recredentialing)",
    dependencies=[Depends(policy("credentialing.apply", resource=OWN_PROVIDER))],
)
def open_credentialing(request: Request, provider_id: uuid.UUID) -> s.CredentialingRequestRead:
    with _unit_of_work(request) as uow:
        req = service.open_credentialing(uow, provider_id)
        return _request(service.request_details(uow, req.id), uow.clock.today())


@router.get(
    "/credentialing-requests/{request_id}",
    summary="A credentialing request with documents and checklist",
    dependencies=[Depends(policy("credentialing.read", resource=OWN_REQUEST))],
)
def get_credentialing_request(request: Request, request_id: uuid.UUID) -> s.CredentialingRequestRead:
    with _unit_of_work(request, read_only=True) as uow:
        return _request(service.request_details(uow, request_id), uow.clock.today())


@router.post(
    "/credentialing-requests/{request_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Record a document received with the application (metadata)",
    dependencies=[Depends(policy("credentialing.apply", resource=OWN_REQUEST))],
)
def add_document(request: Request, request_id: uuid.UUID, body: s.DocumentCreate) -> s.DocumentRead:
    metadata = service.DocumentMetadata(body.kind, body.file_name, body.content_type, body.size_bytes, body.sha256)
    with _unit_of_work(request) as uow:
        return _document(service.add_document(uow, request_id, metadata))


@router.post(
    "/credentialing-requests/{request_id}/documents/files",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document of the application: its bytes are stored encrypted (PDF, JPEG or PNG)",
    dependencies=[Depends(policy("credentialing.apply", resource=OWN_REQUEST))],
)
async def upload_document(
    request: Request,
    request_id: uuid.UUID,
    kind: Annotated[r.DocumentKind, Form()],
    file: Annotated[UploadFile, File(description=f"PDF, JPEG or PNG, at most {r.MAX_DOCUMENT_BYTES} bytes")],
) -> s.DocumentRead:
    # One byte past the limit is enough to refuse the file without reading the rest.
    content = await file.read(r.MAX_DOCUMENT_BYTES + 1)

    def work() -> s.DocumentRead:
        with _unit_of_work(request) as uow:
            return _document(service.store_document(uow, request_id, kind, file.filename, content))

    return await run_in_threadpool(work)


@router.get(
    "/credentialing-requests/{request_id}/documents/{document_id}/content",
    summary="An uploaded document's file, as it was received",
    response_class=Response,
    responses={200: {"content": {content_type: {} for content_type in filetypes.EXTENSIONS}}},
    dependencies=[Depends(policy("credentialing.read", resource=OWN_REQUEST))],
)
def document_content(request: Request, request_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    with _unit_of_work(request, read_only=True) as uow:
        found = service.document_file(uow, request_id, document_id)
    return Response(
        found.content,
        media_type=found.document.content_type,
        headers={
            "Content-Disposition": content_disposition(found.document.file_name),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(file_name: str) -> str:
    """``attachment`` with the file's name: an ASCII fallback (quotes, backslashes and anything
    outside printable ASCII replaced) and the exact name in RFC 5987 form for clients that read it."""
    fallback = "".join(c if " " <= c <= "~" and c not in '\\"' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.post(
    "/credentialing-requests/{request_id}/submission",
    summary="Submit the application for verification",
    dependencies=[Depends(policy("credentialing.apply", resource=OWN_REQUEST))],
)
def submit_application(request: Request, request_id: uuid.UUID) -> s.CredentialingRequestRead:
    with _unit_of_work(request) as uow:
        service.submit_application(uow, request_id)
        return _request(service.request_details(uow, request_id), uow.clock.today())


@router.put(
    "/credentialing-requests/{request_id}/checklist/{item}",
    summary="Record a primary-source verification result",
    dependencies=[Depends(policy("credentialing.write"))],
)
def record_verification(
    request: Request, request_id: uuid.UUID, item: r.VerificationItem, body: s.VerificationUpdate
) -> s.CredentialingRequestRead:
    with _unit_of_work(request) as uow:
        service.record_verification(
            uow,
            request_id,
            item,
            r.VerificationStatus(body.status),
            source=body.source,
            evidence=body.evidence,
            actor=body.verified_by,
        )
        return _request(service.request_details(uow, request_id), uow.clock.today())


@router.post(
    "/credentialing-requests/{request_id}/decision",
    summary="The credentialing committee's decision",
    dependencies=[Depends(policy("credentialing.write"))],
)
def decide(request: Request, request_id: uuid.UUID, body: s.DecisionCreate) -> s.CredentialingRequestRead:
    with _unit_of_work(request) as uow:
        service.decide(
            uow, request_id, body.decision, actor=body.decided_by, reason=body.reason, effective_on=body.effective_on
        )
        return _request(service.request_details(uow, request_id), uow.clock.today())


@router.post(
    "/credentialing-requests/{request_id}/withdrawal",
    summary="Withdraw an open application",
    dependencies=[Depends(policy("credentialing.apply", resource=OWN_REQUEST))],
)
def withdraw(request: Request, request_id: uuid.UUID) -> s.CredentialingRequestRead:
    with _unit_of_work(request) as uow:
        service.withdraw_request(uow, request_id)
        return _request(service.request_details(uow, request_id), uow.clock.today())


@router.post(
    "/providers/{provider_id}/sanctions",
    status_code=status.HTTP_201_CREATED,
    summary="Record a sanction (suspends an approved provider)",
    dependencies=[Depends(policy("credentialing.write"))],
)
def record_sanction(request: Request, provider_id: uuid.UUID, body: s.SanctionCreate) -> s.SanctionRead:
    with _unit_of_work(request) as uow:
        sanction = service.record_sanction(
            uow, provider_id, body.source, body.reference, body.effective_on, actor=body.recorded_by
        )
        return s.SanctionRead.model_validate(sanction, from_attributes=True)


@router.post(
    "/provider-sanctions/{sanction_id}/lift",
    summary="Lift a sanction (reinstatement needs a new decision)",
    dependencies=[Depends(policy("credentialing.write"))],
)
def lift_sanction(request: Request, sanction_id: uuid.UUID, body: s.SanctionLift) -> s.SanctionRead:
    with _unit_of_work(request) as uow:
        sanction = service.lift_sanction(uow, sanction_id, body.lifted_on)
        return s.SanctionRead.model_validate(sanction, from_attributes=True)


@router.get(
    "/providers/{provider_id}/credentialing",
    summary="Credentialing timeline: changes, reminders, timers",
    dependencies=[Depends(policy("credentialing.read", resource=OWN_PROVIDER))],
)
def credentialing_timeline(request: Request, provider_id: uuid.UUID) -> s.TimelineRead:
    with _unit_of_work(request, read_only=True) as uow:
        timeline = service.credentialing_timeline(uow, provider_id)
        today = uow.clock.today()
        return s.TimelineRead(
            provider_id=timeline.provider.id,
            credentialing_status=timeline.provider.credentialing_status,
            status_changes=[
                s.StatusChangeRead.model_validate(c, from_attributes=True) for c in timeline.status_changes
            ],
            reminders=[s.ReminderRead.model_validate(x, from_attributes=True) for x in timeline.reminders],
            timers=[s.TimerRead.model_validate(t, from_attributes=True) for t in timeline.timers],
            requests=[_request(d, today) for d in timeline.requests],
        )


@router.post(
    "/credentialing-timers/run",
    summary="Fire the credentialing timers that are due (operations)",
    dependencies=[Depends(policy("credentialing.write"))],
)
def run_timers(request: Request) -> s.TimerRunRead:
    with _unit_of_work(request) as uow:
        report = service.run_due_timers(uow, uow.clock.now())
    return s.TimerRunRead(
        fired=report.fired,
        status_changes=report.status_changes,
        reminders=report.reminders,
        requests_opened=report.requests_opened,
        failed=report.failed,
    )


# -- contracts, fee schedules, pricing -------------------------------------------------------------------
@router.post(
    "/providers/{provider_id}/contracts",
    status_code=status.HTTP_201_CREATED,
    summary="Add a network contract",
    dependencies=[Depends(policy("contract.write"))],
)
def create_contract(request: Request, provider_id: uuid.UUID, body: s.ContractCreate) -> s.ContractRead:
    draft = service.ContractDraft(
        provider_id,
        body.contract_number,
        body.network,
        body.tier,
        body.effective_from,
        body.effective_to,
        body.fee_schedule_code,
    )
    with _unit_of_work(request) as uow:
        return _contract(uow, service.create_contract(uow, draft))


@router.get(
    "/providers/{provider_id}/contracts",
    summary="A provider's contracts",
    dependencies=[Depends(policy("contract.read", resource=OWN_PROVIDER))],
)
def list_contracts(request: Request, provider_id: uuid.UUID) -> list[s.ContractRead]:
    with _unit_of_work(request, read_only=True) as uow:
        return [_contract(uow, c) for c in service.contracts_of(uow, provider_id)]


@router.patch(
    "/provider-contracts/{contract_id}",
    summary="Amend a contract (tier, fee schedule, end date)",
    dependencies=[Depends(policy("contract.write"))],
)
def amend_contract(request: Request, contract_id: uuid.UUID, body: s.ContractAmend) -> s.ContractRead:
    amendment = service.ContractAmendment(body.tier, body.fee_schedule_code, body.effective_to, body.clear_effective_to)
    with _unit_of_work(request) as uow:
        return _contract(uow, service.amend_contract(uow, contract_id, amendment))


@router.post(
    "/provider-contracts/{contract_id}/termination",
    summary="Terminate a contract after a last day",
    dependencies=[Depends(policy("contract.write"))],
)
def terminate_contract(request: Request, contract_id: uuid.UUID, body: s.ContractTerminate) -> s.ContractRead:
    with _unit_of_work(request) as uow:
        return _contract(uow, service.terminate_contract(uow, contract_id, body.last_day))


@router.get(
    "/providers/{provider_id}/network-status",
    summary="Network standing on a date",
    dependencies=[Depends(policy("provider.read"))],
)
def get_network_status(
    request: Request, provider_id: uuid.UUID, on: date, network: Annotated[str | None, Query(max_length=40)] = None
) -> s.NetworkStatusRead:
    with _unit_of_work(request, read_only=True) as uow:
        details = service.provider_details(uow, provider_id)
        decision = service.network_decision(uow, details.provider, on, network.upper() if network else None)
        chosen = decision.membership
        return s.NetworkStatusRead(
            provider_id=provider_id,
            on=on,
            status=decision.status.value,
            reason=decision.reason,
            credentialing_status=details.provider.credentialing_status,
            network=chosen.network if chosen else None,
            tier=chosen.tier if chosen else None,
            contract_id=chosen.contract_id if chosen else None,
            via_organisation_id=chosen.via_organisation_id if chosen else None,
            memberships=[
                s.MembershipRead(
                    contract_id=x.contract_id,
                    via_organisation_id=x.via_organisation_id,
                    network=x.network,
                    tier=x.tier,
                    effective_from=x.effective_from,
                    effective_to=x.effective_to,
                )
                for x in service.memberships(uow, provider_id)
            ],
        )


@router.post(
    "/providers/{provider_id}/price-quote",
    summary="Price one claim line under the provider's contract",
    dependencies=[Depends(policy("contract.write"))],
)
def price_quote(request: Request, provider_id: uuid.UUID, body: s.PriceQuoteRequest) -> s.PriceQuoteRead:
    line = r.ServiceToPrice(
        code=body.code.upper(),
        billed=Money.parse(body.billed, body.currency.upper()),
        units=body.units,
        modifiers=tuple(x.upper() for x in body.modifiers),
        admission_date=body.admission_date,
        discharge_date=body.discharge_date,
    )
    with _unit_of_work(request, read_only=True) as uow:
        quote = service.quote_price(
            uow, provider_id, body.on, line, network=body.network.upper() if body.network else None
        )
    pricing = quote.pricing
    return s.PriceQuoteRead(
        provider_id=quote.provider_id,
        on=body.on,
        network_status=quote.network_status.value,
        network_reason=quote.network_reason,
        network=quote.network,
        tier=quote.tier,
        contract_id=quote.contract_id,
        fee_schedule_code=quote.fee_schedule_code,
        pricing=s.PricingRead(
            outcome=pricing.outcome.value,
            billed=pricing.billed.to_decimal_string(),
            contract_rate=_money(pricing.contract_rate),
            allowed=_money(pricing.allowed),
            write_off=_money(pricing.write_off),
            formula=pricing.formula,
        )
        if pricing
        else None,
    )


@router.post(
    "/fee-schedules",
    status_code=status.HTTP_201_CREATED,
    summary="Load a fee schedule from CSV (all or nothing)",
    dependencies=[Depends(policy("contract.write"))],
)
def load_fee_schedule(
    request: Request,
    csv_text: Annotated[str, Body(media_type="text/csv")],
    code: Annotated[str, Query(min_length=1, max_length=40)],
    name: Annotated[str, Query(min_length=1, max_length=200)],
    kind: r.FeeScheduleKind,
    currency: Annotated[str, Query(min_length=3, max_length=3)] = "USD",
    percent: Annotated[str | None, Query(pattern=r"^\d+(\.\d{1,4})?$")] = None,
    conversion_factor: Annotated[str | None, Query(alias="conversionFactor", pattern=r"^\d+(\.\d{1,4})?$")] = None,
    base_schedule: Annotated[str | None, Query(alias="baseSchedule", max_length=40)] = None,
) -> s.FeeScheduleRead:
    header = service.FeeScheduleHeader(
        code=code,
        name=name,
        kind=kind,
        currency=currency.upper(),
        percent=Decimal(percent) if percent else None,
        conversion_factor=Decimal(conversion_factor) if conversion_factor else None,
        base_schedule_code=base_schedule,
    )
    with _unit_of_work(request) as uow:
        loaded = service.load_fee_schedule(uow, header, service.read_rate_csv(csv_text))
        return s.FeeScheduleRead(**_schedule(service.fee_schedule_details(uow, loaded.code, with_rates=False)))


@router.get("/fee-schedules", summary="Fee schedules (without rates): staff see all, a provider its own")
def list_fee_schedules(request: Request, access: Access = Depends(policy("contract.read"))) -> list[s.FeeScheduleRead]:
    owners = None if access.scope.everything else access.scope.provider_ids
    with _unit_of_work(request, read_only=True) as uow:
        return [s.FeeScheduleRead(**_schedule(d)) for d in service.list_fee_schedules(uow, owners)]


@router.get(
    "/fee-schedules/{code}",
    summary="A fee schedule with its rates (staff; a provider whose contracts price with it)",
    dependencies=[Depends(policy("contract.read", resource=OWN_SCHEDULE))],
)
def get_fee_schedule(request: Request, code: str) -> s.FeeScheduleDetail:
    with _unit_of_work(request, read_only=True) as uow:
        details = service.fee_schedule_details(uow, code)
        currency = details.schedule.currency
        return s.FeeScheduleDetail(
            **_schedule(details),
            rates=[
                s.RateRead(
                    code=x.code,
                    modifier=x.modifier,
                    amount=Money(x.amount_minor, currency).to_decimal_string() if x.amount_minor is not None else None,
                    relative_value=s.decimal_text(x.relative_value),
                    percent=s.decimal_text(x.percent),
                )
                for x in details.rates
            ],
        )


# -- directory (public, no PHI) ---------------------------------------------------------------------------
@router.get(
    "/provider-directory",
    tags=["directory"],
    summary="Search the public provider directory",
    dependencies=[Depends(public("the public provider directory holds no PHI"))],
)
def search_directory(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="names, specialties, taxonomy")] = None,
    zip: Annotated[str | None, Query(max_length=10)] = None,
    latitude: Annotated[float | None, Query(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_miles: Annotated[float | None, Query(alias="radiusMiles", gt=0, le=200)] = None,
    language: Annotated[str | None, Query(max_length=3)] = None,
    accepting_new_patients: Annotated[bool | None, Query(alias="acceptingNewPatients")] = None,
    network: Annotated[str | None, Query(max_length=40)] = None,
    kind: r.ProviderKind | None = None,
    on: date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=50)] = 20,
) -> s.DirectoryPageRead:
    query = service.DirectoryQuery(
        text=q,
        zip=zip,
        latitude=latitude,
        longitude=longitude,
        radius_miles=radius_miles,
        language=language.lower() if language else None,
        accepting_new_patients=accepting_new_patients,
        network=network.upper() if network else None,
        kind=kind,
        on=on,
        page=page,
        page_size=page_size,
    )
    with _unit_of_work(request, read_only=True) as uow:
        found = service.search_directory(uow, query)
    return s.DirectoryPageRead(
        results=[
            s.DirectoryListingRead(
                provider_id=x.provider_id,
                npi=x.npi,
                kind=x.kind,
                name=x.name,
                specialties=list(x.specialties),
                languages=list(x.languages),
                accepting_new_patients=x.accepting_new_patients,
                organisations=list(x.organisations),
                networks=[s.DirectoryNetwork(network=n, tier=t) for n, t in x.networks],
                location=s.DirectoryLocation(
                    id=x.location_id,
                    name=x.location_name,
                    address_line1=x.address_line1,
                    city=x.city,
                    state=x.state,
                    zip=x.zip,
                    phone=x.phone,
                    latitude=x.latitude,
                    longitude=x.longitude,
                ),
                distance_miles=x.distance_miles,
            )
            for x in found.results
        ],
        total=found.total,
        total_is_exact=found.total_is_exact,
        page=found.page,
        page_size=found.page_size,
    )
