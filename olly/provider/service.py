"""Use cases of the provider domain: load state, ask ``rules``, store the result, publish events.

Services never commit: the caller's unit of work commits once, so a use case's rows, its timers
and its outbox events land together or not at all. "Now" is ``uow.clock`` (or the ``now`` handed
to ``run_due_timers``), never the system clock.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from olly.kernel.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, OllyError, ValidationFailed
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from olly.platform import filetypes
from olly.platform.db import UnitOfWork
from olly.platform.objectstore import object_store_of
from olly.provider import models as m
from olly.provider import reference, repository
from olly.provider import rules as r
from olly.provider.events import CredentialingStatusChanged, ProviderNetworkUpdated

SYSTEM_ACTOR: Final = "system"


def _now(uow: UnitOfWork) -> datetime:
    return uow.clock.now()


def _require_provider(uow: UnitOfWork, provider_id: uuid.UUID, *, for_update: bool = False) -> m.Provider:
    provider = repository.get_provider(uow.session, provider_id, for_update=for_update)
    if provider is None:
        raise NotFound("no such provider", extra={"resource": "provider"})
    return provider


# =============================================================================================
# Registry
# =============================================================================================
def register_provider(uow: UnitOfWork, draft: r.ProviderDraft) -> m.Provider:
    """Register a provider with its taxonomies, languages, locations, licences and affiliation."""
    errors = r.validate_provider(draft, reference.taxonomies())
    if errors:
        raise ValidationFailed(errors)
    session = uow.session
    if repository.get_provider_by_npi(session, draft.npi) is not None:
        raise Conflict("a provider with this NPI is already registered", extra={"field": "npi"})
    organisation: m.Provider | None = None
    if draft.organisation_npi:
        organisation = repository.get_provider_by_npi(session, draft.organisation_npi)
        if organisation is None or organisation.kind != r.ProviderKind.ORGANISATION:
            raise ValidationFailed(
                [FieldError("organisationNpi", "is not a registered organisation provider", "unknown_organisation")]
            )
    now = _now(uow)
    provider = m.Provider(
        id=uuid7(),
        npi=draft.npi,
        kind=draft.kind.value,
        first_name=_clean(draft.first_name),
        middle_name=_clean(draft.middle_name),
        last_name=_clean(draft.last_name),
        credential=_clean(draft.credential),
        organisation_name=_clean(draft.organisation_name),
        accepting_new_patients=draft.accepting_new_patients,
        credentialing_status=r.CredentialingStatus.NOT_CREDENTIALED.value,
        created_at=now,
        updated_at=now,
    )
    # No ORM relationships, so the unit of work cannot order parent before child: the provider
    # row goes first on its own.
    repository.add(session, provider)
    session.flush()
    locations = [_location_row(provider.id, location, now) for location in draft.locations]
    repository.add(
        session,
        *(
            m.ProviderTaxonomy(provider_id=provider.id, code=code, is_primary=index == 0)
            for index, code in enumerate(draft.taxonomy_codes)
        ),
        *(m.ProviderLanguage(provider_id=provider.id, language=code) for code in draft.languages),
        *locations,
    )
    for licence in draft.licences:
        _add_licence_row(uow, provider.id, licence, now)
    if organisation is not None:
        repository.add(
            session,
            m.ProviderAffiliation(
                provider_id=provider.id,
                organisation_id=organisation.id,
                role="MEMBER",
                start_on=uow.clock.today(),
                end_on=None,
                created_at=now,
            ),
        )
    session.flush()
    if organisation is not None:
        _refresh_memberships(uow, [provider.id])
    # A new provider's listings are built from what was just written, without reading it back.
    entries = directory_entries_for(
        provider,
        tenant_id=uow.require_tenant(),
        taxonomy_codes=draft.taxonomy_codes,
        languages=draft.languages,
        locations=locations,
        organisation_names=[organisation.organisation_name or ""] if organisation is not None else [],
        now=now,
    )
    repository.insert_directory_entries(session, uow.require_tenant(), provider.id, entries)
    return provider


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _location_row(provider_id: uuid.UUID, location: r.LocationDraft, now: datetime) -> m.ProviderLocation:
    latitude, longitude = location.latitude, location.longitude
    if latitude is None or longitude is None:
        # No coordinates given: place the location at its ZIP's centre when the table knows the ZIP.
        centroid = reference.zip_centroids().get(r.normalise_zip(location.zip))
        if centroid is not None:
            latitude, longitude = centroid.latitude, centroid.longitude
    return m.ProviderLocation(
        provider_id=provider_id,
        name=_clean(location.name),
        address_line1=location.address_line1.strip(),
        address_line2=_clean(location.address_line2),
        city=location.city.strip(),
        state=location.state,
        zip=location.zip.strip(),
        phone=_clean(location.phone),
        latitude=latitude,
        longitude=longitude,
        created_at=now,
    )


def _add_licence_row(
    uow: UnitOfWork, provider_id: uuid.UUID, licence: r.LicenceDraft, now: datetime
) -> m.ProviderLicence:
    row = m.ProviderLicence(
        id=uuid7(),
        provider_id=provider_id,
        state=licence.state,
        number=licence.number.strip(),
        licence_type=_clean(licence.licence_type),
        issued_on=licence.issued_on,
        expires_on=licence.expires_on,
        revoked_on=None,
        created_at=now,
        updated_at=now,
    )
    repository.add(uow.session, row)
    _schedule_licence_timer(uow, row, now, replacing=False)  # a new licence has no timer yet
    return row


def _schedule_licence_timer(
    uow: UnitOfWork, licence: m.ProviderLicence, now: datetime, *, replacing: bool = True
) -> None:
    if replacing:
        repository.cancel_pending_timers(uow.session, licence_id=licence.id, outcome="replaced by a new expiry date")
    repository.add(
        uow.session,
        _timer(
            licence.provider_id,
            r.TimerKind.LICENCE_EXPIRY,
            r.licence_lapse_at(licence.expires_on),
            now,
            licence_id=licence.id,
        ),
    )


def _timer(
    provider_id: uuid.UUID,
    kind: r.TimerKind,
    due_at: datetime,
    now: datetime,
    *,
    request_id: uuid.UUID | None = None,
    licence_id: uuid.UUID | None = None,
    days_before: int | None = None,
) -> m.CredentialingTimer:
    return m.CredentialingTimer(
        provider_id=provider_id,
        request_id=request_id,
        licence_id=licence_id,
        kind=kind.value,
        days_before=days_before,
        due_at=due_at,
        status="PENDING",
        attempts=0,
        created_at=now,
    )


@dataclass(frozen=True, slots=True)
class ProviderChanges:
    """Fields of a provider that may change after registration (None = leave as is)."""

    accepting_new_patients: bool | None = None
    languages: tuple[str, ...] | None = None
    credential: str | None = None


def update_provider(uow: UnitOfWork, provider_id: uuid.UUID, changes: ProviderChanges) -> m.Provider:
    provider = _require_provider(uow, provider_id, for_update=True)
    if changes.languages is not None:
        bad = [
            FieldError(f"languages.{i}", "must be an ISO 639-1 code (or ase)", "unknown_language")
            for i, code in enumerate(changes.languages)
            if not r.language_is_known(code)
        ]
        if len(set(changes.languages)) != len(changes.languages):
            bad.append(FieldError("languages", "a language is listed twice", "duplicate"))
        if bad:
            raise ValidationFailed(bad)
        repository.replace_languages(uow.session, provider.id, changes.languages)
    if changes.accepting_new_patients is not None:
        provider.accepting_new_patients = changes.accepting_new_patients
    if changes.credential is not None:
        if len(changes.credential) > 20:
            raise ValidationFailed([FieldError("credential", "is longer than 20 characters", "too_long")])
        provider.credential = _clean(changes.credential)
    provider.updated_at = _now(uow)
    uow.session.flush()
    rebuild_directory(uow, provider.id)
    return provider


def add_location(uow: UnitOfWork, provider_id: uuid.UUID, location: r.LocationDraft) -> m.ProviderLocation:
    provider = _require_provider(uow, provider_id, for_update=True)
    errors = r.validate_location(location)
    if errors:
        raise ValidationFailed(errors)
    row = _location_row(provider.id, location, _now(uow))
    repository.add(uow.session, row)
    uow.session.flush()
    rebuild_directory(uow, provider.id)
    return row


def remove_location(uow: UnitOfWork, provider_id: uuid.UUID, location_id: uuid.UUID) -> None:
    location = repository.get_location(uow.session, location_id)
    if location is None or location.provider_id != provider_id:
        raise NotFound("no such location for this provider", extra={"resource": "location"})
    repository.delete_location(uow.session, location)
    uow.session.flush()
    rebuild_directory(uow, provider_id)


def add_licence(uow: UnitOfWork, provider_id: uuid.UUID, licence: r.LicenceDraft) -> m.ProviderLicence:
    provider = _require_provider(uow, provider_id, for_update=True)
    errors = r.validate_licence(licence)
    if errors:
        raise ValidationFailed(errors)
    if any(
        lic.state == licence.state and lic.number == licence.number.strip()
        for lic in repository.licences_of(uow.session, provider.id)
    ):
        raise Conflict("this licence is already recorded; renew it instead", extra={"field": "number"})
    row = _add_licence_row(uow, provider.id, licence, _now(uow))
    uow.session.flush()
    return row


def renew_licence(uow: UnitOfWork, licence_id: uuid.UUID, expires_on: date) -> m.ProviderLicence:
    """Record a licence's new expiry date; its expiry timer moves with it."""
    licence = repository.get_licence(uow.session, licence_id, for_update=True)
    if licence is None:
        raise NotFound("no such licence", extra={"resource": "licence"})
    if expires_on <= licence.expires_on:
        raise BusinessRuleViolation(
            "a renewal moves the expiry date later", extra={"reason": "not_later", "field": "expiresOn"}
        )
    now = _now(uow)
    licence.expires_on = expires_on
    licence.updated_at = now
    _schedule_licence_timer(uow, licence, now)
    uow.session.flush()
    return licence


def add_affiliation(
    uow: UnitOfWork,
    provider_id: uuid.UUID,
    organisation_id: uuid.UUID,
    *,
    role: str = "MEMBER",
    start_on: date | None = None,
    end_on: date | None = None,
) -> m.ProviderAffiliation:
    provider = _require_provider(uow, provider_id)
    organisation = _require_provider(uow, organisation_id)
    if provider.kind != r.ProviderKind.INDIVIDUAL or organisation.kind != r.ProviderKind.ORGANISATION:
        raise BusinessRuleViolation(
            "an affiliation links an individual to an organisation", extra={"reason": "wrong_kinds"}
        )
    start = start_on or uow.clock.today()
    if end_on is not None and end_on < start:
        raise BusinessRuleViolation("an affiliation cannot end before it starts", extra={"reason": "invalid_period"})
    if not role.strip() or len(role) > 40:
        raise ValidationFailed([FieldError("role", "is required (at most 40 characters)", "required")])
    for existing in repository.affiliations_of(uow.session, provider.id):
        if existing.organisation_id == organisation.id and DatePeriod(existing.start_on, existing.end_on).overlaps(
            DatePeriod(start, end_on)
        ):
            raise Conflict("the provider is already affiliated with this organisation for that period")
    row = m.ProviderAffiliation(
        provider_id=provider.id,
        organisation_id=organisation.id,
        role=role.strip().upper(),
        start_on=start,
        end_on=end_on,
        created_at=_now(uow),
    )
    repository.add(uow.session, row)
    uow.session.flush()
    _refresh_memberships(uow, [provider.id])
    rebuild_directory(uow, provider.id)
    return row


def end_affiliation(uow: UnitOfWork, affiliation_id: uuid.UUID, end_on: date) -> m.ProviderAffiliation:
    affiliation = repository.get_affiliation(uow.session, affiliation_id)
    if affiliation is None:
        raise NotFound("no such affiliation", extra={"resource": "affiliation"})
    if end_on < affiliation.start_on - timedelta(days=1):
        raise BusinessRuleViolation("an affiliation cannot end before it starts", extra={"reason": "invalid_period"})
    if affiliation.end_on is not None and end_on > affiliation.end_on:
        raise BusinessRuleViolation("ending cannot extend an affiliation", extra={"reason": "extends_affiliation"})
    affiliation.end_on = end_on
    uow.session.flush()
    _refresh_memberships(uow, [affiliation.provider_id])
    rebuild_directory(uow, affiliation.provider_id)
    return affiliation


# -- bulk import ---------------------------------------------------------------------------------
IMPORT_COLUMNS: Final = (
    "npi",
    "kind",
    "first_name",
    "middle_name",
    "last_name",
    "credential",
    "organisation_name",
    "taxonomy_codes",
    "languages",
    "accepting_new_patients",
    "location_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "phone",
    "latitude",
    "longitude",
    "licence_state",
    "licence_number",
    "licence_expires_on",
    "organisation_npi",
)
REQUIRED_IMPORT_COLUMNS: Final = frozenset({"npi", "kind", "taxonomy_codes"})
_YES: Final = frozenset({"y", "yes", "true", "1"})
_NO: Final = frozenset({"n", "no", "false", "0", ""})


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str
    code: str


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0
    """Rows whose NPI was already registered (so a corrected file can simply be re-run)."""
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    provider_ids: list[uuid.UUID] = field(default_factory=list)

    def merge(self, other: ImportReport) -> None:
        self.imported += other.imported
        self.skipped += other.skipped
        self.failed += other.failed
        self.errors.extend(other.errors)
        self.provider_ids.extend(other.provider_ids)

    @property
    def rows(self) -> int:
        return self.imported + self.skipped + self.failed


def read_import_csv(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a provider import file; refuses a header without the required columns."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = sorted(REQUIRED_IMPORT_COLUMNS - set(header))
    unknown = sorted(set(header) - set(IMPORT_COLUMNS))
    if missing or unknown:
        errors = [FieldError(f"header.{c}", "required column is missing", "missing_column") for c in missing]
        errors += [FieldError(f"header.{c}", "is not a known column", "unknown_column") for c in unknown]
        raise ValidationFailed(errors)
    reader.fieldnames = header
    for row in reader:
        if None in row:
            yield reader.line_num, {"__extra__": "1"}
            continue
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}


def draft_from_row(row: Mapping[str, str]) -> tuple[r.ProviderDraft | None, list[FieldError]]:
    """Parse one import row into a draft; parse errors name the CSV column."""
    errors: list[FieldError] = []
    if "__extra__" in row:
        return None, [FieldError("row", "has more fields than the header", "too_many_fields")]
    try:
        kind = r.ProviderKind(row.get("kind", "").upper())
    except ValueError:
        return None, [FieldError("kind", "must be INDIVIDUAL or ORGANISATION", "invalid_kind")]
    accepting_text = row.get("accepting_new_patients", "").lower()
    if accepting_text not in _YES | _NO:
        errors.append(FieldError("accepting_new_patients", "must be Y or N", "invalid_boolean"))
    locations: tuple[r.LocationDraft, ...] = ()
    if any(row.get(c) for c in ("address_line1", "city", "state", "zip")):
        latitude = longitude = None
        if row.get("latitude") or row.get("longitude"):
            try:
                latitude, longitude = float(row.get("latitude", "")), float(row.get("longitude", ""))
            except ValueError:
                errors.append(
                    FieldError("latitude", "latitude and longitude must both be decimal degrees", "invalid_coordinates")
                )
        locations = (
            r.LocationDraft(
                address_line1=row.get("address_line1", ""),
                address_line2=row.get("address_line2") or None,
                city=row.get("city", ""),
                state=row.get("state", "").upper(),
                zip=row.get("zip", ""),
                name=row.get("location_name") or None,
                phone=row.get("phone") or None,
                latitude=latitude,
                longitude=longitude,
            ),
        )
    licences: tuple[r.LicenceDraft, ...] = ()
    if any(row.get(c) for c in ("licence_state", "licence_number", "licence_expires_on")):
        try:
            expires = date.fromisoformat(row.get("licence_expires_on", ""))
        except ValueError:
            errors.append(FieldError("licence_expires_on", "must be a date YYYY-MM-DD", "invalid_date"))
        else:
            licences = (r.LicenceDraft(row.get("licence_state", "").upper(), row.get("licence_number", ""), expires),)
    draft = r.ProviderDraft(
        npi=row.get("npi", ""),
        kind=kind,
        first_name=row.get("first_name") or None,
        middle_name=row.get("middle_name") or None,
        last_name=row.get("last_name") or None,
        credential=row.get("credential") or None,
        organisation_name=row.get("organisation_name") or None,
        taxonomy_codes=_split(row.get("taxonomy_codes", ""), upper=True),
        languages=_split(row.get("languages", ""), upper=False),
        accepting_new_patients=accepting_text in _YES,
        locations=locations,
        licences=licences,
        organisation_npi=row.get("organisation_npi") or None,
    )
    validation = r.validate_provider(draft, reference.taxonomies())
    errors += [_to_column_error(e) for e in validation]
    return (None, errors) if errors else (draft, [])


_FIELD_TO_COLUMN: Final = {
    "firstName": "first_name",
    "middleName": "middle_name",
    "lastName": "last_name",
    "organisationName": "organisation_name",
    "organisationNpi": "organisation_npi",
    "taxonomyCodes": "taxonomy_codes",
    "locations.0.addressLine1": "address_line1",
    "locations.0.city": "city",
    "locations.0.state": "state",
    "locations.0.zip": "zip",
    "locations.0.latitude": "latitude",
    "licences.0.state": "licence_state",
    "licences.0.number": "licence_number",
    "licences.0.expiresOn": "licence_expires_on",
}


def _to_column_error(error: FieldError) -> FieldError:
    name = error.field
    if name.startswith("taxonomyCodes."):
        return FieldError("taxonomy_codes", error.message, error.code)
    if name.startswith("languages"):
        return FieldError("languages", error.message, error.code)
    return FieldError(_FIELD_TO_COLUMN.get(name, name), error.message, error.code)


def _split(text: str, *, upper: bool) -> tuple[str, ...]:
    parts = [p.strip() for p in re.split(r"[;|]", text) if p.strip()]
    return tuple(p.upper() if upper else p.lower() for p in parts)


def import_providers(uow: UnitOfWork, rows: Iterable[tuple[int, Mapping[str, str]]]) -> ImportReport:
    """Import a batch of rows. Each row is atomic (a savepoint): a bad row leaves nothing behind and
    the good rows of the batch are kept. A row whose NPI is already registered is skipped."""
    report = ImportReport()
    batch = list(rows)
    registered = repository.npis_registered(uow.session, (row.get("npi", "") for _, row in batch))
    for line, row in batch:
        draft, errors = draft_from_row(row)
        if draft is None:
            report.failed += 1
            report.errors += [RowError(line, e.field, e.message, e.code) for e in errors]
            continue
        if draft.npi in registered:
            report.skipped += 1
            continue
        savepoint = uow.session.begin_nested()
        try:
            provider = register_provider(uow, draft)
        except ValidationFailed as exc:
            savepoint.rollback()
            report.failed += 1
            report.errors += [RowError(line, _to_column_error(e).field, e.message, e.code) for e in exc.errors]
            continue
        except OllyError as exc:
            savepoint.rollback()
            report.failed += 1
            report.errors.append(RowError(line, str(exc.extra.get("field", "row")), exc.detail, exc.code))
            continue
        savepoint.commit()
        registered.add(draft.npi)
        report.imported += 1
        report.provider_ids.append(provider.id)
    return report


# =============================================================================================
# Directory
# =============================================================================================
def rebuild_directory(uow: UnitOfWork, provider_id: uuid.UUID) -> None:
    """Rewrite a provider's directory listings from its registry rows (one per location)."""
    session = uow.session
    provider = _require_provider(uow, provider_id)
    entries = directory_entries_for(
        provider,
        tenant_id=uow.require_tenant(),
        taxonomy_codes=[t.code for t in repository.taxonomies_of(session, provider.id)],
        languages=repository.languages_of(session, provider.id),
        locations=repository.locations_of(session, provider.id),
        organisation_names=_current_organisation_names(uow, provider.id),
        now=_now(uow),
    )
    repository.replace_directory_entries(session, uow.require_tenant(), provider.id, entries)


def _current_organisation_names(uow: UnitOfWork, provider_id: uuid.UUID) -> list[str]:
    today = uow.clock.today()
    current = [
        a.organisation_id
        for a in repository.affiliations_of(uow.session, provider_id)
        if DatePeriod(a.start_on, a.end_on).contains(today) or a.start_on > today
    ]
    names = repository.organisation_names(uow.session, current)
    return sorted({names[i] for i in current if names.get(i)})


def directory_entries_for(
    provider: m.Provider,
    *,
    tenant_id: uuid.UUID,
    taxonomy_codes: Sequence[str],
    languages: Sequence[str],
    locations: Sequence[m.ProviderLocation],
    organisation_names: Sequence[str],
    now: datetime,
) -> list[dict[str, Any]]:
    """The directory rows of one provider (also used by bulk loaders, so demo data matches real data)."""
    taxonomies = reference.taxonomies()
    known = [taxonomies[c] for c in taxonomy_codes if c in taxonomies]
    specialties: list[str] = []
    for taxonomy in known:
        if taxonomy.specialty not in specialties:
            specialties.append(taxonomy.specialty)
    taxonomy_text = " ".join(" ".join(p for p in (t.code, t.display_name, t.classification) if p) for t in known)
    kind = r.ProviderKind(provider.kind)
    base: dict[str, Any] = {
        "npi": provider.npi,
        "kind": provider.kind,
        "display_name": r.display_name(
            kind,
            first_name=provider.first_name,
            middle_name=provider.middle_name,
            last_name=provider.last_name,
            credential=provider.credential,
            organisation_name=provider.organisation_name,
        ),
        "sort_name": r.sort_name(
            kind,
            first_name=provider.first_name,
            last_name=provider.last_name,
            organisation_name=provider.organisation_name,
        ),
        "specialties": "; ".join(specialties),
        "taxonomy_text": taxonomy_text,
        "organisation_names": "; ".join(organisation_names),
        "languages": " " + " ".join(sorted(languages)) + " " if languages else " ",
        "accepting_new_patients": provider.accepting_new_patients,
        "credentialing_status": provider.credentialing_status,
        "updated_at": now,
    }

    def facets(latitude: float | None, longitude: float | None) -> str:
        return r.directory_facets(
            tenant_id, provider.kind, languages, provider.accepting_new_patients, latitude, longitude
        )

    if not locations:
        return [
            {
                **base,
                "facets": facets(None, None),
                "location_id": None,
                "location_name": None,
                "address_line1": None,
                "city": None,
                "state": None,
                "zip": None,
                "phone": None,
                "latitude": None,
                "longitude": None,
            }
        ]
    return [
        {
            **base,
            "facets": facets(loc.latitude, loc.longitude),
            "location_id": loc.id,
            "location_name": loc.name,
            "address_line1": loc.address_line1,
            "city": loc.city,
            "state": loc.state,
            "zip": loc.zip,
            "phone": loc.phone,
            "latitude": loc.latitude,
            "longitude": loc.longitude,
        }
        for loc in locations
    ]


MAX_PAGE_SIZE: Final = 50
#: Pages reach the first 500 results (25 pages of 20); counts stop there too ("500+").
MAX_RESULT_WINDOW: Final = 500
COUNT_CAP: Final = MAX_RESULT_WINDOW
_WORD_RE: Final = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿ]+")


@dataclass(frozen=True, slots=True)
class DirectoryQuery:
    text: str | None = None
    zip: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_miles: float | None = None
    language: str | None = None
    accepting_new_patients: bool | None = None
    network: str | None = None
    kind: r.ProviderKind | None = None
    on: date | None = None
    """Date the network filter applies to (default: today)."""
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True, slots=True)
class DirectoryListing:
    provider_id: uuid.UUID
    npi: str
    kind: str
    name: str
    specialties: tuple[str, ...]
    languages: tuple[str, ...]
    accepting_new_patients: bool
    organisations: tuple[str, ...]
    networks: tuple[tuple[str, str], ...]
    """(network, tier) in effect on the query date, for credentialed providers."""
    location_id: uuid.UUID | None
    location_name: str | None
    address_line1: str | None
    city: str | None
    state: str | None
    zip: str | None
    phone: str | None
    latitude: float | None
    longitude: float | None
    distance_miles: float | None


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    results: tuple[DirectoryListing, ...]
    total: int
    total_is_exact: bool
    page: int
    page_size: int


def query_words(text: str) -> tuple[str, ...]:
    """The user's words, lower-cased, letters and digits only (at most eight): nothing else reaches
    either full-text engine, so no query syntax can be injected."""
    return tuple(w.lower() for w in _WORD_RE.findall(text or ""))[:8]


def search_directory(uow: UnitOfWork, query: DirectoryQuery) -> DirectoryPage:
    """Public directory search: full text, location radius, language, new patients, network; ranked, paged."""
    errors: list[FieldError] = []
    if not 1 <= query.page_size <= MAX_PAGE_SIZE:
        errors.append(FieldError("pageSize", f"must be from 1 to {MAX_PAGE_SIZE}", "out_of_range"))
    if query.page < 1 or query.page * query.page_size > MAX_RESULT_WINDOW:
        errors.append(FieldError("page", f"pages reach the first {MAX_RESULT_WINDOW} results only", "out_of_range"))
    latitude, longitude = query.latitude, query.longitude
    if (latitude is None) != (longitude is None):
        errors.append(FieldError("latitude", "latitude and longitude come together", "incomplete_coordinates"))
    if query.zip is not None:
        if latitude is not None:
            errors.append(FieldError("zip", "give a ZIP or coordinates, not both", "conflicting_location"))
        centroid = reference.zip_centroids().get(r.normalise_zip(query.zip)) if r.zip_is_valid(query.zip) else None
        if centroid is None:
            errors.append(FieldError("zip", "is not in the ZIP centre-point table", "unknown_zip"))
        else:
            latitude, longitude = centroid.latitude, centroid.longitude
    elif latitude is not None and longitude is not None and not r.coordinates_are_valid(latitude, longitude):
        errors.append(FieldError("latitude", "coordinates are out of range", "invalid_coordinates"))
    radius = query.radius_miles if query.radius_miles is not None else r.DEFAULT_RADIUS_MILES
    if not 0 < radius <= r.MAX_RADIUS_MILES:
        errors.append(FieldError("radiusMiles", f"must be above 0 and at most {r.MAX_RADIUS_MILES:g}", "out_of_range"))
    if query.radius_miles is not None and latitude is None and query.zip is None:
        errors.append(FieldError("radiusMiles", "needs a ZIP or coordinates", "missing_location"))
    if query.language is not None and not r.language_is_known(query.language):
        errors.append(FieldError("language", "must be an ISO 639-1 code (or ase)", "unknown_language"))
    if query.text is not None and len(query.text) > 200:
        errors.append(FieldError("q", "is longer than 200 characters", "too_long"))
    if errors:
        raise ValidationFailed(errors)
    tenant = uow.require_tenant()
    on = query.on or uow.clock.today()
    facets = [r.tenant_token(tenant)]
    if query.language:
        facets.append(r.language_token(query.language))
    if query.accepting_new_patients is not None:
        facets.append(r.accepting_token(query.accepting_new_patients))
    if query.kind:
        facets.append(r.kind_token(query.kind))
    rings: list[repository.Ring] = []
    if latitude is not None and longitude is not None:
        for ring_radius in r.search_rings(radius):
            b = r.bounding_box(latitude, longitude, ring_radius)
            rings.append(
                repository.Ring(
                    ring_radius,
                    (b.min_latitude, b.max_latitude, b.min_longitude, b.max_longitude),
                    tuple(r.geo_cells_covering(b)),
                )
            )
    database_filter = repository.DirectoryFilter(
        tenant_id=tenant,
        on=on,
        words=query_words(query.text or ""),
        facets=tuple(facets),
        latitude=latitude,
        longitude=longitude,
        rings=tuple(rings),
        language=query.language,
        accepting_new_patients=query.accepting_new_patients,
        kind=query.kind.value if query.kind else None,
        network=query.network,
        miles_per_degree=r.MILES_PER_DEGREE,
        limit=query.page_size,
        offset=(query.page - 1) * query.page_size,
        count_cap=COUNT_CAP,
    )
    sqlite = uow.session.get_bind().dialect.name == "sqlite"
    rows, total = repository.search_directory(uow.session, database_filter, sqlite=sqlite)

    def distance(entry: Mapping[str, Any]) -> float | None:
        if latitude is None or longitude is None or entry["latitude"] is None or entry["longitude"] is None:
            return None
        return round(r.flat_distance_miles(latitude, longitude, entry["latitude"], entry["longitude"]), 2)

    results = tuple(
        DirectoryListing(
            provider_id=row.entry["provider_id"],
            npi=row.entry["npi"],
            kind=row.entry["kind"],
            name=row.entry["display_name"],
            specialties=tuple(s for s in row.entry["specialties"].split("; ") if s),
            languages=tuple(row.entry["languages"].split()),
            accepting_new_patients=bool(row.entry["accepting_new_patients"]),
            organisations=tuple(s for s in row.entry["organisation_names"].split("; ") if s),
            networks=row.networks,
            location_id=row.entry["location_id"],
            location_name=row.entry["location_name"],
            address_line1=row.entry["address_line1"],
            city=row.entry["city"],
            state=row.entry["state"],
            zip=row.entry["zip"],
            phone=row.entry["phone"],
            latitude=row.entry["latitude"],
            longitude=row.entry["longitude"],
            distance_miles=distance(row.entry),
        )
        for row in rows
    )
    return DirectoryPage(results, total, total < COUNT_CAP, query.page, query.page_size)


# =============================================================================================
# Credentialing
# =============================================================================================
def open_credentialing(uow: UnitOfWork, provider_id: uuid.UUID) -> m.CredentialingRequest:
    """Open an application: INITIAL for a provider never approved, RECREDENTIALING for an approved one."""
    provider = _require_provider(uow, provider_id, for_update=True)
    if repository.open_request_of(uow.session, provider.id, [s.value for s in r.OPEN_STATES]) is not None:
        raise Conflict("the provider already has an open credentialing request")
    kind = (
        r.RequestKind.RECREDENTIALING
        if provider.credentialing_status == r.CredentialingStatus.APPROVED
        else r.RequestKind.INITIAL
    )
    return _new_request(uow, provider.id, kind, _now(uow))


def _new_request(uow: UnitOfWork, provider_id: uuid.UUID, kind: r.RequestKind, now: datetime) -> m.CredentialingRequest:
    request = m.CredentialingRequest(
        id=uuid7(),
        provider_id=provider_id,
        kind=kind.value,
        state=r.RequestState.APPLICATION.value,
        opened_at=now,
        updated_at=now,
    )
    repository.add(uow.session, request)
    uow.session.flush()
    return request


def _require_request(uow: UnitOfWork, request_id: uuid.UUID) -> m.CredentialingRequest:
    request = repository.get_request(uow.session, request_id, for_update=True)
    if request is None:
        raise NotFound("no such credentialing request", extra={"resource": "credentialing_request"})
    return request


@dataclass(frozen=True, slots=True)
class DocumentMetadata:
    kind: r.DocumentKind
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str


_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")


def document_metadata(kind: r.DocumentKind, file_name: str, content_type: str, content: bytes) -> DocumentMetadata:
    """Metadata of a file whose bytes stay elsewhere (``store_document`` keeps the bytes too)."""
    return DocumentMetadata(kind, file_name, content_type, len(content), hashlib.sha256(content).hexdigest())


#: The object-store kind of credentialing documents (a segment of every key).
DOCUMENT_OBJECT_KIND: Final = "credentialing_document"


def add_document(uow: UnitOfWork, request_id: uuid.UUID, document: DocumentMetadata) -> m.CredentialingDocument:
    """Record a document held elsewhere by its metadata (no bytes are stored)."""
    request = _require_request(uow, request_id)
    r.check_documents_accepted(r.RequestState(request.state))
    errors: list[FieldError] = []
    if not document.file_name.strip() or len(document.file_name) > 255 or "/" in document.file_name:
        errors.append(
            FieldError("fileName", "is required: a plain file name of at most 255 characters", "invalid_file_name")
        )
    if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", document.content_type):
        errors.append(FieldError("contentType", "must be a media type such as application/pdf", "invalid_content_type"))
    if document.size_bytes < 0:
        errors.append(FieldError("sizeBytes", "cannot be negative", "out_of_range"))
    if not _SHA256_RE.match(document.sha256):
        errors.append(FieldError("sha256", "must be 64 lowercase hexadecimal digits", "invalid_digest"))
    if errors:
        raise ValidationFailed(errors)
    return _add_document_row(uow, request, document, object_key=None)


def store_document(
    uow: UnitOfWork, request_id: uuid.UUID, kind: r.DocumentKind, file_name: str | None, content: bytes
) -> m.CredentialingDocument:
    """Keep an uploaded document: its type from its own bytes (PDF, JPEG, PNG), size and SHA-256
    computed here, the bytes sealed in the object store under the tenant's key. Nothing is stored
    when the application is closed or the file is refused."""
    request = _require_request(uow, request_id)
    r.check_documents_accepted(r.RequestState(request.state))
    content_type = filetypes.sniff(content)
    errors = r.document_file_errors(len(content), content_type)
    if errors or content_type is None:
        raise ValidationFailed(errors)
    metadata = DocumentMetadata(
        kind,
        r.upload_file_name(file_name, kind, filetypes.EXTENSIONS[content_type]),
        content_type,
        len(content),
        hashlib.sha256(content).hexdigest(),
    )
    key = object_store_of(uow).put(uow, DOCUMENT_OBJECT_KIND, content)
    return _add_document_row(uow, request, metadata, object_key=key)


def _add_document_row(
    uow: UnitOfWork, request: m.CredentialingRequest, document: DocumentMetadata, *, object_key: str | None
) -> m.CredentialingDocument:
    row = m.CredentialingDocument(
        request_id=request.id,
        kind=document.kind.value,
        file_name=document.file_name.strip(),
        content_type=document.content_type,
        size_bytes=document.size_bytes,
        sha256=document.sha256,
        object_key=object_key,
        received_at=_now(uow),
    )
    repository.add(uow.session, row)
    request.updated_at = _now(uow)
    uow.session.flush()
    return row


@dataclass(frozen=True, slots=True)
class DocumentFile:
    document: m.CredentialingDocument
    content: bytes


def document_file(uow: UnitOfWork, request_id: uuid.UUID, document_id: uuid.UUID) -> DocumentFile:
    """An uploaded document's bytes; NotFound for a document of another request (or none) and for a
    document recorded by its metadata only."""
    document = repository.get_document(uow.session, request_id, document_id)
    if document is None:
        raise NotFound("no such document in this credentialing request", extra={"resource": "credentialing_document"})
    if document.object_key is None:
        raise NotFound(
            "no file stored for this document: it was recorded by its metadata only",
            extra={"resource": "credentialing_document", "reason": "no_file_stored"},
        )
    return DocumentFile(document, object_store_of(uow).get(uow, document.object_key))


def submit_application(uow: UnitOfWork, request_id: uuid.UUID) -> m.CredentialingRequest:
    request = _require_request(uow, request_id)
    documents = repository.documents_of(uow.session, request.id)
    r.check_submission(r.RequestState(request.state), [r.DocumentKind(d.kind) for d in documents])
    provider = _require_provider(uow, request.provider_id)
    now = _now(uow)
    for entry in r.checklist_for(now.date(), r.ProviderKind(provider.kind)):
        repository.add(
            uow.session,
            m.CredentialingVerification(
                request_id=request.id, item=entry.item.value, status=entry.status.value, due_on=entry.due_on
            ),
        )
    request.state = r.RequestState.VERIFICATION.value
    request.submitted_at = now
    request.updated_at = now
    uow.session.flush()
    return request


def record_verification(
    uow: UnitOfWork,
    request_id: uuid.UUID,
    item: r.VerificationItem,
    status: r.VerificationStatus,
    *,
    source: str | None,
    evidence: str | None,
    actor: str,
) -> m.CredentialingVerification:
    """Record one primary-source verification result; the last one sends the request to the committee."""
    request = _require_request(uow, request_id)
    r.check_verification_update(r.RequestState(request.state), item, status, evidence)
    verifications = repository.verifications_of(uow.session, request.id)
    target = next((v for v in verifications if v.item == item), None)
    if target is None:  # pragma: no cover - every submitted request has the full checklist
        raise NotFound("no such checklist item", extra={"resource": "verification"})
    now = _now(uow)
    target.status = status.value
    target.source = _clean(source)
    target.evidence = _clean(evidence)
    target.verified_at = now
    target.verified_by = actor
    request.updated_at = now
    if r.checklist_complete(r.VerificationStatus(v.status) for v in verifications):
        request.state = r.require_transition(r.RequestState(request.state), r.RequestState.COMMITTEE_REVIEW).value
    uow.session.flush()
    return target


def withdraw_request(uow: UnitOfWork, request_id: uuid.UUID) -> m.CredentialingRequest:
    request = _require_request(uow, request_id)
    request.state = r.require_transition(r.RequestState(request.state), r.RequestState.WITHDRAWN).value
    request.updated_at = _now(uow)
    uow.session.flush()
    return request


def decide(
    uow: UnitOfWork,
    request_id: uuid.UUID,
    decision: r.CommitteeDecision,
    *,
    actor: str,
    reason: str | None = None,
    effective_on: date | None = None,
) -> m.CredentialingRequest:
    """The credentialing committee's decision: APPROVED (with recredentialing timers) or DENIED."""
    request = _require_request(uow, request_id)
    provider = _require_provider(uow, request.provider_id, for_update=True)
    now = _now(uow)
    today = now.date()
    checklist = {
        r.VerificationItem(v.item): r.VerificationStatus(v.status)
        for v in repository.verifications_of(uow.session, request.id)
    }
    next_state = r.check_decision(
        r.RequestState(request.state),
        decision,
        checklist,
        reason,
        has_active_sanction=_has_active_sanction(uow, provider.id, today),
        licences_lapsed=_licences_lapsed(uow, provider.id, today),
    )
    previous_request = (
        repository.get_request(uow.session, provider.current_request_id, for_update=True)
        if provider.current_request_id and provider.current_request_id != request.id
        else None
    )
    request.state = next_state.value
    request.decided_at = now
    request.decided_by = actor
    request.decision_reason = _clean(reason)
    request.updated_at = now
    if previous_request is not None and previous_request.state == r.RequestState.APPROVED:
        previous_request.state = r.require_transition(
            r.RequestState(previous_request.state), r.RequestState.SUPERSEDED
        ).value
        previous_request.updated_at = now
        repository.cancel_pending_timers(uow.session, request_id=previous_request.id, outcome="superseded")
    if next_state is r.RequestState.APPROVED:
        effective = effective_on or today
        plan = r.plan_approval(today)
        request.effective_on = effective
        request.recredentialing_due_on = plan.recredentialing_due_on
        provider.approved_at = now
        provider.credentialing_effective_on = effective
        provider.recredentialing_due_on = plan.recredentialing_due_on
        provider.current_request_id = request.id
        for timer in plan.timers:
            repository.add(
                uow.session,
                _timer(
                    provider.id, timer.kind, timer.due_at, now, request_id=request.id, days_before=timer.days_before
                ),
            )
        _change_status(
            uow,
            provider,
            r.CredentialingStatus.APPROVED,
            r.StatusChangeReason.COMMITTEE_APPROVED,
            now,
            actor,
            request.id,
        )
    else:
        if previous_request is not None:
            provider.current_request_id = None
        _change_status(
            uow, provider, r.CredentialingStatus.DENIED, r.StatusChangeReason.COMMITTEE_DENIED, now, actor, request.id
        )
    uow.session.flush()
    return request


def _has_active_sanction(uow: UnitOfWork, provider_id: uuid.UUID, today: date) -> bool:
    return any(
        s.effective_on <= today and (s.lifted_on is None or s.lifted_on > today)
        for s in repository.sanctions_of(uow.session, provider_id)
    )


def _licences_lapsed(uow: UnitOfWork, provider_id: uuid.UUID, today: date) -> bool:
    licences = [
        r.LicenceFacts(lic.state, lic.expires_on, revoked=lic.revoked_on is not None and lic.revoked_on <= today)
        for lic in repository.licences_of(uow.session, provider_id)
    ]
    states = frozenset(loc.state for loc in repository.locations_of(uow.session, provider_id))
    return r.practising_licences_lapsed(licences, states, today)


def _change_status(
    uow: UnitOfWork,
    provider: m.Provider,
    status: r.CredentialingStatus,
    reason: r.StatusChangeReason,
    now: datetime,
    actor: str,
    request_id: uuid.UUID | None,
) -> None:
    """Move the provider's standing, log it, mirror it on the request and directory, publish the event."""
    previous = provider.credentialing_status
    provider.credentialing_status = status.value
    provider.updated_at = now
    request_state = r.REQUEST_STATE_FOR_STATUS.get(status)
    if request_state is not None and provider.current_request_id is not None:
        current = repository.get_request(uow.session, provider.current_request_id, for_update=True)
        if current is not None and r.can_transition(r.RequestState(current.state), request_state):
            current.state = request_state.value
            current.updated_at = now
        repository.cancel_pending_timers(
            uow.session, request_id=provider.current_request_id, outcome=f"credentialing {status.lower()}"
        )
    repository.add(
        uow.session,
        m.CredentialingStatusChange(
            provider_id=provider.id,
            request_id=request_id,
            from_status=previous,
            to_status=status.value,
            reason=reason.value,
            changed_at=now,
            actor=actor,
        ),
    )
    uow.session.flush()
    repository.set_directory_credentialing_status(uow.session, uow.require_tenant(), provider.id, status.value)
    network = network_decision(uow, provider, now.date())
    uow.publish(
        CredentialingStatusChanged(
            event_type=f"CREDENTIALING_{status.value}",
            provider_id=provider.id,
            npi=provider.npi,
            provider_name=provider_name(provider),
            specialty=primary_specialty(uow, provider.id),
            credentialing_status=status.value,
            network_status=network.status.value,
            effective_date=provider.credentialing_effective_on
            if status is r.CredentialingStatus.APPROVED
            else now.date(),
            approved_at=provider.approved_at,
            changed_at=now,
            reason=reason.value,
            request_id=request_id,
        ),
        key=provider.id,
    )


def provider_name(provider: m.Provider) -> str:
    return r.display_name(
        r.ProviderKind(provider.kind),
        first_name=provider.first_name,
        middle_name=provider.middle_name,
        last_name=provider.last_name,
        credential=provider.credential,
        organisation_name=provider.organisation_name,
    )


def primary_specialty(uow: UnitOfWork, provider_id: uuid.UUID) -> str | None:
    taxonomies = repository.taxonomies_of(uow.session, provider_id)
    if not taxonomies:
        return None
    known = reference.taxonomies().get(taxonomies[0].code)
    return known.specialty if known else None


def record_sanction(
    uow: UnitOfWork,
    provider_id: uuid.UUID,
    source: r.SanctionSource,
    reference_text: str,
    effective_on: date,
    *,
    actor: str,
) -> m.ProviderSanction:
    """Record a sanction (an exclusion or board action); an approved provider is SUSPENDED at once."""
    provider = _require_provider(uow, provider_id, for_update=True)
    if not reference_text.strip() or len(reference_text) > 200:
        raise ValidationFailed([FieldError("reference", "is required (at most 200 characters)", "required")])
    now = _now(uow)
    if effective_on > now.date():
        raise BusinessRuleViolation(
            "record a sanction once it is in force", extra={"reason": "future_sanction", "field": "effectiveOn"}
        )
    sanction = m.ProviderSanction(
        provider_id=provider.id,
        source=source.value,
        reference=reference_text.strip(),
        effective_on=effective_on,
        lifted_on=None,
        recorded_at=now,
        recorded_by=actor,
    )
    repository.add(uow.session, sanction)
    outcome = r.sanction_outcome(r.CredentialingStatus(provider.credentialing_status))
    if outcome is not None:
        _change_status(
            uow, provider, outcome, r.StatusChangeReason.SANCTION_RECORDED, now, actor, provider.current_request_id
        )
    uow.session.flush()
    return sanction


def lift_sanction(uow: UnitOfWork, sanction_id: uuid.UUID, lifted_on: date) -> m.ProviderSanction:
    """End a sanction. The provider stays SUSPENDED: reinstatement is a new credentialing decision."""
    sanction = repository.get_sanction(uow.session, sanction_id)
    if sanction is None:
        raise NotFound("no such sanction", extra={"resource": "sanction"})
    if sanction.lifted_on is not None:
        raise Conflict("the sanction is already lifted")
    if lifted_on < sanction.effective_on:
        raise BusinessRuleViolation("a sanction cannot be lifted before it starts", extra={"reason": "invalid_period"})
    sanction.lifted_on = lifted_on
    uow.session.flush()
    return sanction


# -- durable timers ------------------------------------------------------------------------------
MAX_TIMER_ATTEMPTS: Final = 5
_TIMER_BACKOFF: Final = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


@dataclass
class TimerRunReport:
    fired: int = 0
    status_changes: int = 0
    reminders: int = 0
    requests_opened: int = 0
    failed: int = 0
    outcomes: list[str] = field(default_factory=list)


#: Called after a timer's effects are written and before the next one starts (tests and progress).
TimerHook = Callable[[m.CredentialingTimer], None]


def run_due_timers(
    uow: UnitOfWork, now: datetime, *, limit: int = 200, after_each: TimerHook | None = None
) -> TimerRunReport:
    """Fire every credentialing timer due by ``now`` (oldest first, at most ``limit``).

    Durable by construction: timers are rows; a fired timer is marked DONE in the same transaction
    as its effects, so a crash before the commit leaves it PENDING and the next run fires it again
    from scratch, and a crash after leaves nothing to redo. Each timer runs in a savepoint: an
    expected failure (a business rule) is recorded on the timer and retried later with backoff,
    then parked as FAILED after ``MAX_TIMER_ATTEMPTS``; the other timers still fire.
    """
    report = TimerRunReport()
    for timer in repository.claim_due_timers(uow.session, now, limit):
        savepoint = uow.session.begin_nested()
        try:
            outcome = _fire(uow, timer, now, report)
        except OllyError as exc:
            savepoint.rollback()
            timer.attempts += 1
            timer.last_error = exc.code
            if timer.attempts >= MAX_TIMER_ATTEMPTS:
                timer.status = "FAILED"
            else:
                timer.due_at = now + _TIMER_BACKOFF[min(timer.attempts, len(_TIMER_BACKOFF)) - 1]
            report.failed += 1
            uow.session.flush()
            continue
        timer.status = "DONE"
        timer.fired_at = now
        timer.attempts += 1
        timer.outcome = outcome[:200]
        uow.session.flush()
        savepoint.commit()
        report.fired += 1
        report.outcomes.append(f"{timer.kind}: {outcome}")
        if after_each is not None:
            after_each(timer)
    return report


def _fire(uow: UnitOfWork, timer: m.CredentialingTimer, now: datetime, report: TimerRunReport) -> str:
    provider = _require_provider(uow, timer.provider_id, for_update=True)
    today = now.date()
    open_request = repository.open_request_of(uow.session, provider.id, [s.value for s in r.OPEN_STATES])
    outcome = r.decide_timer(
        r.TimerKind(timer.kind),
        provider_status=r.CredentialingStatus(provider.credentialing_status),
        timer_request_is_current=timer.request_id is not None and timer.request_id == provider.current_request_id,
        open_recredentialing_exists=open_request is not None,
        licences_lapsed=_licences_lapsed(uow, provider.id, today),
    )
    notes: list[str] = []
    if (
        outcome.send_reminder
        and timer.request_id is not None
        and timer.days_before is not None
        and not repository.reminder_exists(uow.session, timer.request_id, timer.days_before)
    ):
        repository.add(
            uow.session,
            m.CredentialingReminder(
                provider_id=provider.id,
                request_id=timer.request_id,
                days_before=timer.days_before,
                recredentialing_due_on=provider.recredentialing_due_on or today,
                sent_at=now,
            ),
        )
        report.reminders += 1
        notes.append(f"reminder {timer.days_before} days before")
    if outcome.open_recredentialing:
        _new_request(uow, provider.id, r.RequestKind.RECREDENTIALING, now)
        report.requests_opened += 1
        notes.append("recredentialing request opened")
    if outcome.new_status is not None and outcome.reason is not None:
        _change_status(
            uow, provider, outcome.new_status, outcome.reason, now, SYSTEM_ACTOR, provider.current_request_id
        )
        report.status_changes += 1
        notes.append(f"status {outcome.new_status}")
    uow.session.flush()
    return "; ".join(notes) or outcome.note or "no effect"


# =============================================================================================
# Contracts and network memberships
# =============================================================================================
@dataclass(frozen=True, slots=True)
class ContractDraft:
    provider_id: uuid.UUID
    contract_number: str
    network: str
    tier: str
    effective_from: date
    effective_to: date | None = None
    fee_schedule_code: str | None = None


_CODE_RE: Final = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")


def create_contract(uow: UnitOfWork, draft: ContractDraft) -> m.Contract:
    provider = _require_provider(uow, draft.provider_id, for_update=True)
    errors = []
    number = draft.contract_number.strip()
    network = draft.network.strip().upper()
    tier = draft.tier.strip().upper()
    if not _CODE_RE.match(number.upper()):
        errors.append(FieldError("contractNumber", "letters, digits, . _ - (at most 40)", "invalid_code"))
    if not _CODE_RE.match(network):
        errors.append(FieldError("network", "letters, digits, . _ - (at most 40)", "invalid_code"))
    if not _CODE_RE.match(tier) or len(tier) > 20:
        errors.append(FieldError("tier", "letters, digits, . _ - (at most 20)", "invalid_code"))
    if errors:
        raise ValidationFailed(errors)
    r.check_contract_period(draft.effective_from, draft.effective_to)
    if repository.get_contract_by_number(uow.session, number) is not None:
        raise Conflict("a contract with this number exists", extra={"field": "contractNumber"})
    schedule_id = _priceable_schedule_id(uow, draft.fee_schedule_code)
    period = DatePeriod(draft.effective_from, draft.effective_to)
    for existing in repository.contracts_of(uow.session, provider.id):
        if existing.network == network and DatePeriod(existing.effective_from, existing.effective_to).overlaps(period):
            raise Conflict(
                "the provider already has a contract in this network for an overlapping period",
                extra={"field": "effectiveFrom"},
            )
    now = _now(uow)
    contract = m.Contract(
        provider_id=provider.id,
        contract_number=number,
        network=network,
        tier=tier,
        fee_schedule_id=schedule_id,
        effective_from=draft.effective_from,
        effective_to=draft.effective_to,
        created_at=now,
        updated_at=now,
    )
    repository.add(uow.session, contract)
    uow.session.flush()
    _refresh_for_contract_holder(uow, provider)
    return contract


def _priceable_schedule_id(uow: UnitOfWork, code: str | None) -> uuid.UUID | None:
    if code is None:
        return None
    schedule = repository.get_fee_schedule_by_code(uow.session, code)
    if schedule is None:
        raise ValidationFailed([FieldError("feeScheduleCode", "no fee schedule has this code", "unknown_fee_schedule")])
    if r.FeeScheduleKind(schedule.kind) not in r.PRICEABLE_KINDS:
        raise ValidationFailed(
            [FieldError("feeScheduleCode", "a RELATIVE_VALUE schedule is a base, not a price list", "not_priceable")]
        )
    return schedule.id


@dataclass(frozen=True, slots=True)
class ContractAmendment:
    tier: str | None = None
    fee_schedule_code: str | None = None
    effective_to: date | None = None
    clear_effective_to: bool = False


def amend_contract(uow: UnitOfWork, contract_id: uuid.UUID, amendment: ContractAmendment) -> m.Contract:
    contract = repository.get_contract(uow.session, contract_id, for_update=True)
    if contract is None:
        raise NotFound("no such contract", extra={"resource": "contract"})
    if amendment.tier is not None:
        tier = amendment.tier.strip().upper()
        if not _CODE_RE.match(tier) or len(tier) > 20:
            raise ValidationFailed([FieldError("tier", "letters, digits, . _ - (at most 20)", "invalid_code")])
        contract.tier = tier
    if amendment.fee_schedule_code is not None:
        contract.fee_schedule_id = _priceable_schedule_id(uow, amendment.fee_schedule_code)
    if amendment.effective_to is not None or amendment.clear_effective_to:
        new_to = None if amendment.clear_effective_to else amendment.effective_to
        r.check_contract_period(contract.effective_from, new_to)
        contract.effective_to = new_to
    contract.updated_at = _now(uow)
    uow.session.flush()
    _refresh_for_contract_holder(uow, _require_provider(uow, contract.provider_id))
    return contract


def terminate_contract(uow: UnitOfWork, contract_id: uuid.UUID, last_day: date) -> m.Contract:
    """End a contract after ``last_day`` (the day before its start voids it)."""
    contract = repository.get_contract(uow.session, contract_id, for_update=True)
    if contract is None:
        raise NotFound("no such contract", extra={"resource": "contract"})
    contract.effective_to = r.check_termination(contract.effective_from, contract.effective_to, last_day)
    contract.updated_at = _now(uow)
    uow.session.flush()
    _refresh_for_contract_holder(uow, _require_provider(uow, contract.provider_id))
    return contract


def _refresh_for_contract_holder(uow: UnitOfWork, provider: m.Provider) -> None:
    affected = [provider.id]
    if provider.kind == r.ProviderKind.ORGANISATION:
        affected += repository.affiliates_of(uow.session, provider.id)
    _refresh_memberships(uow, affected)


def _facts(contract: m.Contract) -> r.ContractFacts:
    return r.ContractFacts(
        contract.id,
        contract.provider_id,
        contract.contract_number,
        contract.network,
        contract.tier,
        contract.effective_from,
        contract.effective_to,
        contract.fee_schedule_id,
    )


def _refresh_memberships(uow: UnitOfWork, provider_ids: Sequence[uuid.UUID]) -> None:
    """Recompute the derived memberships of each provider and publish what changed."""
    session = uow.session
    now = _now(uow)
    for provider_id in provider_ids:
        provider = _require_provider(uow, provider_id)
        own = [_facts(c) for c in repository.contracts_of(session, provider_id)]
        affiliations = [
            (
                r.AffiliationFacts(a.organisation_id, a.start_on, a.end_on),
                [_facts(c) for c in repository.contracts_of(session, a.organisation_id)],
            )
            for a in repository.affiliations_of(session, provider_id)
        ]
        after = r.derive_memberships(own, affiliations)
        before = [
            r.Membership(x.contract_id, x.via_organisation_id, x.network, x.tier, x.effective_from, x.effective_to)
            for x in repository.memberships_of(session, provider_id)
        ]
        diff = r.diff_memberships(before, after)
        if diff.is_empty:
            continue
        repository.replace_memberships(
            session,
            provider_id,
            [
                m.NetworkMembership(
                    provider_id=provider_id,
                    contract_id=x.contract_id,
                    via_organisation_id=x.via_organisation_id,
                    network=x.network,
                    tier=x.tier,
                    effective_from=x.effective_from,
                    effective_to=x.effective_to,
                )
                for x in after
            ],
        )
        session.flush()
        for event_type, status, memberships in (
            ("NETWORK_CONTRACT_ADDED", r.NetworkStatus.IN_NETWORK, diff.added),
            ("NETWORK_CONTRACT_AMENDED", r.NetworkStatus.IN_NETWORK, diff.changed),
            ("NETWORK_CONTRACT_REMOVED", r.NetworkStatus.OUT_OF_NETWORK, diff.removed),
        ):
            for membership in memberships:
                uow.publish(
                    ProviderNetworkUpdated(
                        event_type=event_type,
                        provider_id=provider_id,
                        npi=provider.npi,
                        network_status=status.value,
                        network=membership.network,
                        tier=membership.tier,
                        contract_id=membership.contract_id,
                        via_organisation_id=membership.via_organisation_id,
                        effective_date=membership.effective_from,
                        termination_date=membership.effective_to,
                        changed_at=now,
                    ),
                    key=provider_id,
                )


def memberships(uow: UnitOfWork, provider_id: uuid.UUID) -> list[r.Membership]:
    return [
        r.Membership(x.contract_id, x.via_organisation_id, x.network, x.tier, x.effective_from, x.effective_to)
        for x in repository.memberships_of(uow.session, provider_id)
    ]


def network_decision(uow: UnitOfWork, provider: m.Provider, on: date, network: str | None = None) -> r.NetworkDecision:
    return r.decide_network_status(
        memberships(uow, provider.id), r.CredentialingStatus(provider.credentialing_status), on, network
    )


# =============================================================================================
# Fee schedules and pricing
# =============================================================================================
@dataclass(frozen=True, slots=True)
class FeeScheduleHeader:
    code: str
    name: str
    kind: r.FeeScheduleKind
    currency: str = "USD"
    percent: Decimal | None = None
    conversion_factor: Decimal | None = None
    base_schedule_code: str | None = None


@dataclass
class FeeScheduleLoadReport:
    schedule_id: uuid.UUID
    code: str
    rows: int


MAX_RATE_ROWS: Final = 200_000


def load_fee_schedule(
    uow: UnitOfWork, header: FeeScheduleHeader, rows: Iterable[tuple[int, Mapping[str, str]]]
) -> FeeScheduleLoadReport:
    """Load a fee schedule from parsed CSV rows: all of it or nothing.

    A half-loaded price list would misprice claims, so every row is checked first and any error
    refuses the whole file with one error per offending row and column (``rows.<line>.<column>``).
    """
    errors: list[FieldError] = []
    code = header.code.strip().upper()
    if not _CODE_RE.match(code):
        errors.append(FieldError("code", "letters, digits, . _ - (at most 40)", "invalid_code"))
    if not header.name.strip() or len(header.name) > 200:
        errors.append(FieldError("name", "is required (at most 200 characters)", "required"))
    try:
        Money.zero(header.currency)
    except ValidationFailed:
        errors.append(FieldError("currency", "not a supported ISO 4217 currency code", "unknown_currency"))
    base: m.FeeSchedule | None = None
    if header.base_schedule_code:
        base = repository.get_fee_schedule_by_code(uow.session, header.base_schedule_code.strip().upper())
        if base is None:
            errors.append(FieldError("baseSchedule", "no fee schedule has this code", "unknown_fee_schedule"))
    if not (header.base_schedule_code and base is None):  # an unknown base is already reported
        errors += r.check_schedule_header(
            header.kind,
            header.percent,
            header.conversion_factor,
            r.FeeScheduleKind(base.kind) if base else None,
            header.currency,
            base.currency if base else None,
        )
    if errors:
        raise ValidationFailed(errors)
    if repository.get_fee_schedule_by_code(uow.session, code) is not None:
        raise Conflict(
            "a fee schedule with this code exists; load the new version under a new code", extra={"field": "code"}
        )
    rates: dict[tuple[str, str], r.Rate] = {}
    row_errors: list[FieldError] = []
    for line, row in rows:
        rate, problems = r.parse_rate_row(header.kind, row, header.currency)
        row_errors += [FieldError(f"rows.{line}.{p.field}", p.message, p.code) for p in problems]
        if rate is None:
            continue
        if (rate.code, rate.modifier) in rates:
            row_errors.append(
                FieldError(f"rows.{line}.code", "this code and modifier appear on an earlier row", "duplicate")
            )
            continue
        rates[(rate.code, rate.modifier)] = rate
        if len(rates) > MAX_RATE_ROWS:
            raise ValidationFailed(
                [FieldError("rows", f"a schedule holds at most {MAX_RATE_ROWS} rates", "too_many_rows")]
            )
    if (
        header.kind in (r.FeeScheduleKind.AMOUNT, r.FeeScheduleKind.RELATIVE_VALUE, r.FeeScheduleKind.PER_DIEM)
        and not rates
        and not row_errors
    ):
        row_errors.append(FieldError("rows", f"a {header.kind} schedule needs at least one rate", "empty_schedule"))
    if row_errors:
        raise ValidationFailed(
            row_errors, detail=f"{len(row_errors)} error(s) in the fee schedule file; nothing was loaded"
        )
    schedule = m.FeeSchedule(
        id=uuid7(),
        code=code,
        name=header.name.strip(),
        kind=header.kind.value,
        currency=header.currency,
        percent=header.percent,
        conversion_factor=header.conversion_factor,
        base_schedule_id=base.id if base else None,
        rate_count=len(rates),
        loaded_at=_now(uow),
    )
    repository.add(uow.session, schedule)
    uow.session.flush()
    tenant = uow.require_tenant()
    repository.insert_rates(
        uow.session,
        [
            {
                "id": uuid7(),
                "tenant_id": tenant,
                "schedule_id": schedule.id,
                "code": rate.code,
                "modifier": rate.modifier,
                "amount_minor": rate.amount.amount if rate.amount else None,
                "relative_value": rate.relative_value,
                "percent": rate.percent,
            }
            for rate in rates.values()
        ],
    )
    return FeeScheduleLoadReport(schedule.id, code, len(rates))


def read_rate_csv(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    if not reader.fieldnames or "code" not in [h.strip() for h in reader.fieldnames]:
        raise ValidationFailed([FieldError("header.code", "required column is missing", "missing_column")])
    reader.fieldnames = [h.strip() for h in reader.fieldnames]
    for row in reader:
        yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}


def schedule_terms(uow: UnitOfWork, schedule: m.FeeSchedule, codes: Sequence[str] | None = None) -> r.FeeScheduleTerms:
    """A schedule as pure terms (only ``codes`` and the default row when given, to keep pricing cheap)."""
    wanted = None if codes is None else [*codes, r.ANY_CODE]
    rates = {
        (row.code, row.modifier): r.Rate(
            row.code,
            row.modifier,
            amount=Money(row.amount_minor, schedule.currency) if row.amount_minor is not None else None,
            relative_value=row.relative_value,
            percent=row.percent,
        )
        for row in repository.rates_of(uow.session, schedule.id, wanted)
    }
    base = None
    if schedule.base_schedule_id is not None:
        base_row = repository.get_fee_schedule(uow.session, schedule.base_schedule_id)
        if base_row is not None:
            base = schedule_terms(uow, base_row, codes)
    return r.FeeScheduleTerms(
        schedule.code,
        r.FeeScheduleKind(schedule.kind),
        schedule.currency,
        rates,
        schedule.percent,
        schedule.conversion_factor,
        base,
    )


@dataclass(frozen=True, slots=True)
class PriceQuote:
    provider_id: uuid.UUID
    network_status: r.NetworkStatus
    network_reason: str
    network: str | None
    tier: str | None
    contract_id: uuid.UUID | None
    fee_schedule_code: str | None
    pricing: r.PricingResult | None
    """None when out of network or the contract has no fee schedule (claims applies the plan's maximum allowable)."""


def quote_price(
    uow: UnitOfWork, provider_id: uuid.UUID, on: date, service: r.ServiceToPrice, *, network: str | None = None
) -> PriceQuote:
    provider = _require_provider(uow, provider_id)
    decision = network_decision(uow, provider, on, network)
    membership = decision.membership
    if decision.status is not r.NetworkStatus.IN_NETWORK or membership is None:
        return PriceQuote(
            provider.id,
            decision.status,
            decision.reason,
            membership.network if membership else None,
            membership.tier if membership else None,
            membership.contract_id if membership else None,
            None,
            None,
        )
    contract = repository.get_contract(uow.session, membership.contract_id)
    schedule = (
        repository.get_fee_schedule(uow.session, contract.fee_schedule_id)
        if contract is not None and contract.fee_schedule_id
        else None
    )
    pricing = r.price_service(schedule_terms(uow, schedule, [service.code]), service) if schedule else None
    return PriceQuote(
        provider.id,
        decision.status,
        decision.reason,
        membership.network,
        membership.tier,
        membership.contract_id,
        schedule.code if schedule else None,
        pricing,
    )


# =============================================================================================
# Reads for the API and CLI
# =============================================================================================
@dataclass(frozen=True, slots=True)
class ProviderDetails:
    provider: m.Provider
    taxonomies: list[m.ProviderTaxonomy]
    languages: list[str]
    locations: list[m.ProviderLocation]
    licences: list[m.ProviderLicence]
    affiliations: list[m.ProviderAffiliation]


def provider_details(uow: UnitOfWork, provider_id: uuid.UUID) -> ProviderDetails:
    provider = _require_provider(uow, provider_id)
    session = uow.session
    return ProviderDetails(
        provider,
        repository.taxonomies_of(session, provider.id),
        repository.languages_of(session, provider.id),
        repository.locations_of(session, provider.id),
        repository.licences_of(session, provider.id),
        repository.affiliations_of(session, provider.id),
    )


def find_provider_id(uow: UnitOfWork, npi: str) -> uuid.UUID:
    provider = repository.get_provider_by_npi(uow.session, npi)
    if provider is None:
        raise NotFound("no provider has this NPI", extra={"resource": "provider"})
    return provider.id


@dataclass(frozen=True, slots=True)
class RequestDetails:
    request: m.CredentialingRequest
    documents: list[m.CredentialingDocument]
    verifications: list[m.CredentialingVerification]


def request_details(uow: UnitOfWork, request_id: uuid.UUID) -> RequestDetails:
    request = repository.get_request(uow.session, request_id)
    if request is None:
        raise NotFound("no such credentialing request", extra={"resource": "credentialing_request"})
    return RequestDetails(
        request, repository.documents_of(uow.session, request.id), repository.verifications_of(uow.session, request.id)
    )


@dataclass(frozen=True, slots=True)
class CredentialingTimeline:
    provider: m.Provider
    status_changes: list[m.CredentialingStatusChange]
    reminders: list[m.CredentialingReminder]
    timers: list[m.CredentialingTimer]
    requests: list[RequestDetails]
    sanctions: list[m.ProviderSanction]


def credentialing_timeline(uow: UnitOfWork, provider_id: uuid.UUID) -> CredentialingTimeline:
    provider = _require_provider(uow, provider_id)
    session = uow.session
    return CredentialingTimeline(
        provider,
        repository.status_changes_of(session, provider.id),
        repository.reminders_of(session, provider.id),
        repository.timers_of(session, provider.id),
        [request_details(uow, req.id) for req in repository.requests_of(session, provider.id)],
        repository.sanctions_of(session, provider.id),
    )


def contracts_of(uow: UnitOfWork, provider_id: uuid.UUID) -> list[m.Contract]:
    _require_provider(uow, provider_id)
    return repository.contracts_of(uow.session, provider_id)


def fee_schedule_code_of(uow: UnitOfWork, schedule_id: uuid.UUID | None) -> str | None:
    if schedule_id is None:
        return None
    schedule = repository.get_fee_schedule(uow.session, schedule_id)
    return schedule.code if schedule else None


@dataclass(frozen=True, slots=True)
class FeeScheduleDetails:
    schedule: m.FeeSchedule
    base_code: str | None
    rates: list[m.FeeScheduleRate]


def fee_schedule_details(uow: UnitOfWork, code: str, *, with_rates: bool = True) -> FeeScheduleDetails:
    schedule = repository.get_fee_schedule_by_code(uow.session, code.strip().upper())
    if schedule is None:
        raise NotFound("no fee schedule has this code", extra={"resource": "fee_schedule"})
    rates = repository.rates_of(uow.session, schedule.id) if with_rates else []
    return FeeScheduleDetails(schedule, fee_schedule_code_of(uow, schedule.base_schedule_id), rates)


def list_fee_schedules(uow: UnitOfWork, owner_ids: Iterable[str] | None = None) -> list[FeeScheduleDetails]:
    """Every fee schedule, or (``owner_ids``: a provider user's NPIs and organisation ids) only those
    its contracts price with, and their base schedules."""
    visible = None
    if owner_ids is not None:
        visible = repository.fee_schedule_ids_of_owners(uow.session, owner_ids, uow.clock.today())
    return [
        FeeScheduleDetails(s, fee_schedule_code_of(uow, s.base_schedule_id), [])
        for s in repository.list_fee_schedules(uow.session, visible)
    ]


def taxonomy_of(code: str) -> r.Taxonomy | None:
    return reference.taxonomies().get(code)


def search_taxonomies(text: str | None, *, section: str | None = None, limit: int = 50) -> list[r.Taxonomy]:
    """NUCC taxonomy look-up by code or words (all words must appear), for forms and reviewers."""
    words = [w.lower() for w in _WORD_RE.findall(text or "")]
    found = []
    for taxonomy in reference.taxonomies().values():
        if section and taxonomy.section != section:
            continue
        haystack = " ".join(
            (taxonomy.code, taxonomy.grouping, taxonomy.classification, taxonomy.specialization, taxonomy.display_name)
        ).lower()
        if all(w in haystack for w in words):
            found.append(taxonomy)
    found.sort(key=lambda t: (t.code.lower() != (text or "").strip().lower(), t.display_name))
    return found[:limit]
