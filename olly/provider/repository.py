"""Every query of the provider domain.

ORM statements are tenant-filtered by the unit of work; the Core statements used for the directory
name ``tenant_id`` explicitly. Rows that a use case will change are read ``FOR UPDATE`` (PostgreSQL;
SQLite's single writer already serialises them).
"""

from __future__ import annotations

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
    Select,
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


def networks_on(
    session: Session, provider_ids: Sequence[uuid.UUID], on: date
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """(network, tier) pairs in effect on ``on`` for each provider (for directory results)."""
    if not provider_ids:
        return {}
    stmt = (
        select(m.NetworkMembership.provider_id, m.NetworkMembership.network, m.NetworkMembership.tier)
        .where(
            m.NetworkMembership.provider_id.in_(list(provider_ids)),
            m.NetworkMembership.effective_from <= on,
            or_(m.NetworkMembership.effective_to.is_(None), m.NetworkMembership.effective_to >= on),
        )
        .order_by(m.NetworkMembership.network, m.NetworkMembership.tier)
    )
    result: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for row in session.execute(stmt):
        pairs = result.setdefault(row.provider_id, [])
        if (row.network, row.tier) not in pairs:
            pairs.append((row.network, row.tier))
    return result


def get_fee_schedule(session: Session, schedule_id: uuid.UUID) -> m.FeeSchedule | None:
    return session.get(m.FeeSchedule, schedule_id)


def get_fee_schedule_by_code(session: Session, code: str) -> m.FeeSchedule | None:
    return session.scalars(select(m.FeeSchedule).where(m.FeeSchedule.code == code)).one_or_none()


def list_fee_schedules(session: Session) -> list[m.FeeSchedule]:
    return list(session.scalars(select(m.FeeSchedule).order_by(m.FeeSchedule.code)))


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


@dataclass(frozen=True, slots=True)
class DirectoryFilter:
    """A directory query in database terms (the service turns the API query into this)."""

    tenant_id: uuid.UUID
    on: date
    fts_query: str | None = None
    """SQLite FTS5 MATCH expression."""
    ts_query: str | None = None
    """PostgreSQL to_tsquery expression."""
    raw_text: str | None = None
    """The user's words, for trigram name similarity on PostgreSQL."""
    latitude: float | None = None
    longitude: float | None = None
    radius_miles: float | None = None
    box: tuple[float, float, float, float] | None = None
    language: str | None = None
    accepting_new_patients: bool | None = None
    network: str | None = None
    kind: str | None = None
    limit: int = 20
    offset: int = 0
    count_cap: int = 10_000


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    entry: dict[str, Any]
    distance_miles: float | None
    score: float | None


def _distance(lat: float, lon: float) -> ColumnElement[float]:
    """Haversine distance in miles from (lat, lon) to each entry, in SQL (SQLite math functions or PostgreSQL)."""
    e = _directory.c
    d_lat = func.radians(e.latitude - lat) / 2
    d_lon = func.radians(e.longitude - lon) / 2
    a = func.sin(d_lat) * func.sin(d_lat) + func.cos(func.radians(lat)) * func.cos(func.radians(e.latitude)) * func.sin(
        d_lon
    ) * func.sin(d_lon)
    return (2 * _EARTH_RADIUS_MILES * func.asin(func.sqrt(a))).cast(Float)


def search_directory(session: Session, query: DirectoryFilter, *, sqlite: bool) -> tuple[list[DirectoryRow], int]:
    """One page of listings and the number of matches (counted up to ``count_cap``).

    On PostgreSQL a text query that matches nothing is retried as a trigram similarity search on
    names (pg_trgm), so a misspelt name still finds the provider. SQLite's FTS5 has no such
    fallback; every query that matches on full text returns the same listings on both engines.
    """
    rows, total = _search(session, query, sqlite=sqlite, fuzzy=False)
    if total == 0 and not sqlite and query.raw_text:
        rows, total = _search(session, query, sqlite=sqlite, fuzzy=True)
    return rows, total


def _search(session: Session, query: DirectoryFilter, *, sqlite: bool, fuzzy: bool) -> tuple[list[DirectoryRow], int]:
    e = _directory.c
    conditions: list[ColumnElement[bool]] = [e.tenant_id == query.tenant_id]
    score: ColumnElement[Any] | None = None
    source: Any = _directory
    text_search = query.fts_query if sqlite else query.ts_query
    if fuzzy and query.raw_text:
        conditions.append(e.sort_name.op("%")(query.raw_text))
        # Higher is better on PostgreSQL; negated so that ascending order is best-first on both.
        score = -func.similarity(e.sort_name, query.raw_text)
    elif text_search:
        if sqlite:
            source = _directory.join(_fts, _fts.c.rowid == e.id)
            conditions.append(literal_column("provider_directory_fts").op("MATCH")(text_search))
            score = literal_column(f"bm25(provider_directory_fts, {_BM25_WEIGHTS})")
        else:
            vector: ColumnElement[Any] = literal_column("provider_directory_entries.search_vector")
            tsquery = func.to_tsquery(literal_column("'english'::regconfig"), text_search)
            conditions.append(vector.op("@@")(tsquery))
            score = -func.ts_rank(vector, tsquery)
    distance: ColumnElement[float] | None = None
    if query.latitude is not None and query.longitude is not None and query.box is not None:
        min_lat, max_lat, min_lon, max_lon = query.box
        conditions += [e.latitude.between(min_lat, max_lat), e.longitude.between(min_lon, max_lon)]
        distance = _distance(query.latitude, query.longitude)
        conditions.append(distance <= query.radius_miles)
    if query.language:
        conditions.append(e.languages.like(f"% {query.language} %"))
    if query.accepting_new_patients is not None:
        conditions.append(e.accepting_new_patients.is_(query.accepting_new_patients))
    if query.kind:
        conditions.append(e.kind == query.kind)
    if query.network:
        ms = table_of(m.NetworkMembership).c
        conditions.append(e.credentialing_status == "APPROVED")
        conditions.append(
            exists().where(
                ms.tenant_id == query.tenant_id,
                ms.provider_id == e.provider_id,
                ms.network == query.network,
                ms.effective_from <= query.on,
                or_(ms.effective_to.is_(None), ms.effective_to >= query.on),
            )
        )
    where = and_(*conditions)
    columns: list[Any] = [_directory]
    order: list[Any] = []
    if score is not None:
        columns.append(score.label("score"))
        order.append(literal_column("score"))
    if distance is not None:
        columns.append(distance.label("distance"))
        order.append(literal_column("distance"))
    order += [e.sort_name, e.id]
    page: Select[Any] = (
        select(*columns).select_from(source).where(where).order_by(*order).limit(query.limit).offset(query.offset)
    )
    rows = [
        DirectoryRow(
            {c.name: row._mapping[c.name] for c in _directory.columns},
            row._mapping.get("distance"),
            row._mapping.get("score"),
        )
        for row in session.execute(page)
    ]
    capped = select(literal_column("1")).select_from(source).where(where).limit(query.count_cap).subquery()
    total = int(session.scalar(select(func.count()).select_from(capped)) or 0)
    return rows, total
