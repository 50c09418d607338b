"""Factories for provider data, for this domain's tests and for other domains' tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import date

from olly.platform.db import UnitOfWork
from olly.provider import rules as r
from olly.provider import service

_payloads = itertools.count(100_000_001)


def next_npi() -> str:
    """A fresh NPI with a valid check digit."""
    return r.npi_with_check_digit(f"{next(_payloads):09d}")


def individual(
    *,
    npi: str | None = None,
    first_name: str = "Jane",
    last_name: str = "Smith",
    credential: str | None = "MD",
    taxonomy_codes: tuple[str, ...] = ("207X00000X",),
    languages: tuple[str, ...] = ("en",),
    accepting_new_patients: bool = True,
    zip_code: str = "10001",
    state: str = "NY",
    city: str = "New York",
    latitude: float | None = None,
    longitude: float | None = None,
    licence_expires_on: date = date(2027, 6, 30),
    organisation_npi: str | None = None,
    with_location: bool = True,
) -> r.ProviderDraft:
    locations = (
        (r.LocationDraft("1 Main St", city, state, zip_code, latitude=latitude, longitude=longitude),)
        if with_location
        else ()
    )
    return r.ProviderDraft(
        npi=npi or next_npi(),
        kind=r.ProviderKind.INDIVIDUAL,
        first_name=first_name,
        middle_name=None,
        last_name=last_name,
        credential=credential,
        organisation_name=None,
        taxonomy_codes=taxonomy_codes,
        languages=languages,
        accepting_new_patients=accepting_new_patients,
        locations=locations,
        licences=(r.LicenceDraft(state, f"LIC-{uuid.uuid4().hex[:8]}", licence_expires_on),),
        organisation_npi=organisation_npi,
    )


def organisation(
    *,
    npi: str | None = None,
    name: str = "Hudson Orthopaedic Group",
    taxonomy_codes: tuple[str, ...] = ("193400000X",),
    zip_code: str = "10016",
    state: str = "NY",
    licence_expires_on: date = date(2027, 6, 30),
) -> r.ProviderDraft:
    return r.ProviderDraft(
        npi=npi or next_npi(),
        kind=r.ProviderKind.ORGANISATION,
        first_name=None,
        middle_name=None,
        last_name=None,
        credential=None,
        organisation_name=name,
        taxonomy_codes=taxonomy_codes,
        languages=(),
        accepting_new_patients=True,
        locations=(r.LocationDraft("500 Park Ave", "New York", state, zip_code),),
        licences=(r.LicenceDraft(state, f"FAC-{uuid.uuid4().hex[:8]}", licence_expires_on),),
    )


REQUIRED_DOCUMENTS = (r.DocumentKind.APPLICATION_FORM, r.DocumentKind.ATTESTATION)


def document(kind: r.DocumentKind) -> service.DocumentMetadata:
    return service.document_metadata(kind, f"{kind.lower()}.pdf", "application/pdf", f"{kind} content".encode())


def complete_verification(uow: UnitOfWork, request_id: uuid.UUID, *, actor: str = "verifier@olly") -> None:
    """Add the required documents, submit, and verify every pending checklist item."""
    for kind in REQUIRED_DOCUMENTS:
        service.add_document(uow, request_id, document(kind))
    service.submit_application(uow, request_id)
    for item in r.VerificationItem:
        details = service.request_details(uow, request_id)
        entry = next(v for v in details.verifications if v.item == item)
        if entry.status == r.VerificationStatus.PENDING:
            service.record_verification(
                uow,
                request_id,
                item,
                r.VerificationStatus.VERIFIED,
                source="primary source",
                evidence=f"{item} ok",
                actor=actor,
            )


def credential(uow: UnitOfWork, provider_id: uuid.UUID, *, actor: str = "committee@olly") -> uuid.UUID:
    """Take a provider through a whole credentialing cycle to APPROVED; returns the request id."""
    request = service.open_credentialing(uow, provider_id)
    complete_verification(uow, request.id)
    service.decide(uow, request.id, r.CommitteeDecision.APPROVE, actor=actor)
    return request.id
