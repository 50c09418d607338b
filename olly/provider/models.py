"""Tables of the provider domain (PostgreSQL schema ``provider``; every row tenant-scoped).

Registry: providers (individuals and organisations), taxonomies, languages, licences, locations,
affiliations. Credentialing: requests, documents (metadata; uploaded bytes live in the object
store), verification checklist, status history, reminders, durable timers, sanctions. Contracting:
contracts, derived network memberships, fee schedules and their rates. Directory: one
denormalised, searchable entry per provider location.

Engine-specific search objects (the SQLite FTS5 table and its triggers, PostgreSQL's tsvector column
and GIN indexes) are created by the migration only; ``info["engine_only"]`` names them so the
models-vs-migrations check knows they are intended.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from olly.platform.db import Base, TenantScoped, new_id

SCHEMA = "provider"


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as its canonical text (SQLite has no exact NUMERIC)."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError("DecimalText stores Decimal values only")
        return format(value, "f")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _args(*items: Any, info: dict[str, Any] | None = None) -> tuple[Any, ...]:
    options: dict[str, Any] = {"schema": SCHEMA}
    if info:
        options["info"] = info
    return (*items, options)


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------
class Provider(TenantScoped, Base):
    __tablename__ = "providers"
    __table_args__ = _args(UniqueConstraint("tenant_id", "npi"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    npi: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    first_name: Mapped[str | None] = mapped_column(String(80))
    middle_name: Mapped[str | None] = mapped_column(String(80))
    last_name: Mapped[str | None] = mapped_column(String(80))
    credential: Mapped[str | None] = mapped_column(String(20))
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    accepting_new_patients: Mapped[bool] = mapped_column(Boolean)
    credentialing_status: Mapped[str] = mapped_column(String(20))
    credentialing_effective_on: Mapped[date | None] = mapped_column(Date)
    approved_at: Mapped[datetime | None]
    recredentialing_due_on: Mapped[date | None] = mapped_column(Date)
    current_request_id: Mapped[uuid.UUID | None]
    """The approved CredentialingRequest the provider's standing rests on."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProviderTaxonomy(TenantScoped, Base):
    __tablename__ = "provider_taxonomies"
    __table_args__ = _args(UniqueConstraint("provider_id", "code"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    is_primary: Mapped[bool] = mapped_column(Boolean)


class ProviderLanguage(TenantScoped, Base):
    __tablename__ = "provider_languages"
    __table_args__ = _args(UniqueConstraint("provider_id", "language"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    language: Mapped[str] = mapped_column(String(3))


class ProviderLicence(TenantScoped, Base):
    __tablename__ = "provider_licences"
    __table_args__ = _args(UniqueConstraint("provider_id", "state", "number"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    state: Mapped[str] = mapped_column(String(2))
    number: Mapped[str] = mapped_column(String(40))
    licence_type: Mapped[str | None] = mapped_column(String(40))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProviderLocation(TenantScoped, Base):
    __tablename__ = "provider_locations"

    __table_args__ = _args()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    zip: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(20))
    # Coordinates are geometry, not money: binary floating point is precise enough (a metre is 1e-5°).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]


class ProviderAffiliation(TenantScoped, Base):
    """An individual's membership of an organisation (a group practice, a hospital's medical staff)."""

    __tablename__ = "provider_affiliations"
    __table_args__ = _args()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------
# Credentialing
# ---------------------------------------------------------------------------------------------
class CredentialingRequest(TenantScoped, Base):
    __tablename__ = "credentialing_requests"
    __table_args__ = _args()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    opened_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    effective_on: Mapped[date | None] = mapped_column(Date)
    recredentialing_due_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime]


class CredentialingDocument(TenantScoped, Base):
    """A document received with an application: its metadata, and the key of its encrypted bytes in
    the object store when they were uploaded (None: a document held elsewhere, recorded by metadata)."""

    __tablename__ = "credentialing_documents"
    __table_args__ = _args()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.credentialing_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime]


class CredentialingVerification(TenantScoped, Base):
    """One primary-source verification checklist item of a request."""

    __tablename__ = "credentialing_verifications"
    __table_args__ = _args(UniqueConstraint("request_id", "item"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.credentialing_requests.id", name="fk_credentialing_verifications_request_id"), index=True
    )
    item: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(100))


class CredentialingStatusChange(TenantScoped, Base):
    """The provider's credentialing timeline: every status change, with its reason."""

    __tablename__ = "credentialing_status_changes"
    __table_args__ = _args()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    request_id: Mapped[uuid.UUID | None]
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))


class CredentialingReminder(TenantScoped, Base):
    """A recredentialing reminder that went out (what a notification service delivers)."""

    __tablename__ = "credentialing_reminders"
    __table_args__ = _args(UniqueConstraint("request_id", "days_before"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.credentialing_requests.id"))
    days_before: Mapped[int] = mapped_column(Integer)
    recredentialing_due_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime]


class CredentialingTimer(TenantScoped, Base):
    """A durable timer: a row that a worker polls and fires when due (survives any restart)."""

    __tablename__ = "credentialing_timers"
    __table_args__ = _args(Index("ix_credentialing_timers_due", "status", "due_at"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    request_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    licence_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(40))
    days_before: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(200))
    fired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ProviderSanction(TenantScoped, Base):
    __tablename__ = "provider_sanctions"
    __table_args__ = _args()

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(200))
    effective_on: Mapped[date] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(100))


# ---------------------------------------------------------------------------------------------
# Contracts, memberships, fee schedules
# ---------------------------------------------------------------------------------------------
class FeeSchedule(TenantScoped, Base):
    __tablename__ = "provider_fee_schedules"
    __table_args__ = _args(UniqueConstraint("tenant_id", "code"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    percent: Mapped[Decimal | None] = mapped_column(DecimalText())
    conversion_factor: Mapped[Decimal | None] = mapped_column(DecimalText())
    base_schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(f"{SCHEMA}.provider_fee_schedules.id", name="fk_provider_fee_schedules_base_schedule_id")
    )
    rate_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime]


class FeeScheduleRate(TenantScoped, Base):
    __tablename__ = "provider_fee_schedule_rates"
    __table_args__ = _args(UniqueConstraint("schedule_id", "code", "modifier"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.provider_fee_schedules.id", name="fk_provider_fee_schedule_rates_schedule_id")
    )
    code: Mapped[str] = mapped_column(String(8))
    modifier: Mapped[str] = mapped_column(String(2))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    relative_value: Mapped[Decimal | None] = mapped_column(DecimalText())
    percent: Mapped[Decimal | None] = mapped_column(DecimalText())


class Contract(TenantScoped, Base):
    __tablename__ = "provider_contracts"
    __table_args__ = _args(UniqueConstraint("tenant_id", "contract_number"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    contract_number: Mapped[str] = mapped_column(String(40))
    network: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(20))
    fee_schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.provider_fee_schedules.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class NetworkMembership(TenantScoped, Base):
    """Derived: how a provider is in a network (own contract, or an affiliated organisation's)."""

    __tablename__ = "provider_network_memberships"
    # The directory's network filter probes this once per candidate listing: the lookup index
    # answers it from the index alone.
    __table_args__ = _args(
        Index("ix_provider_network_memberships_network", "tenant_id", "network", "provider_id"),
        Index("ix_provider_network_memberships_lookup", "provider_id", "network", "effective_from", "effective_to"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"))
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.provider_contracts.id"), index=True)
    via_organisation_id: Mapped[uuid.UUID | None]
    network: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)


# ---------------------------------------------------------------------------------------------
# Directory
# ---------------------------------------------------------------------------------------------
#: Objects of ``provider_directory_entries`` that only the migration manages (engine-specific search).
DIRECTORY_ENGINE_ONLY = (
    "name_vector",
    "search_vector",
    "facet_vector",
    "ix_provider_directory_entries_search",
    "ix_provider_directory_entries_sort_name_trgm",
)


class DirectoryEntry(TenantScoped, Base):
    """One public directory listing: a provider at one location (no PHI: providers' public data only).

    Rebuilt by the service whenever the provider, its locations, taxonomies, languages or
    affiliations change. The integer id is the FTS5 rowid on SQLite.
    """

    __tablename__ = "provider_directory_entries"
    # Both search indexes carry every filter column, so a search reads index entries only and
    # touches a (wide) row just for the page it returns.
    __table_args__ = _args(
        Index(
            "ix_provider_directory_entries_sort",
            "tenant_id",
            "sort_name",
            "accepting_new_patients",
            "kind",
            "credentialing_status",
            "languages",
        ),
        Index(
            "ix_provider_directory_entries_geo",
            "tenant_id",
            "latitude",
            "longitude",
            "accepting_new_patients",
            "kind",
            "credentialing_status",
            "languages",
            "sort_name",
        ),
        info={"engine_only": DIRECTORY_ENGINE_ONLY},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.providers.id"), index=True)
    location_id: Mapped[uuid.UUID | None]
    npi: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(250))
    sort_name: Mapped[str] = mapped_column(String(250))
    specialties: Mapped[str] = mapped_column(Text)
    taxonomy_text: Mapped[str] = mapped_column(Text)
    organisation_names: Mapped[str] = mapped_column(Text)
    facets: Mapped[str] = mapped_column(Text)
    """Machine tokens for the full-text index: tenant, kind, new patients, languages, geo cells."""
    languages: Mapped[str] = mapped_column(String(200))
    """Space-padded language codes (" en es "), so one code matches with LIKE '% es %'."""
    accepting_new_patients: Mapped[bool] = mapped_column(Boolean)
    credentialing_status: Mapped[str] = mapped_column(String(20))
    location_name: Mapped[str | None] = mapped_column(String(200))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(20))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime]
