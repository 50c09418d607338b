"""Request and response models of the provider API (camelCase on the wire, money as decimal strings)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from olly.provider import rules as r


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# -- registry ------------------------------------------------------------------------------------
class LocationCreate(Schema):
    address_line1: str = Field(max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    city: str = Field(max_length=100)
    state: str = Field(min_length=2, max_length=2)
    zip: str = Field(max_length=10)
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=20)
    latitude: float | None = None
    longitude: float | None = None

    def draft(self) -> r.LocationDraft:
        return r.LocationDraft(
            address_line1=self.address_line1,
            address_line2=self.address_line2,
            city=self.city,
            state=self.state.upper(),
            zip=self.zip,
            name=self.name,
            phone=self.phone,
            latitude=self.latitude,
            longitude=self.longitude,
        )


class LocationRead(Schema):
    id: uuid.UUID
    name: str | None
    address_line1: str
    address_line2: str | None
    city: str
    state: str
    zip: str
    phone: str | None
    latitude: float | None
    longitude: float | None


class LicenceCreate(Schema):
    state: str = Field(min_length=2, max_length=2)
    number: str = Field(max_length=40)
    expires_on: date
    licence_type: str | None = Field(None, max_length=40)
    issued_on: date | None = None

    def draft(self) -> r.LicenceDraft:
        return r.LicenceDraft(self.state.upper(), self.number, self.expires_on, self.licence_type, self.issued_on)


class LicenceRead(Schema):
    id: uuid.UUID
    state: str
    number: str
    licence_type: str | None
    issued_on: date | None
    expires_on: date
    revoked_on: date | None


class LicenceRenew(Schema):
    expires_on: date


class ProviderCreate(Schema):
    npi: str = Field(min_length=1, max_length=10)
    kind: r.ProviderKind
    first_name: str | None = Field(None, max_length=80)
    middle_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    credential: str | None = Field(None, max_length=20)
    organisation_name: str | None = Field(None, max_length=200)
    taxonomy_codes: list[str] = Field(min_length=1, max_length=15)
    languages: list[str] = Field(default_factory=list, max_length=30)
    accepting_new_patients: bool = True
    locations: list[LocationCreate] = Field(default_factory=list, max_length=50)
    licences: list[LicenceCreate] = Field(default_factory=list, max_length=60)
    organisation_npi: str | None = Field(None, max_length=10)

    def draft(self) -> r.ProviderDraft:
        return r.ProviderDraft(
            npi=self.npi,
            kind=self.kind,
            first_name=self.first_name,
            middle_name=self.middle_name,
            last_name=self.last_name,
            credential=self.credential,
            organisation_name=self.organisation_name,
            taxonomy_codes=tuple(c.strip().upper() for c in self.taxonomy_codes),
            languages=tuple(c.strip().lower() for c in self.languages),
            accepting_new_patients=self.accepting_new_patients,
            locations=tuple(loc.draft() for loc in self.locations),
            licences=tuple(lic.draft() for lic in self.licences),
            organisation_npi=self.organisation_npi,
        )


class ProviderUpdate(Schema):
    accepting_new_patients: bool | None = None
    languages: list[str] | None = Field(None, max_length=30)
    credential: str | None = Field(None, max_length=20)


class DirectoryListingUpdate(Schema):
    """What a provider user may change on its own listing (locations have their own routes)."""

    accepting_new_patients: bool | None = None
    languages: list[str] | None = Field(None, max_length=30)


class TaxonomyRead(Schema):
    code: str
    display_name: str
    classification: str
    specialization: str | None
    specialty: str
    section: str
    is_primary: bool | None = None


class AffiliationCreate(Schema):
    organisation_id: uuid.UUID
    role: str = Field("MEMBER", max_length=40)
    start_on: date | None = None
    end_on: date | None = None


class AffiliationEnd(Schema):
    end_on: date


class AffiliationRead(Schema):
    id: uuid.UUID
    organisation_id: uuid.UUID
    role: str
    start_on: date
    end_on: date | None


class ProviderRead(Schema):
    id: uuid.UUID
    npi: str
    kind: str
    name: str
    first_name: str | None
    middle_name: str | None
    last_name: str | None
    credential: str | None
    organisation_name: str | None
    taxonomies: list[TaxonomyRead]
    languages: list[str]
    accepting_new_patients: bool
    credentialing_status: str
    credentialing_effective_on: date | None
    recredentialing_due_on: date | None
    locations: list[LocationRead]
    licences: list[LicenceRead]
    affiliations: list[AffiliationRead]


class RowErrorRead(Schema):
    line: int
    field: str
    message: str
    code: str


class ImportResult(Schema):
    rows: int
    imported: int
    skipped: int
    failed: int
    errors: list[RowErrorRead]


# -- credentialing ---------------------------------------------------------------------------------
class DocumentCreate(Schema):
    """Metadata of a document held elsewhere (a paper file, another system); an uploaded file goes
    to ``POST …/documents/files`` instead, which stores its bytes."""

    kind: r.DocumentKind
    file_name: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)


class DocumentRead(Schema):
    id: uuid.UUID
    kind: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    received_at: datetime
    has_file: bool = Field(
        description="the bytes are stored (GET …/documents/{document_id}/content); false: recorded by metadata only"
    )


class VerificationUpdate(Schema):
    status: Literal["VERIFIED", "FAILED", "NOT_APPLICABLE"]
    source: str | None = Field(None, max_length=200)
    evidence: str | None = Field(None, max_length=4000)
    verified_by: str = Field(min_length=1, max_length=100)


class VerificationRead(Schema):
    item: str
    status: str
    due_on: date
    overdue: bool
    source: str | None
    evidence: str | None
    verified_at: datetime | None
    verified_by: str | None


class DecisionCreate(Schema):
    decision: r.CommitteeDecision
    decided_by: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(None, max_length=4000)
    effective_on: date | None = None


class CredentialingRequestRead(Schema):
    id: uuid.UUID
    provider_id: uuid.UUID
    kind: str
    state: str
    opened_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    effective_on: date | None
    recredentialing_due_on: date | None
    documents: list[DocumentRead]
    checklist: list[VerificationRead]


class SanctionCreate(Schema):
    source: r.SanctionSource
    reference: str = Field(min_length=1, max_length=200)
    effective_on: date
    recorded_by: str = Field(min_length=1, max_length=100)


class SanctionLift(Schema):
    lifted_on: date


class SanctionRead(Schema):
    id: uuid.UUID
    source: str
    reference: str
    effective_on: date
    lifted_on: date | None
    recorded_at: datetime


class StatusChangeRead(Schema):
    from_status: str
    to_status: str
    reason: str
    changed_at: datetime
    actor: str
    request_id: uuid.UUID | None


class ReminderRead(Schema):
    days_before: int
    recredentialing_due_on: date
    sent_at: datetime


class TimerRead(Schema):
    kind: str
    due_at: datetime
    status: str
    days_before: int | None
    fired_at: datetime | None
    outcome: str | None


class TimelineRead(Schema):
    provider_id: uuid.UUID
    credentialing_status: str
    status_changes: list[StatusChangeRead]
    reminders: list[ReminderRead]
    timers: list[TimerRead]
    requests: list[CredentialingRequestRead]


class TimerRunRead(Schema):
    fired: int
    status_changes: int
    reminders: int
    requests_opened: int
    failed: int


# -- contracts, fee schedules, pricing ------------------------------------------------------------
class ContractCreate(Schema):
    contract_number: str = Field(min_length=1, max_length=40)
    network: str = Field(min_length=1, max_length=40)
    tier: str = Field(min_length=1, max_length=20)
    effective_from: date
    effective_to: date | None = None
    fee_schedule_code: str | None = Field(None, max_length=40)


class ContractAmend(Schema):
    tier: str | None = Field(None, max_length=20)
    fee_schedule_code: str | None = Field(None, max_length=40)
    effective_to: date | None = None
    clear_effective_to: bool = False


class ContractTerminate(Schema):
    last_day: date


class ContractRead(Schema):
    id: uuid.UUID
    provider_id: uuid.UUID
    contract_number: str
    network: str
    tier: str
    fee_schedule_code: str | None
    effective_from: date
    effective_to: date | None


class MembershipRead(Schema):
    contract_id: uuid.UUID
    via_organisation_id: uuid.UUID | None
    network: str
    tier: str
    effective_from: date
    effective_to: date | None


class NetworkStatusRead(Schema):
    provider_id: uuid.UUID
    on: date
    status: str
    reason: str
    credentialing_status: str
    network: str | None
    tier: str | None
    contract_id: uuid.UUID | None
    via_organisation_id: uuid.UUID | None
    memberships: list[MembershipRead]


class FeeScheduleRead(Schema):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    currency: str
    percent: str | None
    conversion_factor: str | None
    base_schedule_code: str | None
    rate_count: int
    loaded_at: datetime


class RateRead(Schema):
    code: str
    modifier: str
    amount: str | None
    relative_value: str | None
    percent: str | None


class FeeScheduleDetail(FeeScheduleRead):
    rates: list[RateRead]


class PriceQuoteRequest(Schema):
    on: date
    code: str = Field(min_length=4, max_length=5)
    billed: str = Field(description="decimal string such as 250.00")
    currency: str = Field("USD", min_length=3, max_length=3)
    units: int = Field(1, ge=1, le=9999)
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    admission_date: date | None = None
    discharge_date: date | None = None
    network: str | None = Field(None, max_length=40)


class PricingRead(Schema):
    outcome: str
    billed: str
    contract_rate: str | None
    allowed: str | None
    write_off: str | None
    formula: str


class PriceQuoteRead(Schema):
    provider_id: uuid.UUID
    on: date
    network_status: str
    network_reason: str
    network: str | None
    tier: str | None
    contract_id: uuid.UUID | None
    fee_schedule_code: str | None
    pricing: PricingRead | None


# -- directory -------------------------------------------------------------------------------------
class DirectoryLocation(Schema):
    id: uuid.UUID | None
    name: str | None
    address_line1: str | None
    city: str | None
    state: str | None
    zip: str | None
    phone: str | None
    latitude: float | None
    longitude: float | None


class DirectoryNetwork(Schema):
    network: str
    tier: str


class DirectoryListingRead(Schema):
    provider_id: uuid.UUID
    npi: str
    kind: str
    name: str
    specialties: list[str]
    languages: list[str]
    accepting_new_patients: bool
    organisations: list[str]
    networks: list[DirectoryNetwork]
    location: DirectoryLocation
    distance_miles: float | None


class DirectoryPageRead(Schema):
    results: list[DirectoryListingRead]
    total: int
    total_is_exact: bool
    page: int
    page_size: int


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
