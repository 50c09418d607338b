"""Every query of the provider domain.

ORM statements are tenant-filtered by the unit of work; the Core statements used for the directory
name ``tenant_id`` explicitly. Rows that a use case will change are read ``FOR UPDATE`` (PostgreSQL;
SQLite's single writer already serialises them).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from olly.platform.db import table_of
from olly.provider import models as m

# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def get_provider(session: Session, provider_id: uuid.UUID, *, for_update: bool = False) -> m.Provider | None:
    stmt = select(m.Provider).where(m.Provider.id == provider_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def provider_ids(session: Session) -> list[uuid.UUID]:
    return list(session.scalars(select(m.Provider.id).order_by(m.Provider.id)))


def get_provider_by_npi(session: Session, npi: str) -> m.Provider | None:
    return session.scalars(select(m.Provider).where(m.Provider.npi == npi)).one_or_none()


def npis_registered(session: Session, npis: Iterable[str]) -> set[str]:
    wanted = list(set(npis))
    if not wanted:
        return set()
    return set(session.scalars(select(m.Provider.npi).where(m.Provider.npi.in_(wanted))))


def add(session: Session, *rows: Any) -> None:
    session.add_all(rows)


def taxonomies_of(session: Session, provider_id: uuid.UUID) -> list[m.ProviderTaxonomy]:
    stmt = (
        select(m.ProviderTaxonomy)
        .where(m.ProviderTaxonomy.provider_id == provider_id)
        .order_by(m.ProviderTaxonomy.is_primary.desc(), m.ProviderTaxonomy.code)
    )
    return list(session.scalars(stmt))


def languages_of(session: Session, provider_id: uuid.UUID) -> list[str]:
    stmt = (
        select(m.ProviderLanguage.language)
        .where(m.ProviderLanguage.provider_id == provider_id)
        .order_by(m.ProviderLanguage.language)
    )
    return list(session.scalars(stmt))


def replace_languages(session: Session, provider_id: uuid.UUID, languages: Sequence[str]) -> None:
    session.execute(delete(m.ProviderLanguage).where(m.ProviderLanguage.provider_id == provider_id))
    session.add_all(m.ProviderLanguage(provider_id=provider_id, language=code) for code in languages)


def locations_of(session: Session, provider_id: uuid.UUID) -> list[m.ProviderLocation]:
    stmt = (
        select(m.ProviderLocation)
        .where(m.ProviderLocation.provider_id == provider_id)
        .order_by(m.ProviderLocation.created_at, m.ProviderLocation.id)
    )
    return list(session.scalars(stmt))


def get_location(session: Session, location_id: uuid.UUID) -> m.ProviderLocation | None:
    return session.get(m.ProviderLocation, location_id)


def delete_location(session: Session, location: m.ProviderLocation) -> None:
    session.delete(location)


def licences_of(session: Session, provider_id: uuid.UUID) -> list[m.ProviderLicence]:
    stmt = (
        select(m.ProviderLicence)
        .where(m.ProviderLicence.provider_id == provider_id)
        .order_by(m.ProviderLicence.state, m.ProviderLicence.expires_on)
    )
    return list(session.scalars(stmt))


def get_licence(session: Session, licence_id: uuid.UUID, *, for_update: bool = False) -> m.ProviderLicence | None:
    stmt = select(m.ProviderLicence).where(m.ProviderLicence.id == licence_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def affiliations_of(session: Session, provider_id: uuid.UUID) -> list[m.ProviderAffiliation]:
    stmt = (
        select(m.ProviderAffiliation)
        .where(m.ProviderAffiliation.provider_id == provider_id)
        .order_by(m.ProviderAffiliation.start_on, m.ProviderAffiliation.id)
    )
    return list(session.scalars(stmt))


def affiliates_of(session: Session, organisation_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of the individuals ever affiliated with an organisation."""
    stmt = (
        select(m.ProviderAffiliation.provider_id)
        .where(m.ProviderAffiliation.organisation_id == organisation_id)
        .distinct()
    )
    return sorted(session.scalars(stmt), key=str)


def owner_ids(session: Session, provider_id: uuid.UUID, on: date) -> frozenset[str] | None:
    """Who a provider record belongs to, as provider users name themselves: its NPI, its own id
    (an organisation user names its organisation by id) and the organisations it is affiliated with
    on ``on``. ``None`` when there is no such provider."""
    npi = session.scalar(select(m.Provider.npi).where(m.Provider.id == provider_id))
    if npi is None:
        return None
    a = m.ProviderAffiliation
    organisations = session.scalars(
        select(a.organisation_id).where(
            a.provider_id == provider_id, a.start_on <= on, or_(a.end_on.is_(None), a.end_on >= on)
        )
    )
    return frozenset({npi, str(provider_id), *(str(o) for o in organisations)})


def provider_of_request(session: Session, request_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(m.CredentialingRequest.provider_id).where(m.CredentialingRequest.id == request_id))


def get_affiliation(session: Session, affiliation_id: uuid.UUID) -> m.ProviderAffiliation | None:
    return session.get(m.ProviderAffiliation, affiliation_id)


def organisation_names(session: Session, organisation_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not organisation_ids:
        return {}
    stmt = select(m.Provider.id, m.Provider.organisation_name).where(m.Provider.id.in_(organisation_ids))
    return {row.id: row.organisation_name or "" for row in session.execute(stmt)}


# ---------------------------------------------------------------------------------------------
# Credentialing
# ---------------------------------------------------------------------------------------------
def get_request(session: Session, request_id: uuid.UUID, *, for_update: bool = False) -> m.CredentialingRequest | None:
    stmt = select(m.CredentialingRequest).where(m.CredentialingRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def requests_of(session: Session, provider_id: uuid.UUID) -> list[m.CredentialingRequest]:
    stmt = (
        select(m.CredentialingRequest)
        .where(m.CredentialingRequest.provider_id == provider_id)
        .order_by(m.CredentialingRequest.opened_at, m.CredentialingRequest.id)
    )
    return list(session.scalars(stmt))


def open_request_of(
    session: Session, provider_id: uuid.UUID, open_states: Iterable[str]
) -> m.CredentialingRequest | None:
    stmt = (
        select(m.CredentialingRequest)
        .where(m.CredentialingRequest.provider_id == provider_id, m.CredentialingRequest.state.in_(list(open_states)))
        .order_by(m.CredentialingRequest.opened_at.desc())
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def get_document(session: Session, request_id: uuid.UUID, document_id: uuid.UUID) -> m.CredentialingDocument | None:
    stmt = select(m.CredentialingDocument).where(
        m.CredentialingDocument.id == document_id, m.CredentialingDocument.request_id == request_id
    )
    return session.scalars(stmt).one_or_none()


def documents_of(session: Session, request_id: uuid.UUID) -> list[m.CredentialingDocument]:
    stmt = (
        select(m.CredentialingDocument)
        .where(m.CredentialingDocument.request_id == request_id)
        .order_by(m.CredentialingDocument.received_at, m.CredentialingDocument.id)
    )
    return list(session.scalars(stmt))


def verifications_of(session: Session, request_id: uuid.UUID) -> list[m.CredentialingVerification]:
    stmt = (
        select(m.CredentialingVerification)
        .where(m.CredentialingVerification.request_id == request_id)
        .order_by(m.CredentialingVerification.due_on, m.CredentialingVerification.item)
    )
    return list(session.scalars(stmt))


def status_changes_of(session: Session, provider_id: uuid.UUID) -> list[m.CredentialingStatusChange]:
    stmt = (
        select(m.CredentialingStatusChange)
        .where(m.CredentialingStatusChange.provider_id == provider_id)
        .order_by(m.CredentialingStatusChange.changed_at, m.CredentialingStatusChange.id)
    )
    return list(session.scalars(stmt))


def reminders_of(session: Session, provider_id: uuid.UUID) -> list[m.CredentialingReminder]:
    stmt = (
        select(m.CredentialingReminder)
        .where(m.CredentialingReminder.provider_id == provider_id)
        .order_by(m.CredentialingReminder.sent_at, m.CredentialingReminder.days_before.desc())
    )
    return list(session.scalars(stmt))


def reminder_exists(session: Session, request_id: uuid.UUID, days_before: int) -> bool:
    stmt = select(
        exists().where(
            m.CredentialingReminder.request_id == request_id, m.CredentialingReminder.days_before == days_before
        )
    )
    return bool(session.scalar(stmt))


def timers_of(session: Session, provider_id: uuid.UUID) -> list[m.CredentialingTimer]:
    stmt = (
        select(m.CredentialingTimer)
        .where(m.CredentialingTimer.provider_id == provider_id)
        .order_by(m.CredentialingTimer.due_at, m.CredentialingTimer.kind)
    )
    return list(session.scalars(stmt))


def claim_due_timers(session: Session, now: datetime, limit: int) -> list[m.CredentialingTimer]:
    """Pending timers due by ``now``, oldest first, locked for this worker.

    SKIP LOCKED lets several workers share the queue on PostgreSQL without firing a timer twice;
    SQLite has a single writer, so the clause is simply not rendered there.
    """
    stmt = (
        select(m.CredentialingTimer)
        .where(m.CredentialingTimer.status == "PENDING", m.CredentialingTimer.due_at <= now)
        .order_by(m.CredentialingTimer.due_at, m.CredentialingTimer.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def cancel_pending_timers(
    session: Session,
    *,
    request_id: uuid.UUID | None = None,
    licence_id: uuid.UUID | None = None,
    outcome: str,
) -> int:
    conditions: list[ColumnElement[bool]] = [m.CredentialingTimer.status == "PENDING"]
    if request_id is not None:
        conditions.append(m.CredentialingTimer.request_id == request_id)
    if licence_id is not None:
        conditions.append(m.CredentialingTimer.licence_id == licence_id)
    if request_id is None and licence_id is None:
        raise ValueError("name the request or the licence whose timers to cancel")
    stmt = (
        update(m.CredentialingTimer)
        .where(*conditions)
        .values(status="CANCELLED", outcome=outcome)
        .execution_options(synchronize_session="fetch")
    )
    result = session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def sanctions_of(session: Session, provider_id: uuid.UUID) -> list[m.ProviderSanction]:
    stmt = (
        select(m.ProviderSanction)
        .where(m.ProviderSanction.provider_id == provider_id)
        .order_by(m.ProviderSanction.effective_on, m.ProviderSanction.id)
    )
    return list(session.scalars(stmt))


def get_sanction(session: Session, sanction_id: uuid.UUID) -> m.ProviderSanction | None:
    return session.get(m.ProviderSanction, sanction_id)


# ---------------------------------------------------------------------------------------------
# Contracts, memberships, fee schedules
# ---------------------------------------------------------------------------------------------
def get_contract(session: Session, contract_id: uuid.UUID, *, for_update: bool = False) -> m.Contract | None:
    stmt = select(m.Contract).where(m.Contract.id == contract_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def get_contract_by_number(session: Session, number: str) -> m.Contract | None:
    return session.scalars(select(m.Contract).where(m.Contract.contract_number == number)).one_or_none()


def contracts_of(session: Session, provider_id: uuid.UUID) -> list[m.Contract]:
    stmt = (
        select(m.Contract)
        .where(m.Contract.provider_id == provider_id)
        .order_by(m.Contract.effective_from, m.Contract.contract_number)
    )
    return list(session.scalars(stmt))


def contracts_by_ids(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, m.Contract]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(m.Contract).where(m.Contract.id.in_(list(ids))))}


def memberships_of(session: Session, provider_id: uuid.UUID) -> list[m.NetworkMembership]:
    stmt = (
        select(m.NetworkMembership)
        .where(m.NetworkMembership.provider_id == provider_id)
        .order_by(m.NetworkMembership.network, m.NetworkMembership.effective_from)
    )
    return list(session.scalars(stmt))


def replace_memberships(session: Session, provider_id: uuid.UUID, rows: Sequence[m.NetworkMembership]) -> None:
    session.execute(delete(m.NetworkMembership).where(m.NetworkMembership.provider_id == provider_id))
    session.add_all(rows)


def get_fee_schedule(session: Session, schedule_id: uuid.UUID) -> m.FeeSchedule | None:
    return session.get(m.FeeSchedule, schedule_id)


def get_fee_schedule_by_code(session: Session, code: str) -> m.FeeSchedule | None:
    return session.scalars(select(m.FeeSchedule).where(m.FeeSchedule.code == code)).one_or_none()


def list_fee_schedules(session: Session, schedule_ids: Iterable[uuid.UUID] | None = None) -> list[m.FeeSchedule]:
    """Every schedule, or only those of ``schedule_ids`` when given."""
    stmt = select(m.FeeSchedule).order_by(m.FeeSchedule.code)
    if schedule_ids is not None:
        stmt = stmt.where(m.FeeSchedule.id.in_(list(schedule_ids)))
    return list(session.scalars(stmt))


def fee_schedule_owner_ids(session: Session, code: str, on: date) -> frozenset[str] | None:
    """Who may read a fee schedule as its own, in provider users' terms (see ``owner_ids``): every
    provider a contract pricing with it covers — the contract's holder and the providers that are
    members through it (an organisation's affiliates) — and, for a base schedule, every provider
    covered by a contract pricing with a schedule derived from it. ``None`` when there is no such
    schedule."""
    schedule_id = session.scalar(select(m.FeeSchedule.id).where(m.FeeSchedule.code == code))
    if schedule_id is None:
        return None
    pricing = select(m.FeeSchedule.id).where(
        or_(m.FeeSchedule.id == schedule_id, m.FeeSchedule.base_schedule_id == schedule_id)
    )
    contracts = select(m.Contract.id).where(m.Contract.fee_schedule_id.in_(pricing))
    holders = select(m.Contract.provider_id).where(m.Contract.id.in_(contracts))
    members = select(m.NetworkMembership.provider_id).where(m.NetworkMembership.contract_id.in_(contracts))
    covered = holders.union(members).subquery()
    providers = session.execute(select(m.Provider.id, m.Provider.npi).where(m.Provider.id.in_(select(covered))))
    owners: set[str] = set()
    provider_ids: list[uuid.UUID] = []
    for row in providers:
        owners |= {row.npi, str(row.id)}
        provider_ids.append(row.id)
    if provider_ids:
        a = m.ProviderAffiliation
        organisations = session.scalars(
            select(a.organisation_id)
            .where(a.provider_id.in_(provider_ids), a.start_on <= on, or_(a.end_on.is_(None), a.end_on >= on))
            .distinct()
        )
        owners |= {str(o) for o in organisations}
    return frozenset(owners)


def fee_schedule_ids_of_owners(session: Session, owner_ids: Iterable[str], on: date) -> set[uuid.UUID]:
    """The fee schedules ``fee_schedule_owner_ids`` gives to any of ``owner_ids`` (NPIs or provider
    ids): the collection a provider user may list."""
    keys = list(owner_ids)
    ids = [u for u in (_uuid_or_none(k) for k in keys) if u is not None]
    if not keys:
        return set()
    a = m.ProviderAffiliation
    own = select(m.Provider.id).where(or_(m.Provider.npi.in_(keys), m.Provider.id.in_(ids)))
    affiliates = select(a.provider_id).where(
        a.organisation_id.in_(ids), a.start_on <= on, or_(a.end_on.is_(None), a.end_on >= on)
    )
    providers = own.union(affiliates).subquery()
    held = select(m.Contract.id).where(m.Contract.provider_id.in_(select(providers)))
    through = select(m.NetworkMembership.contract_id).where(m.NetworkMembership.provider_id.in_(select(providers)))
    contracts = held.union(through).subquery()
    pricing = set(
        session.scalars(
            select(m.Contract.fee_schedule_id).where(
                m.Contract.id.in_(select(contracts)), m.Contract.fee_schedule_id.is_not(None)
            )
        )
    )
    if not pricing:
        return set()
    bases = session.scalars(
        select(m.FeeSchedule.base_schedule_id).where(
            m.FeeSchedule.id.in_(list(pricing)), m.FeeSchedule.base_schedule_id.is_not(None)
        )
    )
    return {*(p for p in pricing if p is not None), *(b for b in bases if b is not None)}


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def rates_of(session: Session, schedule_id: uuid.UUID, codes: Sequence[str] | None = None) -> list[m.FeeScheduleRate]:
    """A schedule's rates; only those of ``codes`` when given (pricing reads a handful of rows)."""
    stmt = select(m.FeeScheduleRate).where(m.FeeScheduleRate.schedule_id == schedule_id)
    if codes is not None:
        stmt = stmt.where(m.FeeScheduleRate.code.in_(list(codes)))
    stmt = stmt.order_by(m.FeeScheduleRate.code, m.FeeScheduleRate.modifier)
    return list(session.scalars(stmt))


def insert_rates(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert of fee-schedule rates (a schedule may hold tens of thousands)."""
    if rows:
        session.execute(insert(m.FeeScheduleRate), list(rows))


# ---------------------------------------------------------------------------------------------
# Directory
# ---------------------------------------------------------------------------------------------
_directory = table_of(m.DirectoryEntry)

#: The SQLite FTS5 index over the directory (created by the migration, not by the models).
_fts = Table(
    "provider_directory_fts",
    MetaData(),
    Column("rowid", Integer),
    Column("display_name", Text),
    Column("specialties", Text),
    Column("taxonomy_text", Text),
    Column("organisation_names", Text),
)

#: bm25 column weights: a name hit outranks a specialty hit, which outranks taxonomy and organisation.
_BM25_WEIGHTS = "10.0, 5.0, 2.0, 1.0"
_EARTH_RADIUS_MILES = 3958.8


def replace_directory_entries(
    session: Session, tenant_id: uuid.UUID, provider_id: uuid.UUID, entries: Sequence[dict[str, Any]]
) -> None:
    """Swap a provider's listings (the FTS index follows through triggers / the generated column)."""
    session.execute(
        delete(_directory).where(_directory.c.tenant_id == tenant_id, _directory.c.provider_id == provider_id)
    )
    if entries:
        session.execute(
            insert(_directory), [{**e, "tenant_id": tenant_id, "provider_id": provider_id} for e in entries]
        )


def insert_directory_entries(
    session: Session, tenant_id: uuid.UUID, provider_id: uuid.UUID, entries: Sequence[dict[str, Any]]
) -> None:
    """Listings of a provider that has none yet."""
    if entries:
        session.execute(
            insert(_directory), [{**e, "tenant_id": tenant_id, "provider_id": provider_id} for e in entries]
        )


def bulk_insert_directory_entries(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """Insert many listings at once (benchmark and demo loaders)."""
    if entries:
        session.execute(insert(_directory), list(entries))


def set_directory_credentialing_status(
    session: Session, tenant_id: uuid.UUID, provider_id: uuid.UUID, status: str
) -> None:
    session.execute(
        update(_directory)
        .where(_directory.c.tenant_id == tenant_id, _directory.c.provider_id == provider_id)
        .values(credentialing_status=status)
    )


# -- directory search ----------------------------------------------------------------------------
#
# Three plans, chosen by the query's shape, each reading index entries (or full-text postings) and
# touching full rows only for the page it returns:
#
# * near a place: rings of growing radius (1, 3, 9 … miles) until one holds a full page, ordered
#   by distance. With words, the full-text index narrows to the ring's geo cells, the words and
#   the facet filters at once; without words, the covering geo index does.
# * words, no place: listings whose name matches first, then the others, each alphabetical. A
#   large tier is walked in the name index; on PostgreSQL a smaller one is collected, sorted and
#   counted in one statement (the planner's estimate decides, see ``WALK_FACTOR``).
# * neither: the covering name index, alphabetical.
#
# Counts stop at ``count_cap`` (the result window): "1,000+" is all a person paging needs.

_TEXT_COLUMNS = "{display_name specialties taxonomy_text organisation_names}"
#: The last word matches as a prefix once it has this many letters ("car" finds cardiology); a
#: shorter one matches whole words only, or "s" would match half the directory.
MIN_PREFIX = 3
#: PostgreSQL: skip a count when the planner expects this many times the cap (see ``_Plan.count``).
ESTIMATE_SKIPS_COUNT = 4
#: PostgreSQL: walk the name index for a worded tier when (expected matches)² ≥ this × listings to
#: read × listings of the tenant; otherwise collect the tier's matches and sort them. Walking reads
#: about need × listings / matches rows, collecting reads every match, at about the same cost a row
#: (measured: 2.9 µs a row walked, 3.5 µs a match collected, on 100,000 listings).
WALK_FACTOR = 0.8


@dataclass(frozen=True, slots=True)
class Ring:
    radius_miles: float
    box: tuple[float, float, float, float]
    """min latitude, max latitude, min longitude, max longitude"""
    cells: tuple[str, ...]
    """Geo cell tokens covering the box."""


@dataclass(frozen=True, slots=True)
class DirectoryFilter:
    """A directory query in database terms (the service derives it from the API query)."""

    tenant_id: uuid.UUID
    on: date
    words: tuple[str, ...] = ()
    """Lower-case letters and digits only; the last one matches as a prefix."""
    facets: tuple[str, ...] = ()
    """Facet tokens every match must carry (tenant, language, new patients, kind)."""
    latitude: float | None = None
    longitude: float | None = None
    rings: tuple[Ring, ...] = ()
    """Nearest-first search rings; the last one is the requested radius."""
    language: str | None = None
    accepting_new_patients: bool | None = None
    kind: str | None = None
    network: str | None = None
    miles_per_degree: float = 69.09
    limit: int = 20
    offset: int = 0
    count_cap: int = 1_000

    @property
    def need(self) -> int:
        return self.offset + self.limit


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    entry: dict[str, Any]
    networks: tuple[tuple[str, str], ...] = ()
    """(network, tier) pairs of an approved provider on the query's date, by network then tier."""


#: The listing columns a result page shows (the service maps them to its DirectoryListing).
_LISTING_COLUMNS = (
    "provider_id",
    "location_id",
    "npi",
    "kind",
    "display_name",
    "specialties",
    "organisation_names",
    "languages",
    "accepting_new_patients",
    "location_name",
    "address_line1",
    "city",
    "state",
    "zip",
    "phone",
    "latitude",
    "longitude",
)


class _Plan:
    """Builds the SQL of one search on SQLite (PostgreSQL: ``_PgSearch``)."""

    def __init__(self, query: DirectoryFilter) -> None:
        self.q = query
        self.e = _directory.c

    # -- conditions ---------------------------------------------------------------------------
    def base(self) -> list[ColumnElement[bool]]:
        q, e = self.q, self.e
        conditions: list[ColumnElement[bool]] = [e.tenant_id == q.tenant_id]
        if q.network:
            ms = table_of(m.NetworkMembership).c
            conditions.append(e.credentialing_status == "APPROVED")
            conditions.append(
                exists().where(
                    ms.tenant_id == q.tenant_id,
                    ms.provider_id == e.provider_id,
                    ms.network == q.network,
                    ms.effective_from <= q.on,
                    or_(ms.effective_to.is_(None), ms.effective_to >= q.on),
                )
            )
        return conditions

    def columns_filter(self) -> list[ColumnElement[bool]]:
        """The facet filters as plain column conditions (for the plans that read the covering indexes)."""
        q, e = self.q, self.e
        conditions: list[ColumnElement[bool]] = []
        if q.language:
            conditions.append(e.languages.like(f"% {q.language} %"))
        if q.accepting_new_patients is not None:
            conditions.append(e.accepting_new_patients.is_(q.accepting_new_patients))
        if q.kind:
            conditions.append(e.kind == q.kind)
        return conditions

    def squared_degrees(self) -> ColumnElement[float]:
        """Squared distance in degrees on the local flat projection (see rules.flat_distance_miles)."""
        q, e = self.q, self.e
        assert q.latitude is not None
        assert q.longitude is not None
        d_lat = e.latitude - q.latitude
        d_lon = (e.longitude - q.longitude) * func.cos(func.radians((e.latitude + q.latitude) / 2))
        return (d_lat * d_lat + d_lon * d_lon).cast(Float)

    def in_ring(self, ring: Ring) -> list[ColumnElement[bool]]:
        """Within the ring's radius, and its bounding box so that the geo index helps."""
        e = self.e
        min_lat, max_lat, min_lon, max_lon = ring.box
        within = self.squared_degrees() <= (ring.radius_miles / self.q.miles_per_degree) ** 2
        return [e.latitude.between(min_lat, max_lat), e.longitude.between(min_lon, max_lon), within]

    # -- full-text expressions ------------------------------------------------------------------
    def fts(self, *, names_only: bool = False, not_names: bool = False, cells: tuple[str, ...] = ()) -> str:
        """An FTS5 MATCH expression: words in the text columns AND facets AND one of the cells."""
        words = " ".join(
            f'"{w}"' + ("*" if i == len(self.q.words) - 1 and len(w) >= MIN_PREFIX else "")
            for i, w in enumerate(self.q.words)
        )
        parts: list[str] = []
        if words:
            columns = "{display_name}" if names_only else _TEXT_COLUMNS
            parts.append(f"({columns} : ({words}))")
        if self.q.facets:
            parts.append("({facets} : (" + " AND ".join(f'"{t}"' for t in self.q.facets) + "))")
        if cells:
            parts.append("({facets} : (" + " OR ".join(f'"{t}"' for t in cells) + "))")
        expression = " AND ".join(parts)
        if not_names and words:
            expression = f"({expression}) NOT ({{display_name}} : ({words}))"
        return expression

    def text_source(self, **kw: Any) -> tuple[Any, list[ColumnElement[bool]]]:
        """FROM clause and condition that apply the words, facets and cells through FTS5."""
        source = _directory.join(_fts, _fts.c.rowid == self.e.id)
        return source, [literal_column("provider_directory_fts").op("MATCH")(self.fts(**kw))]

    # -- statements -----------------------------------------------------------------------------
    def ids(self, source: Any, conditions: list[ColumnElement[bool]], order: list[Any], limit: int) -> list[int]:
        stmt = select(self.e.id).select_from(source).where(*conditions).order_by(*order, self.e.id).limit(limit)
        return list(self.session.scalars(stmt))

    def count(self, source: Any, conditions: list[ColumnElement[bool]]) -> int:
        """Matches up to ``count_cap``."""
        capped = select(literal_column("1")).select_from(source).where(*conditions).limit(self.q.count_cap).subquery()
        return int(self.session.scalar(select(func.count()).select_from(capped)) or 0)

    session: Session


def search_directory(session: Session, query: DirectoryFilter, *, sqlite: bool) -> tuple[list[DirectoryRow], int]:
    """One page of listings (in order) and the number of matches, counted up to ``count_cap``."""
    if not sqlite:
        return _PgSearch(session, query).run()
    plan = _Plan(query)
    plan.session = session
    if query.latitude is not None and query.rings:
        ids, total = _near(plan)
    elif query.words:
        ids, total = _by_words(plan)
    else:
        ids, total = _alphabetical(plan)
    return _rows(session, query, ids), total


def _near(plan: _Plan) -> tuple[list[int], int]:
    q, e = plan.q, plan.e
    found: list[int] = []
    for ring in q.rings:
        if q.words:
            source, matching = plan.text_source(cells=ring.cells)
            conditions = plan.base() + matching + plan.in_ring(ring)
        else:
            source, conditions = _directory, plan.base() + plan.columns_filter() + plan.in_ring(ring)
        found = plan.ids(source, conditions, [plan.squared_degrees(), e.sort_name], q.need)
        if len(found) >= q.need:
            break
    if len(found) < q.need:  # the last ring is the whole radius: everything was found
        return found[q.offset :], len(found)
    if ring is not q.rings[-1]:  # the total covers the whole radius, not just the ring that filled the page
        ring = q.rings[-1]
        if q.words:
            source, matching = plan.text_source(cells=ring.cells)
            conditions = plan.base() + matching + plan.in_ring(ring)
        else:
            conditions = plan.base() + plan.columns_filter() + plan.in_ring(ring)
    return found[q.offset :], plan.count(source, conditions)


def _by_words(plan: _Plan) -> tuple[list[int], int]:
    """Listings whose names match the words first, then listings matching elsewhere.

    How a tier's page is read matters more than anything else here. Name matches cluster in
    alphabetical order (every "Torres" sits together), so walking the name index until a page is
    full can mean walking almost all of it; they are collected first and sorted instead. A large
    second tier (a specialty) is spread evenly, so walking the name index finds a page at once.
    """
    q = plan.q
    found: list[int] = []
    total = 0
    tiers: tuple[dict[str, Any], ...] = ({"names_only": True}, {"not_names": True})
    for tier in tiers:
        source, matching = plan.text_source(**tier)
        conditions = plan.base() + matching
        in_tier = plan.count(source, conditions)
        skip = max(0, q.offset - total)  # this tier's listings that fall before the page
        if len(found) < q.limit and skip < in_tier:
            take = min(q.limit - len(found), in_tier - skip)
            walk = "not_names" in tier and in_tier >= q.count_cap
            found += _alphabetical_page(plan, tier, source, conditions, skip, take, walk=walk)
        total += in_tier
    return found, min(total, q.count_cap)


def _alphabetical_page(
    plan: _Plan,
    tier: dict[str, Any],
    source: Any,
    conditions: list[ColumnElement[bool]],
    skip: int,
    take: int,
    *,
    walk: bool,
) -> list[int]:
    """A tier's page in name order; a large tier is walked in the name index."""
    e = plan.e
    if walk:
        members = select(_fts.c.rowid).where(literal_column("provider_directory_fts").op("MATCH")(plan.fts(**tier)))
        # "id + 0" keeps SQLite from driving the query through the membership list, so it walks
        # ix_provider_directory_entries_sort in order and stops after the page.
        stmt = (
            select(e.id)
            .where(*plan.base(), (e.id + 0).in_(members))
            .order_by(e.sort_name, e.id)
            .offset(skip)
            .limit(take)
        )
        return list(plan.session.scalars(stmt))
    return plan.ids(source, conditions, [e.sort_name], skip + take)[skip:]


def _alphabetical(plan: _Plan) -> tuple[list[int], int]:
    q, e = plan.q, plan.e
    conditions = plan.base() + plan.columns_filter()
    ids = plan.ids(_directory, conditions, [e.sort_name], q.need)
    return ids[q.offset :], plan.count(_directory, conditions)


def _rows(session: Session, query: DirectoryFilter, ids: list[int]) -> list[DirectoryRow]:
    """SQLite: the page's listings with the networks each approved provider belongs to on
    ``query.on``, in one statement (a listing comes back once per network membership)."""
    if not ids:
        return []
    e, memberships = _directory.c, table_of(m.NetworkMembership)
    ms = memberships.c
    joined = _directory.outerjoin(
        memberships,
        and_(
            e.credentialing_status == "APPROVED",
            ms.tenant_id == query.tenant_id,
            ms.provider_id == e.provider_id,
            ms.effective_from <= query.on,
            or_(ms.effective_to.is_(None), ms.effective_to >= query.on),
        ),
    )
    stmt = (
        select(e.id, *(e[c] for c in _LISTING_COLUMNS), ms.network, ms.tier)
        .select_from(joined)
        .where(e.tenant_id == query.tenant_id, e.id.in_(ids))
        .order_by(e.id, ms.network, ms.tier)
    )
    return _listings(session.execute(stmt), ids)


def _listings(rows: Iterable[Sequence[Any]], ids: list[int]) -> list[DirectoryRow]:
    """Rows of (id, *_LISTING_COLUMNS, network, tier), by id then network and tier, as the
    listings of ``ids`` in that order with their (network, tier) pairs."""
    entries: dict[int, dict[str, Any]] = {}
    networks: dict[int, list[tuple[str, str]]] = {}
    width = len(_LISTING_COLUMNS)
    for row in rows:
        listing_id = row[0]
        if listing_id not in entries:
            entries[listing_id] = dict(zip(_LISTING_COLUMNS, row[1 : width + 1], strict=True))
            networks[listing_id] = []
        pair = (row[width + 1], row[width + 2])
        found = networks[listing_id]
        if pair[0] is not None and pair not in found:
            found.append(pair)
    return [DirectoryRow(entries[i], tuple(networks[i])) for i in ids if i in entries]


# -- directory search on PostgreSQL ---------------------------------------------------------------
#
# The same plans as on SQLite, written as SQL text with named parameters: building SQLAlchemy
# expressions, cache keys and result rows cost more client CPU than PostgreSQL spends answering
# (measured 4.4 ms of client CPU a search through the expression language). The texts are few
# and stable per query shape, so the driver prepares each once per connection.

_ENTRIES = _directory.fullname
_MEMBERSHIPS = table_of(m.NetworkMembership).fullname
_SQUARED_DEGREES = (
    "((e.latitude - %(latitude)s) * (e.latitude - %(latitude)s)"
    " + ((e.longitude - %(longitude)s) * cos(radians((e.latitude + %(latitude)s) / 2)))"
    " * ((e.longitude - %(longitude)s) * cos(radians((e.latitude + %(latitude)s) / 2))))"
)
_IN_NETWORK = (
    "e.credentialing_status = 'APPROVED' AND EXISTS (SELECT 1 FROM "
    + _MEMBERSHIPS
    + " AS ms WHERE ms.tenant_id = %(tenant)s AND ms.provider_id = e.provider_id AND ms.network = %(network)s"
    " AND ms.effective_from <= %(on)s AND (ms.effective_to IS NULL OR ms.effective_to >= %(on)s))"
)
_PAGE_ROWS = (
    "SELECT e.id, "
    + ", ".join(f"e.{c}" for c in _LISTING_COLUMNS)
    + ", ms.network, ms.tier FROM "
    + _ENTRIES
    + " AS e LEFT JOIN "
    + _MEMBERSHIPS
    + " AS ms ON e.credentialing_status = 'APPROVED' AND ms.tenant_id = %(tenant)s"
    " AND ms.provider_id = e.provider_id AND ms.effective_from <= %(on)s"
    " AND (ms.effective_to IS NULL OR ms.effective_to >= %(on)s)"
    " WHERE e.tenant_id = %(tenant)s AND e.id = ANY(%(ids)s::bigint[]) ORDER BY e.id, ms.network, ms.tier"
)


class _PgSearch:
    """One directory search on PostgreSQL (the plans are described above ``WALK_FACTOR``)."""

    def __init__(self, session: Session, query: DirectoryFilter) -> None:
        self.q = query
        self.connection = session.connection()
        params: dict[str, Any] = {"tenant": query.tenant_id, "on": query.on, "cap": query.count_cap}
        if query.network:
            params["network"] = query.network
        if query.language:
            params["language"] = f"% {query.language} %"
        if query.kind:
            params["kind"] = query.kind
        if query.latitude is not None:
            params["latitude"], params["longitude"] = query.latitude, query.longitude
        if query.words:
            *whole, last = query.words
            if len(last) >= MIN_PREFIX:
                params["prefix"] = last
            else:
                whole.append(last)
            if whole:
                params["words"] = " & ".join(whole)
        self.params = params

    def run(self) -> tuple[list[DirectoryRow], int]:
        q = self.q
        if q.latitude is not None and q.rings:
            ids, total = self._near()
        elif q.words:
            ids, total = self._by_words()
            if total == 0 and len(q.words) == 1 and len(q.words[0]) >= 4:
                ids, total = self._similar_names()
        else:
            ids, total = self._alphabetical()
        return self._rows(ids), total

    # -- conditions ---------------------------------------------------------------------------
    def _base(self) -> list[str]:
        return ["e.tenant_id = %(tenant)s", _IN_NETWORK] if self.q.network else ["e.tenant_id = %(tenant)s"]

    def _columns_filter(self) -> list[str]:
        """The facet filters as plain column conditions (for the plans that read the covering indexes)."""
        q = self.q
        conditions = ["e.languages LIKE %(language)s"] if q.language else []
        if q.accepting_new_patients is not None:
            conditions.append(f"e.accepting_new_patients IS {'true' if q.accepting_new_patients else 'false'}")
        if q.kind:
            conditions.append("e.kind = %(kind)s")
        return conditions

    def _words(self, *, names_only: bool = False, not_names: bool = False) -> list[str]:
        """All the words in the names or the whole text; the last as a prefix token (migration
        0022: the vectors carry every prefix of every lexeme, so a prefix is an exact GIN lookup
        rather than a partial match that collects every lexeme starting with it)."""
        parts = []
        if "words" in self.params:
            parts.append("to_tsquery('english'::regconfig, %(words)s)")
        if "prefix" in self.params:
            parts.append("provider.directory_prefix_query(%(prefix)s)")
        tsquery = parts[0] if len(parts) == 1 else f"({' && '.join(parts)})"
        if names_only:
            return [f"e.name_vector @@ {tsquery}"]
        if not_names:
            return [f"e.search_vector @@ {tsquery}", f"NOT (e.name_vector @@ {tsquery})"]
        return [f"e.search_vector @@ {tsquery}"]

    def _facets(self, cells: tuple[str, ...], params: dict[str, Any]) -> list[str]:
        """The selective facets (place, language) through the facet GIN index, the others as
        columns: a GIN posting list of a token most rows carry costs more than it saves."""
        q = self.q
        tokens = ["(" + " | ".join(cells) + ")"] if cells else []
        if q.language:
            tokens.append(f"lang{q.language}0")
        conditions = []
        if tokens:
            params["facets"] = " & ".join(tokens)
            conditions.append("e.facet_vector @@ to_tsquery('simple'::regconfig, %(facets)s)")
        if q.accepting_new_patients is not None:
            conditions.append(f"e.accepting_new_patients IS {'true' if q.accepting_new_patients else 'false'}")
        if q.kind:
            conditions.append("e.kind = %(kind)s")
        return conditions

    def _ring(self, ring: Ring) -> tuple[list[str], dict[str, Any]]:
        """Conditions and parameters of the listings within ``ring``. Worded searches leave the box
        out: the geo cells in the GIN index already narrow them, and a third bitmap over the box
        would only slow the intersection down."""
        params = dict(self.params)
        params["within"] = (ring.radius_miles / self.q.miles_per_degree) ** 2
        within = f"{_SQUARED_DEGREES} <= %(within)s"
        if self.q.words:
            return self._base() + self._words() + self._facets(ring.cells, params) + [within], params
        params["min_lat"], params["max_lat"], params["min_lon"], params["max_lon"] = ring.box
        box = ["e.latitude BETWEEN %(min_lat)s AND %(max_lat)s", "e.longitude BETWEEN %(min_lon)s AND %(max_lon)s"]
        return self._base() + self._columns_filter() + box + [within], params

    # -- statements -----------------------------------------------------------------------------
    def _ids(self, conditions: list[str], order: str, limit: int, params: dict[str, Any]) -> list[int]:
        sql = (
            f"SELECT e.id FROM {_ENTRIES} AS e WHERE {' AND '.join(conditions)} ORDER BY {order}, e.id LIMIT %(limit)s"
        )
        return [row[0] for row in self.connection.exec_driver_sql(sql, {**params, "limit": limit})]

    def _count(self, conditions: list[str], params: dict[str, Any]) -> int:
        """Matches up to ``count_cap``. A set the planner expects to be far larger than the cap is
        reported at the cap without counting: counting means rechecking every match on the heap
        (about 10 ms for 500 specialty matches over 100,000 listings), and "500+" is all the page
        says anyway."""
        matches = f"SELECT 1 FROM {_ENTRIES} AS e WHERE {' AND '.join(conditions)}"
        if self._plan_rows(matches, params)[0] >= ESTIMATE_SKIPS_COUNT * self.q.count_cap:
            return self.q.count_cap
        return self._capped_count(matches, params)

    def _capped_count(self, matches: str, params: dict[str, Any]) -> int:
        sql = f"SELECT count(*) FROM ({matches} LIMIT %(cap)s) AS capped"
        return int(self.connection.exec_driver_sql(sql, params).scalar() or 0)

    def _plan_rows(self, sql: str, params: dict[str, Any]) -> list[float]:
        """The planner's row estimates: of ``sql``, or of each branch of a UNION ALL."""
        plan: Any = self.connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params).scalar()
        document = json.loads(plan) if isinstance(plan, str) else plan
        top = document[0]["Plan"]
        if top["Node Type"] == "Append":
            return [float(branch["Plan Rows"]) for branch in top["Plans"]]
        return [float(top["Plan Rows"])]

    def _collected_page(
        self, conditions: list[str], skip: int, take: int, params: dict[str, Any]
    ) -> tuple[list[int], int]:
        """One statement: a tier's matches collected (a GIN bitmap scan), sorted by name, the page
        ``skip``..``skip + take`` of them and how many there are. The first match always comes
        back, so the count arrives even when the page lies beyond the tier."""
        sql = (
            f"WITH matches AS MATERIALIZED (SELECT e.id, e.sort_name FROM {_ENTRIES} AS e"
            f" WHERE {' AND '.join(conditions)})"
            " SELECT id, n, total FROM (SELECT id, row_number() OVER (ORDER BY sort_name, id) AS n,"
            " count(*) OVER () AS total FROM matches) AS numbered"
            " WHERE n = 1 OR n BETWEEN %(first)s AND %(last)s ORDER BY n"
        )
        rows = self.connection.exec_driver_sql(sql, {**params, "first": skip + 1, "last": skip + take}).all()
        if not rows:
            return [], 0
        return [row[0] for row in rows if skip < row[1] <= skip + take], int(rows[0][2])

    # -- plans ------------------------------------------------------------------------------------
    def _near(self) -> tuple[list[int], int]:
        q = self.q
        order = f"{_SQUARED_DEGREES}, e.sort_name"
        found: list[int] = []
        for ring in q.rings:
            conditions, params = self._ring(ring)
            found = self._ids(conditions, order, q.need, params)
            if len(found) >= q.need:
                break
        if len(found) < q.need:  # the last ring is the whole radius: everything was found
            return found[q.offset :], len(found)
        if ring is not q.rings[-1]:  # the total covers the whole radius, not just the ring that filled the page
            conditions, params = self._ring(q.rings[-1])
        return found[q.offset :], self._count(conditions, params)

    def _by_words(self) -> tuple[list[int], int]:
        """Name matches are collected, sorted and counted in one statement. The other tier is
        collected the same way when it is small enough, else walked in the name index (see
        ``WALK_FACTOR``) and counted only when the planner does not expect it to pass the cap by
        far ("500+" is what the page says then)."""
        q, params = self.q, self.params
        facets = self._facets((), params)
        found, named = self._collected_page(
            self._base() + self._words(names_only=True) + facets, q.offset, q.limit, params
        )
        conditions = self._base() + self._words(not_names=True) + facets
        skip = max(0, q.offset - named)
        take = q.limit - len(found)
        matches = f"SELECT 1 FROM {_ENTRIES} AS e WHERE {' AND '.join(conditions)}"
        expected, listings = self._tier_estimates(matches, params)
        walk = expected * expected >= WALK_FACTOR * (skip + max(take, 1)) * listings
        if not walk:
            page, others = self._collected_page(conditions, skip, take, params)
            return found + (page if take else []), min(named + others, q.count_cap)
        if take:
            found += self._ids(conditions, "e.sort_name", skip + take, params)[skip:]
        if expected >= ESTIMATE_SKIPS_COUNT * q.count_cap:
            return found, q.count_cap
        return found, min(named + self._capped_count(matches, params), q.count_cap)

    def _tier_estimates(self, matches: str, params: dict[str, Any]) -> tuple[float, float]:
        """One round trip: the expected matches of a tier and the tenant's listings."""
        listings = f"SELECT 1 FROM {_ENTRIES} AS e WHERE e.tenant_id = %(tenant)s"
        rows = self._plan_rows(f"{matches} UNION ALL {listings}", params)
        return (rows[0], rows[1]) if len(rows) == 2 else (rows[0], rows[0])

    def _similar_names(self) -> tuple[list[int], int]:
        """A single misspelt name, matched by trigram similarity (pg_trgm)."""
        q = self.q
        params = {**self.params, "word": q.words[0]}
        conditions = self._base() + self._columns_filter() + ["e.sort_name %% %(word)s"]
        ids = self._ids(conditions, "similarity(e.sort_name, %(word)s) DESC, e.sort_name", q.need, params)
        return ids[q.offset :], self._count(conditions, params)

    def _alphabetical(self) -> tuple[list[int], int]:
        q = self.q
        conditions = self._base() + self._columns_filter()
        ids = self._ids(conditions, "e.sort_name", q.need, self.params)
        return ids[q.offset :], self._count(conditions, self.params)

    def _rows(self, ids: list[int]) -> list[DirectoryRow]:
        """The page's listings with the networks each approved provider belongs to on the query's
        date, in one statement (a listing comes back once per network membership)."""
        if not ids:
            return []
        rows = self.connection.exec_driver_sql(_PAGE_ROWS, {"tenant": self.q.tenant_id, "on": self.q.on, "ids": ids})
        return _listings(rows, ids)


def requests_in_states(session: Session, states: Iterable[str], limit: int) -> list[m.CredentialingRequest]:
    """Credentialing requests in the given states, oldest first (the work queue's order)."""
    stmt = (
        select(m.CredentialingRequest)
        .where(m.CredentialingRequest.state.in_(list(states)))
        .order_by(m.CredentialingRequest.opened_at, m.CredentialingRequest.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
