"""Pure decisions of the provider domain: frozen values in, decision out.

Nothing here touches a database, HTTP or the clock: callers pass "now" and "today" in. The service
loads state, calls these functions and stores what they decide.

Sections: identifiers (NPI), registry validation, geography, credentialing workflow, network
membership, fee-schedule pricing.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from olly.kernel.errors import BusinessRuleViolation, FieldError
from olly.kernel.money import Money, Rounding, exponent
from olly.kernel.periods import DatePeriod, add_months

# =============================================================================================
# Identifiers
# =============================================================================================
_NPI_RE: Final = re.compile(r"^\d{10}$")
#: The NPI check digit is a Luhn digit computed as if the number were prefixed by 80840
#: (the ISO 7812 issuer prefix for US health identifiers).
_NPI_PREFIX: Final = "80840"


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit for ``digits`` (the payload without its check digit)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # the digit next to the (future) check digit is doubled
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit over "80840" + the first nine."""
    if not _NPI_RE.match(npi):
        return False
    return luhn_check_digit(_NPI_PREFIX + npi[:9]) == int(npi[9])


def npi_with_check_digit(first_nine: str) -> str:
    """Complete a nine-digit NPI payload with its check digit (for generated demo data)."""
    if not re.fullmatch(r"\d{9}", first_nine):
        raise ValueError("an NPI payload is nine digits")
    return first_nine + str(luhn_check_digit(_NPI_PREFIX + first_nine))


# =============================================================================================
# Registry
# =============================================================================================
class ProviderKind(StrEnum):
    INDIVIDUAL = "INDIVIDUAL"
    """A person (NPI entity type 1)."""
    ORGANISATION = "ORGANISATION"
    """A group, facility or agency (NPI entity type 2)."""


class TaxonomySection(StrEnum):
    INDIVIDUAL = "Individual"
    NON_INDIVIDUAL = "Non-Individual"


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """One NUCC Health Care Provider Taxonomy code, as NUCC publishes it."""

    code: str
    grouping: str
    classification: str
    specialization: str
    display_name: str
    section: str

    @property
    def specialty(self) -> str:
        """The specialty shown in the directory: the specialization if NUCC names one, else the classification."""
        return self.specialization or self.classification


_STATE_CODES: Final = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP"
)
US_STATES: Final[frozenset[str]] = frozenset(_STATE_CODES.split(" "))
_ZIP_RE: Final = re.compile(r"^\d{5}(-\d{4})?$")
_TAXONOMY_RE: Final = re.compile(r"^[0-9A-Z]{9}X$")
_LANGUAGE_RE: Final = re.compile(r"^[a-z]{2,3}$")


def normalise_zip(value: str) -> str:
    """The five-digit ZIP of a ZIP or ZIP+4."""
    return value.strip()[:5]


def zip_is_valid(value: str) -> bool:
    return bool(_ZIP_RE.match(value.strip()))


def taxonomy_code_is_well_formed(code: str) -> bool:
    return bool(_TAXONOMY_RE.match(code))


def language_is_known(code: str) -> bool:
    return bool(_LANGUAGE_RE.match(code)) and code in LANGUAGE_NAMES


def coordinates_are_valid(latitude: float, longitude: float) -> bool:
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def display_name(
    kind: ProviderKind,
    *,
    first_name: str | None = None,
    middle_name: str | None = None,
    last_name: str | None = None,
    credential: str | None = None,
    organisation_name: str | None = None,
) -> str:
    """How the directory and the events name a provider: "Jane Q Smith MD" or the organisation name."""
    if kind is ProviderKind.ORGANISATION:
        return (organisation_name or "").strip()
    parts = [p.strip() for p in (first_name, middle_name, last_name, credential) if p and p.strip()]
    return " ".join(parts)


def sort_name(
    kind: ProviderKind, *, first_name: str | None, last_name: str | None, organisation_name: str | None
) -> str:
    """Alphabetical key: "smith jane" for people, the organisation name for organisations."""
    if kind is ProviderKind.ORGANISATION:
        return (organisation_name or "").strip().lower()
    return f"{(last_name or '').strip()} {(first_name or '').strip()}".strip().lower()


@dataclass(frozen=True, slots=True)
class ProviderDraft:
    """A validated provider ready to register (from the API or one import row)."""

    npi: str
    kind: ProviderKind
    first_name: str | None
    middle_name: str | None
    last_name: str | None
    credential: str | None
    organisation_name: str | None
    taxonomy_codes: tuple[str, ...]
    """The first is the primary taxonomy."""
    languages: tuple[str, ...]
    accepting_new_patients: bool
    locations: tuple[LocationDraft, ...] = ()
    licences: tuple[LicenceDraft, ...] = ()
    organisation_npi: str | None = None
    """For an individual: the organisation (group) to affiliate with, by its NPI."""


@dataclass(frozen=True, slots=True)
class LocationDraft:
    address_line1: str
    city: str
    state: str
    zip: str
    address_line2: str | None = None
    name: str | None = None
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class LicenceDraft:
    state: str
    number: str
    expires_on: date
    licence_type: str | None = None
    issued_on: date | None = None


def validate_provider(draft: ProviderDraft, taxonomies: Mapping[str, Taxonomy], prefix: str = "") -> list[FieldError]:
    """Every problem with a provider draft, named by field (never echoing the value)."""
    errors: list[FieldError] = []

    def err(name: str, message: str, code: str) -> None:
        errors.append(FieldError(f"{prefix}{name}", message, code))

    if not npi_is_valid(draft.npi):
        err("npi", "must be 10 digits with a valid check digit (Luhn over 80840 + digits)", "invalid_npi")
    if draft.kind is ProviderKind.INDIVIDUAL:
        if not (draft.first_name or "").strip():
            err("firstName", "is required for an individual provider", "required")
        if not (draft.last_name or "").strip():
            err("lastName", "is required for an individual provider", "required")
        if draft.organisation_name:
            err("organisationName", "is only for organisation providers", "not_allowed")
    else:
        if not (draft.organisation_name or "").strip():
            err("organisationName", "is required for an organisation provider", "required")
        if draft.first_name or draft.last_name:
            err("lastName", "names of a person are only for individual providers", "not_allowed")
        if draft.organisation_npi:
            err("organisationNpi", "an organisation is not affiliated with another organisation", "not_allowed")
    for name, value, limit in (
        ("firstName", draft.first_name, 80),
        ("middleName", draft.middle_name, 80),
        ("lastName", draft.last_name, 80),
        ("credential", draft.credential, 20),
        ("organisationName", draft.organisation_name, 200),
    ):
        if value is not None and len(value) > limit:
            err(name, f"is longer than {limit} characters", "too_long")
    if not draft.taxonomy_codes:
        err("taxonomyCodes", "at least one NUCC taxonomy code is required", "required")
    seen: set[str] = set()
    for index, code in enumerate(draft.taxonomy_codes):
        taxonomy = taxonomies.get(code)
        if taxonomy is None:
            err(f"taxonomyCodes.{index}", "is not a code of the NUCC taxonomy 25.1", "unknown_taxonomy")
        elif draft.kind is ProviderKind.INDIVIDUAL and taxonomy.section != TaxonomySection.INDIVIDUAL:
            err(
                f"taxonomyCodes.{index}",
                "is an organisation taxonomy; an individual needs an individual one",
                "wrong_section",
            )
        if code in seen:
            err(f"taxonomyCodes.{index}", "is listed twice", "duplicate")
        seen.add(code)
    for index, language in enumerate(draft.languages):
        if not language_is_known(language):
            err(
                f"languages.{index}",
                "must be an ISO 639-1 code (or ase for American Sign Language)",
                "unknown_language",
            )
    if len(set(draft.languages)) != len(draft.languages):
        err("languages", "a language is listed twice", "duplicate")
    if draft.organisation_npi is not None and not npi_is_valid(draft.organisation_npi):
        err("organisationNpi", "must be 10 digits with a valid check digit", "invalid_npi")
    for index, location in enumerate(draft.locations):
        errors += validate_location(location, f"{prefix}locations.{index}.")
    licence_keys: set[tuple[str, str]] = set()
    for index, licence in enumerate(draft.licences):
        errors += validate_licence(licence, f"{prefix}licences.{index}.")
        if (licence.state, licence.number) in licence_keys:
            err(f"licences.{index}.number", "is listed twice", "duplicate")
        licence_keys.add((licence.state, licence.number))
    return errors


def validate_location(location: LocationDraft, prefix: str = "") -> list[FieldError]:
    errors: list[FieldError] = []
    if not location.address_line1.strip():
        errors.append(FieldError(prefix + "addressLine1", "is required", "required"))
    if not location.city.strip():
        errors.append(FieldError(prefix + "city", "is required", "required"))
    if location.state not in US_STATES:
        errors.append(FieldError(prefix + "state", "must be a two-letter US state or territory code", "invalid_state"))
    if not zip_is_valid(location.zip):
        errors.append(FieldError(prefix + "zip", "must be a five-digit ZIP or ZIP+4", "invalid_zip"))
    for name, value, limit in (
        ("addressLine1", location.address_line1, 200),
        ("addressLine2", location.address_line2, 200),
        ("city", location.city, 100),
        ("name", location.name, 200),
        ("phone", location.phone, 20),
    ):
        if value is not None and len(value) > limit:
            errors.append(FieldError(prefix + name, f"is longer than {limit} characters", "too_long"))
    if (location.latitude is None) != (location.longitude is None):
        errors.append(FieldError(prefix + "latitude", "latitude and longitude come together", "incomplete_coordinates"))
    elif (
        location.latitude is not None
        and location.longitude is not None
        and not coordinates_are_valid(location.latitude, location.longitude)
    ):
        errors.append(FieldError(prefix + "latitude", "coordinates are out of range", "invalid_coordinates"))
    return errors


def validate_licence(licence: LicenceDraft, prefix: str = "") -> list[FieldError]:
    errors: list[FieldError] = []
    if licence.state not in US_STATES:
        errors.append(FieldError(prefix + "state", "must be a two-letter US state or territory code", "invalid_state"))
    if not licence.number.strip() or len(licence.number) > 40:
        errors.append(FieldError(prefix + "number", "is required (at most 40 characters)", "required"))
    if licence.licence_type is not None and len(licence.licence_type) > 40:
        errors.append(FieldError(prefix + "licenceType", "is longer than 40 characters", "too_long"))
    if licence.issued_on is not None and licence.issued_on > licence.expires_on:
        errors.append(FieldError(prefix + "expiresOn", "is before the issue date", "invalid_period"))
    return errors


# =============================================================================================
# Geography
# =============================================================================================
EARTH_RADIUS_MILES: Final = 3958.8
MILES_PER_DEGREE_LATITUDE: Final = 69.0
DEFAULT_RADIUS_MILES: Final = 25.0
MAX_RADIUS_MILES: Final = 200.0


def distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in statute miles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class BoundingBox:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


def bounding_box(latitude: float, longitude: float, radius_miles: float) -> BoundingBox:
    """A latitude/longitude box that contains every point within ``radius_miles`` (an index pre-filter).

    A degree of latitude is ~69 miles everywhere; a degree of longitude shrinks with cos(latitude).
    The box is widened by 1% so rounding never drops a point on the circle's edge.
    """
    d_lat = radius_miles / MILES_PER_DEGREE_LATITUDE * 1.01
    cos_lat = max(math.cos(math.radians(min(89.0, abs(latitude) + d_lat))), 0.01)
    d_lon = radius_miles / (MILES_PER_DEGREE_LATITUDE * cos_lat) * 1.01
    return BoundingBox(latitude - d_lat, latitude + d_lat, longitude - d_lon, longitude + d_lon)


#: Miles per degree of a great circle (2π × 3958.8 / 360).
MILES_PER_DEGREE: Final = 2 * math.pi * EARTH_RADIUS_MILES / 360


def flat_distance_miles(lat0: float, lon0: float, latitude: float, longitude: float) -> float:
    """Distance on a local flat projection (equirectangular at the pair's mean latitude).

    The directory filters and sorts by this measure in SQL, where it costs one cosine per row
    instead of a haversine's six trigonometric calls; it differs from the great-circle distance by
    far less than 0.1% within the 200-mile search limit. Results show this same figure.
    """
    d_lat = latitude - lat0
    d_lon = (longitude - lon0) * math.cos(math.radians((latitude + lat0) / 2))
    return MILES_PER_DEGREE * math.sqrt(d_lat * d_lat + d_lon * d_lon)


#: Radii tried in turn for a nearest-first search: the first ring holding a full page is enough,
#: because everything outside it is farther than everything inside it.
SEARCH_RINGS_MILES: Final[tuple[float, ...]] = (1.0, 3.0, 9.0, 27.0, 81.0)


def search_rings(radius_miles: float) -> list[float]:
    return [r for r in SEARCH_RINGS_MILES if r < radius_miles] + [radius_miles]


# -- facet tokens ---------------------------------------------------------------------------------
# The directory's full-text document carries, besides names and specialties, a few machine tokens
# ("facets") so that the full-text index itself narrows a query to a place, a language, new
# patients or a kind before any row is read. Each token ends with a digit, so neither SQLite's
# porter stemmer nor PostgreSQL's english configuration alters it, and users' words are matched
# only against the text columns.
GEO_CELL_DEGREES: Final[tuple[float, ...]] = (0.05, 0.2, 1.0)
MAX_CELLS_PER_QUERY: Final = 36


def _cell(level: int, latitude: float, longitude: float) -> str:
    size = GEO_CELL_DEGREES[level]
    row = math.floor((latitude + 90.0) / size)
    column = math.floor((longitude + 180.0) / size)
    return f"geo{level}y{row}x{column}"


def geo_cell_tokens_of(latitude: float, longitude: float) -> list[str]:
    """The cell of a point at every level (stored with the listing)."""
    return [_cell(level, latitude, longitude) for level in range(len(GEO_CELL_DEGREES))]


def geo_cells_covering(box: BoundingBox) -> list[str]:
    """Cells of the finest level that cover ``box`` with at most MAX_CELLS_PER_QUERY cells."""
    for level, size in enumerate(GEO_CELL_DEGREES):
        rows = range(math.floor((box.min_latitude + 90.0) / size), math.floor((box.max_latitude + 90.0) / size) + 1)
        columns = range(
            math.floor((box.min_longitude + 180.0) / size), math.floor((box.max_longitude + 180.0) / size) + 1
        )
        if len(rows) * len(columns) <= MAX_CELLS_PER_QUERY or level == len(GEO_CELL_DEGREES) - 1:
            return [f"geo{level}y{row}x{column}" for row in rows for column in columns]
    raise AssertionError("unreachable")  # pragma: no cover


def tenant_token(tenant_id: uuid.UUID) -> str:
    return f"tnt{tenant_id.hex}0"


def language_token(code: str) -> str:
    return f"lang{code}0"


def accepting_token(accepting: bool) -> str:
    return "acceptnew1" if accepting else "acceptnew0"


def kind_token(kind: str) -> str:
    return "kindorg1" if kind == ProviderKind.ORGANISATION else "kindind1"


def directory_facets(
    tenant_id: uuid.UUID,
    kind: str,
    languages: Iterable[str],
    accepting_new_patients: bool,
    latitude: float | None,
    longitude: float | None,
) -> str:
    tokens = [tenant_token(tenant_id), kind_token(kind), accepting_token(accepting_new_patients)]
    tokens += [language_token(code) for code in sorted(languages)]
    if latitude is not None and longitude is not None:
        tokens += geo_cell_tokens_of(latitude, longitude)
    return " ".join(tokens)


# =============================================================================================
# Credentialing
# =============================================================================================
class CredentialingStatus(StrEnum):
    """A provider's credentialing standing (what claims and the directory care about)."""

    NOT_CREDENTIALED = "NOT_CREDENTIALED"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    EXPIRED = "EXPIRED"
    """A licence lapsed, or recredentialing was not completed by its due date."""
    SUSPENDED = "SUSPENDED"
    """A sanction (OIG/SAM exclusion, state board action) was recorded."""


class RequestKind(StrEnum):
    INITIAL = "INITIAL"
    RECREDENTIALING = "RECREDENTIALING"


class RequestState(StrEnum):
    """Where one CredentialingRequest is in its workflow."""

    APPLICATION = "APPLICATION"
    """Collecting the application and its documents."""
    VERIFICATION = "VERIFICATION"
    """Submitted: primary-source verification of each checklist item."""
    COMMITTEE_REVIEW = "COMMITTEE_REVIEW"
    """Every item resolved: waiting for the credentialing committee's decision."""
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    EXPIRED = "EXPIRED"
    SUSPENDED = "SUSPENDED"
    SUPERSEDED = "SUPERSEDED"
    """A later approval (recredentialing) replaced this one."""
    WITHDRAWN = "WITHDRAWN"


OPEN_STATES: Final = frozenset({RequestState.APPLICATION, RequestState.VERIFICATION, RequestState.COMMITTEE_REVIEW})

_TRANSITIONS: Final[dict[RequestState, frozenset[RequestState]]] = {
    RequestState.APPLICATION: frozenset({RequestState.VERIFICATION, RequestState.WITHDRAWN}),
    RequestState.VERIFICATION: frozenset({RequestState.COMMITTEE_REVIEW, RequestState.WITHDRAWN}),
    RequestState.COMMITTEE_REVIEW: frozenset({RequestState.APPROVED, RequestState.DENIED, RequestState.WITHDRAWN}),
    RequestState.APPROVED: frozenset({RequestState.EXPIRED, RequestState.SUSPENDED, RequestState.SUPERSEDED}),
    RequestState.DENIED: frozenset(),
    RequestState.EXPIRED: frozenset(),
    RequestState.SUSPENDED: frozenset(),
    RequestState.SUPERSEDED: frozenset({RequestState.EXPIRED, RequestState.SUSPENDED}),
    RequestState.WITHDRAWN: frozenset(),
}


def can_transition(current: RequestState, target: RequestState) -> bool:
    return target in _TRANSITIONS[current]


def require_transition(current: RequestState, target: RequestState) -> RequestState:
    if not can_transition(current, target):
        raise BusinessRuleViolation(
            f"a credentialing request in state {current} cannot move to {target}",
            extra={"reason": "invalid_transition", "state": str(current), "target": str(target)},
        )
    return target


class DocumentKind(StrEnum):
    APPLICATION_FORM = "APPLICATION_FORM"
    CURRICULUM_VITAE = "CURRICULUM_VITAE"
    LICENCE_COPY = "LICENCE_COPY"
    DEA_CERTIFICATE = "DEA_CERTIFICATE"
    BOARD_CERTIFICATE = "BOARD_CERTIFICATE"
    DIPLOMA = "DIPLOMA"
    MALPRACTICE_INSURANCE = "MALPRACTICE_INSURANCE"
    ATTESTATION = "ATTESTATION"
    OTHER = "OTHER"


#: What an application must contain before it can be submitted for verification.
REQUIRED_DOCUMENTS: Final = frozenset({DocumentKind.APPLICATION_FORM, DocumentKind.ATTESTATION})

#: The states in which an application still takes documents (a late licence copy during
#: verification is common; after the committee has the file, it is closed).
DOCUMENT_STATES: Final = frozenset({RequestState.APPLICATION, RequestState.VERIFICATION})

#: An uploaded document's largest size: a scanned application form, CV or certificate of a few
#: dozen pages at 300 dpi stays well under it, and the object store seals a file in memory.
MAX_DOCUMENT_BYTES: Final = 20 * 1024 * 1024
MAX_FILE_NAME_LENGTH: Final = 255
_UNSAFE_NAME_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f]")


def check_documents_accepted(state: RequestState) -> None:
    """Refuse a document for an application that is no longer open for documents."""
    if state not in DOCUMENT_STATES:
        raise BusinessRuleViolation(
            "documents are added while the application is open",
            extra={"reason": "request_closed", "state": str(state)},
        )


def document_file_errors(size_bytes: int, content_type: str | None, *, field: str = "file") -> list[FieldError]:
    """Why an uploaded file cannot be kept: empty, larger than the limit, or not a PDF, JPEG or PNG
    (``content_type`` is what the file's own bytes say it is, None when they match none)."""
    if size_bytes == 0:
        return [FieldError(field, "is empty", "empty")]
    if size_bytes > MAX_DOCUMENT_BYTES:
        return [FieldError(field, f"is larger than {MAX_DOCUMENT_BYTES} bytes", "too_large")]
    if content_type is None:
        return [FieldError(field, "is not a PDF, JPEG or PNG file", "unsupported_type")]
    return []


def upload_file_name(raw: str | None, kind: DocumentKind, extension: str) -> str:
    """The name an uploaded file is kept under: its last path component (browsers may send a whole
    path), without control characters, at most 255 characters keeping its extension; a file
    without a usable name is named after its kind (``attestation.pdf``)."""
    name = _UNSAFE_NAME_CHARACTERS.sub("", re.split(r"[/\\]", raw or "")[-1]).strip()
    if not name.strip("."):
        return f"{kind.value.lower()}{extension}"
    if len(name) > MAX_FILE_NAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        keep = f"{dot}{suffix}" if dot and stem and len(suffix) <= 10 else ""
        name = name[: MAX_FILE_NAME_LENGTH - len(keep)] + keep
    return name


class VerificationItem(StrEnum):
    """Primary-source verification checklist (NCQA-style credentialing elements)."""

    LICENCE = "LICENCE"
    DEA = "DEA"
    BOARD_CERTIFICATION = "BOARD_CERTIFICATION"
    EDUCATION = "EDUCATION"
    MALPRACTICE_HISTORY = "MALPRACTICE_HISTORY"
    EXCLUSION_CHECK = "EXCLUSION_CHECK"
    """OIG LEIE and SAM.gov exclusion lists."""


#: Items that must be VERIFIED for an approval: a committee cannot override them.
MANDATORY_ITEMS: Final = frozenset({VerificationItem.LICENCE, VerificationItem.EXCLUSION_CHECK})

#: Days after submission by which each item should be verified.
VERIFICATION_DUE_DAYS: Final[dict[VerificationItem, int]] = {
    VerificationItem.LICENCE: 14,
    VerificationItem.DEA: 14,
    VerificationItem.BOARD_CERTIFICATION: 30,
    VerificationItem.EDUCATION: 45,
    VerificationItem.MALPRACTICE_HISTORY: 30,
    VerificationItem.EXCLUSION_CHECK: 7,
}


class VerificationStatus(StrEnum):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    item: VerificationItem
    status: VerificationStatus
    due_on: date


def checklist_for(submitted_on: date, kind: ProviderKind) -> list[ChecklistEntry]:
    """The verification checklist opened when an application is submitted.

    Organisations have no DEA registration, board certification or education to verify: those
    items start NOT_APPLICABLE.
    """
    personal_only = {VerificationItem.DEA, VerificationItem.BOARD_CERTIFICATION, VerificationItem.EDUCATION}
    entries = []
    for item in VerificationItem:
        status = (
            VerificationStatus.NOT_APPLICABLE
            if kind is ProviderKind.ORGANISATION and item in personal_only
            else VerificationStatus.PENDING
        )
        entries.append(ChecklistEntry(item, status, submitted_on + timedelta(days=VERIFICATION_DUE_DAYS[item])))
    return entries


def check_submission(state: RequestState, document_kinds: Iterable[DocumentKind]) -> None:
    """Refuse a submission that is out of order or missing a required document."""
    require_transition(state, RequestState.VERIFICATION)
    missing = REQUIRED_DOCUMENTS - set(document_kinds)
    if missing:
        raise BusinessRuleViolation(
            "the application is missing required documents",
            extra={"reason": "missing_documents", "missing": sorted(str(m) for m in missing)},
        )


def check_verification_update(
    state: RequestState, item: VerificationItem, status: VerificationStatus, evidence: str | None
) -> None:
    if state is not RequestState.VERIFICATION:
        raise BusinessRuleViolation(
            "verification results are recorded only while the request is in VERIFICATION",
            extra={"reason": "not_in_verification", "state": str(state)},
        )
    if status is VerificationStatus.PENDING:
        raise BusinessRuleViolation("a verification result cannot be PENDING", extra={"reason": "pending_result"})
    if status is not VerificationStatus.NOT_APPLICABLE and not (evidence or "").strip():
        raise BusinessRuleViolation(
            "a verified or failed item needs evidence (source and reference)", extra={"reason": "evidence_required"}
        )
    if status is VerificationStatus.NOT_APPLICABLE and item in MANDATORY_ITEMS:
        raise BusinessRuleViolation(
            f"{item} cannot be marked NOT_APPLICABLE", extra={"reason": "mandatory_item", "item": str(item)}
        )


def checklist_complete(statuses: Iterable[VerificationStatus]) -> bool:
    """True when no item is still PENDING (the request then goes to the committee)."""
    return all(s is not VerificationStatus.PENDING for s in statuses)


def overdue_items(entries: Iterable[ChecklistEntry], today: date) -> list[VerificationItem]:
    return [e.item for e in entries if e.status is VerificationStatus.PENDING and e.due_on < today]


class CommitteeDecision(StrEnum):
    APPROVE = "APPROVE"
    DENY = "DENY"


#: Recredentialing is due this many months after the approval decision (NCQA: 36 months).
RECREDENTIALING_MONTHS: Final = 36
#: Reminders go out this many days before recredentialing is due. 120 days leaves time for a full
#: verification cycle (the longest item is due 45 days after submission) and a committee meeting;
#: 90 and 30 days chase an unfinished application.
REMINDER_DAYS_BEFORE: Final[tuple[int, ...]] = (120, 90, 30)


class TimerKind(StrEnum):
    RECREDENTIALING_REMINDER = "RECREDENTIALING_REMINDER"
    RECREDENTIALING_DUE = "RECREDENTIALING_DUE"
    LICENCE_EXPIRY = "LICENCE_EXPIRY"


@dataclass(frozen=True, slots=True)
class TimerPlan:
    kind: TimerKind
    due_at: datetime
    days_before: int | None = None


def start_of_day(day: date) -> datetime:
    """Timers fire at 00:00 UTC of their day."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ApprovalPlan:
    recredentialing_due_on: date
    timers: tuple[TimerPlan, ...]


def check_decision(
    state: RequestState,
    decision: CommitteeDecision,
    checklist: Mapping[VerificationItem, VerificationStatus],
    reason: str | None,
    *,
    has_active_sanction: bool = False,
    licences_lapsed: bool = False,
) -> RequestState:
    """The request's next state for a committee decision, or a refusal.

    An approval also needs the facts as they stand at decision time, not only the checklist: no
    sanction in force, and a current licence in every state the provider practises in.
    """
    if state is not RequestState.COMMITTEE_REVIEW:
        raise BusinessRuleViolation(
            "the committee decides only requests in COMMITTEE_REVIEW",
            extra={"reason": "not_in_committee_review", "state": str(state)},
        )
    if decision is CommitteeDecision.DENY:
        if not (reason or "").strip():
            raise BusinessRuleViolation("a denial states its reason", extra={"reason": "reason_required"})
        return RequestState.DENIED
    failed_mandatory = sorted(
        str(item) for item in MANDATORY_ITEMS if checklist.get(item) is not VerificationStatus.VERIFIED
    )
    if failed_mandatory:
        raise BusinessRuleViolation(
            "approval needs a verified licence and a clean exclusion check",
            extra={"reason": "mandatory_item_not_verified", "items": failed_mandatory},
        )
    if has_active_sanction:
        raise BusinessRuleViolation(
            "a provider under a sanction cannot be approved", extra={"reason": "active_sanction"}
        )
    if licences_lapsed:
        raise BusinessRuleViolation(
            "a provider without a current licence in a practice state cannot be approved",
            extra={"reason": "licence_lapsed"},
        )
    return RequestState.APPROVED


def plan_approval(decided_on: date) -> ApprovalPlan:
    """Recredentialing due date and the timers an approval schedules."""
    due = add_months(decided_on, RECREDENTIALING_MONTHS)
    timers = [
        TimerPlan(TimerKind.RECREDENTIALING_REMINDER, start_of_day(due - timedelta(days=days)), days)
        for days in REMINDER_DAYS_BEFORE
    ]
    timers.append(TimerPlan(TimerKind.RECREDENTIALING_DUE, start_of_day(due)))
    return ApprovalPlan(due, tuple(timers))


def licence_lapse_at(expires_on: date) -> datetime:
    """A licence is valid through its expiry date; it has lapsed from the next day."""
    return start_of_day(expires_on + timedelta(days=1))


@dataclass(frozen=True, slots=True)
class LicenceFacts:
    state: str
    expires_on: date
    revoked: bool = False


def practising_licences_lapsed(licences: Sequence[LicenceFacts], practice_states: frozenset[str], today: date) -> bool:
    """Whether the provider lacks a current licence in a state where it practises.

    Practice states are the states of its locations; a provider with no location is judged on
    all its licences (every one must be current). A state with at least one current licence is
    covered, so a renewed licence recorded beside the old one keeps the provider in good standing.
    """
    states = practice_states or frozenset(lic.state for lic in licences)
    for state in states:
        current = [lic for lic in licences if lic.state == state and not lic.revoked and lic.expires_on >= today]
        if not current:
            return True
    return False


class StatusChangeReason(StrEnum):
    COMMITTEE_APPROVED = "COMMITTEE_APPROVED"
    COMMITTEE_DENIED = "COMMITTEE_DENIED"
    LICENCE_LAPSED = "LICENCE_LAPSED"
    RECREDENTIALING_OVERDUE = "RECREDENTIALING_OVERDUE"
    SANCTION_RECORDED = "SANCTION_RECORDED"


@dataclass(frozen=True, slots=True)
class TimerOutcome:
    """What a fired timer does. ``new_status`` None means nothing changes (the timer is spent)."""

    new_status: CredentialingStatus | None = None
    reason: StatusChangeReason | None = None
    send_reminder: bool = False
    open_recredentialing: bool = False
    note: str = ""


def decide_timer(
    kind: TimerKind,
    *,
    provider_status: CredentialingStatus,
    timer_request_is_current: bool,
    open_recredentialing_exists: bool,
    licences_lapsed: bool,
) -> TimerOutcome:
    """What a due timer does, judged on the state at the moment it fires (never on stale state).

    A timer always re-checks: a licence renewed before its expiry timer fires, or a recredentialing
    approved before the due date, makes the timer a no-op instead of a wrong status change.
    """
    if kind is TimerKind.LICENCE_EXPIRY:
        if provider_status is CredentialingStatus.APPROVED and licences_lapsed:
            return TimerOutcome(CredentialingStatus.EXPIRED, StatusChangeReason.LICENCE_LAPSED)
        return TimerOutcome(note="licence current or provider not approved")
    if not timer_request_is_current or provider_status is not CredentialingStatus.APPROVED:
        return TimerOutcome(note="approval no longer current")
    if kind is TimerKind.RECREDENTIALING_REMINDER:
        return TimerOutcome(send_reminder=True, open_recredentialing=not open_recredentialing_exists)
    return TimerOutcome(CredentialingStatus.EXPIRED, StatusChangeReason.RECREDENTIALING_OVERDUE)


class SanctionSource(StrEnum):
    OIG_LEIE = "OIG_LEIE"
    SAM = "SAM"
    STATE_BOARD = "STATE_BOARD"
    MEDICARE_OPT_OUT = "MEDICARE_OPT_OUT"
    OTHER = "OTHER"


def sanction_outcome(provider_status: CredentialingStatus) -> CredentialingStatus | None:
    """A sanction suspends an approved provider; other standings are left as they are (the
    sanction is still recorded and blocks a later approval through the exclusion check)."""
    return CredentialingStatus.SUSPENDED if provider_status is CredentialingStatus.APPROVED else None


#: Request state that mirrors a provider-level status change of its current approval.
REQUEST_STATE_FOR_STATUS: Final[dict[CredentialingStatus, RequestState]] = {
    CredentialingStatus.EXPIRED: RequestState.EXPIRED,
    CredentialingStatus.SUSPENDED: RequestState.SUSPENDED,
}


# =============================================================================================
# Network membership
# =============================================================================================
class NetworkStatus(StrEnum):
    IN_NETWORK = "IN_NETWORK"
    OUT_OF_NETWORK = "OUT_OF_NETWORK"


@dataclass(frozen=True, slots=True)
class ContractFacts:
    contract_id: uuid.UUID
    provider_id: uuid.UUID
    contract_number: str
    network: str
    tier: str
    effective_from: date
    effective_to: date | None
    fee_schedule_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class AffiliationFacts:
    organisation_id: uuid.UUID
    start_on: date
    end_on: date | None


@dataclass(frozen=True, slots=True)
class Membership:
    """One way a provider is in a network for a period: its own contract or its organisation's."""

    contract_id: uuid.UUID
    via_organisation_id: uuid.UUID | None
    network: str
    tier: str
    effective_from: date
    effective_to: date | None

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID | None]:
        return (self.contract_id, self.via_organisation_id)


def derive_memberships(
    own_contracts: Iterable[ContractFacts],
    affiliations: Iterable[tuple[AffiliationFacts, Sequence[ContractFacts]]],
) -> list[Membership]:
    """A provider's network memberships: its own contracts, plus each contract of an organisation it
    is affiliated with, for the overlap of the contract and the affiliation."""
    result = [
        Membership(c.contract_id, None, c.network, c.tier, c.effective_from, c.effective_to) for c in own_contracts
    ]
    for affiliation, contracts in affiliations:
        period = DatePeriod(affiliation.start_on, affiliation.end_on)
        for contract in contracts:
            overlap = period.intersection(DatePeriod(contract.effective_from, contract.effective_to))
            if overlap is None:
                continue
            result.append(
                Membership(
                    contract.contract_id,
                    affiliation.organisation_id,
                    contract.network,
                    contract.tier,
                    overlap.start,
                    overlap.end,
                )
            )
    return sorted(result, key=_membership_order)


def _membership_order(m: Membership) -> tuple[str, str, date]:
    return (str(m.contract_id), str(m.via_organisation_id or ""), m.effective_from)


@dataclass(frozen=True, slots=True)
class MembershipDiff:
    added: tuple[Membership, ...] = ()
    changed: tuple[Membership, ...] = ()
    removed: tuple[Membership, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def diff_memberships(before: Iterable[Membership], after: Iterable[Membership]) -> MembershipDiff:
    old = {m.key: m for m in before}
    new = {m.key: m for m in after}
    added = tuple(new[k] for k in sorted(new.keys() - old.keys(), key=str))
    removed = tuple(old[k] for k in sorted(old.keys() - new.keys(), key=str))
    changed = tuple(new[k] for k in sorted(new.keys() & old.keys(), key=str) if new[k] != old[k])
    return MembershipDiff(added, changed, removed)


@dataclass(frozen=True, slots=True)
class NetworkDecision:
    status: NetworkStatus
    membership: Membership | None
    reason: str


def decide_network_status(
    memberships: Iterable[Membership],
    credentialing_status: CredentialingStatus,
    on: date,
    network: str | None = None,
    tier_rank: Mapping[str, int] | None = None,
) -> NetworkDecision:
    """In network on ``on`` when credentialing is APPROVED and a membership covers the date.

    With several candidates (several networks, or own and organisation contracts), the provider's
    own contract wins over an organisation's, then the better tier (lower rank; tiers sort by name
    when no ranking is given), then the lower contract id for determinism.
    """
    covering = [
        m
        for m in memberships
        if DatePeriod(m.effective_from, m.effective_to).contains(on) and (network is None or m.network == network)
    ]
    if not covering:
        return NetworkDecision(NetworkStatus.OUT_OF_NETWORK, None, "no_contract_in_effect")
    ranks = tier_rank or {}
    best = min(
        covering,
        key=lambda m: (m.via_organisation_id is not None, ranks.get(m.tier, 1_000), m.tier, str(m.contract_id)),
    )
    if credentialing_status is not CredentialingStatus.APPROVED:
        return NetworkDecision(NetworkStatus.OUT_OF_NETWORK, best, f"credentialing_{credentialing_status.lower()}")
    return NetworkDecision(NetworkStatus.IN_NETWORK, best, "contract_in_effect")


def contract_periods(memberships: Sequence[Membership]) -> list[tuple[Membership, date, date | None]]:
    """The membership that decides a provider's network standing on each day, as runs of (membership,
    first day, last day or None while open-ended): the one ``decide_network_status`` picks across
    networks, whatever the provider's credentialing (which decides on its own). Days no membership
    covers are left out."""
    boundaries = sorted(
        {m.effective_from for m in memberships}
        | {m.effective_to + timedelta(days=1) for m in memberships if m.effective_to is not None}
    )
    runs: list[tuple[Membership, date, date | None]] = []
    for index, start in enumerate(boundaries):
        best = decide_network_status(memberships, CredentialingStatus.APPROVED, start).membership
        end = boundaries[index + 1] - timedelta(days=1) if index + 1 < len(boundaries) else None
        if best is None:
            continue
        if runs and runs[-1][0] == best and runs[-1][2] == start - timedelta(days=1):
            runs[-1] = (best, runs[-1][1], end)
        else:
            runs.append((best, start, end))
    return runs


def check_contract_period(effective_from: date, effective_to: date | None) -> None:
    if effective_to is not None and effective_to < effective_from:
        raise BusinessRuleViolation("a contract cannot end before it starts", extra={"reason": "invalid_period"})


def check_termination(effective_from: date, current_to: date | None, terminate_on: date) -> date:
    """A contract's new last day on termination: never before its start, never extending it."""
    if terminate_on < effective_from - timedelta(days=1):
        raise BusinessRuleViolation(
            "a contract cannot be terminated before it starts", extra={"reason": "invalid_period"}
        )
    if current_to is not None and terminate_on > current_to:
        raise BusinessRuleViolation(
            "termination cannot extend a contract; amend it instead", extra={"reason": "extends_contract"}
        )
    return terminate_on


# =============================================================================================
# Fee schedules and pricing
# =============================================================================================
class FeeScheduleKind(StrEnum):
    AMOUNT = "AMOUNT"
    """A fixed amount per unit for each procedure code + modifier."""
    RELATIVE_VALUE = "RELATIVE_VALUE"
    """A base schedule of relative value units per code + modifier (not priced on its own)."""
    PERCENT_OF_BASE = "PERCENT_OF_BASE"
    """percent × (relative value from the base schedule × conversion factor)."""
    PERCENT_OF_BILLED = "PERCENT_OF_BILLED"
    """percent × billed charge."""
    PER_DIEM = "PER_DIEM"
    """A daily amount for an inpatient stay, by revenue code (level of care)."""


PRICEABLE_KINDS: Final = frozenset(
    {
        FeeScheduleKind.AMOUNT,
        FeeScheduleKind.PERCENT_OF_BASE,
        FeeScheduleKind.PERCENT_OF_BILLED,
        FeeScheduleKind.PER_DIEM,
    }
)
#: A rate row with this code applies to every code without its own row (percent and per-diem kinds).
ANY_CODE: Final = "*"

_CPT_RE: Final = re.compile(r"^\d{4}[0-9A-Z]$")
_HCPCS_RE: Final = re.compile(r"^[A-Z]\d{4}$")
_REVENUE_RE: Final = re.compile(r"^\d{4}$")
_MODIFIER_RE: Final = re.compile(r"^[0-9A-Z]{2}$")


def procedure_code_is_well_formed(code: str) -> bool:
    """CPT by format only (five characters, digits then a digit/letter) or HCPCS Level II (letter + 4 digits)."""
    return bool(_CPT_RE.match(code) or _HCPCS_RE.match(code))


def revenue_code_is_well_formed(code: str) -> bool:
    return bool(_REVENUE_RE.match(code))


def modifier_is_well_formed(modifier: str) -> bool:
    return bool(_MODIFIER_RE.match(modifier))


@dataclass(frozen=True, slots=True)
class Rate:
    """One row of a fee schedule. ``modifier`` is "" for the code's unmodified rate."""

    code: str
    modifier: str = ""
    amount: Money | None = None
    """AMOUNT: per unit. PER_DIEM: per day."""
    relative_value: Decimal | None = None
    """RELATIVE_VALUE (base schedules): relative value units per unit."""
    percent: Decimal | None = None
    """PERCENT_OF_BASE / PERCENT_OF_BILLED: a per-code percent overriding the schedule's."""


@dataclass(frozen=True, slots=True)
class FeeScheduleTerms:
    code: str
    kind: FeeScheduleKind
    currency: str
    rates: Mapping[tuple[str, str], Rate] = field(default_factory=dict)
    percent: Decimal | None = None
    conversion_factor: Decimal | None = None
    base: FeeScheduleTerms | None = None
    """PERCENT_OF_BASE: the RELATIVE_VALUE schedule it is a percentage of."""


@dataclass(frozen=True, slots=True)
class ServiceToPrice:
    """One claim line to price. ``code`` is a CPT/HCPCS code, or a revenue code for a per-diem stay."""

    code: str
    billed: Money
    units: int = 1
    modifiers: tuple[str, ...] = ()
    admission_date: date | None = None
    discharge_date: date | None = None


class PricingOutcome(StrEnum):
    PRICED = "PRICED"
    NO_RATE = "NO_RATE"
    """The schedule has no rate for this code (and no default row): pend for manual pricing."""
    STAY_DATES_REQUIRED = "STAY_DATES_REQUIRED"
    NOT_PRICEABLE = "NOT_PRICEABLE"


@dataclass(frozen=True, slots=True)
class PricingResult:
    outcome: PricingOutcome
    billed: Money
    contract_rate: Money | None
    """What the contract pays for the line before the lesser-of-billed rule."""
    allowed: Money | None
    """min(billed, contract rate); None when the line could not be priced."""
    write_off: Money | None
    """billed − allowed: the contractual adjustment (CARC 45)."""
    formula: str
    """How the rate was computed, with the numbers used (for reviewers and EOB traces)."""
    rate_code: str | None = None
    rate_modifier: str | None = None


def stay_days(admission: date, discharge: date) -> int:
    """Days billed for an inpatient stay: the admission day counts, the discharge day does not, and a
    same-day stay counts one day (the midnight-census convention)."""
    if discharge < admission:
        raise BusinessRuleViolation("discharge is before admission", extra={"reason": "invalid_stay"})
    return max(1, (discharge - admission).days)


def _lookup(terms: FeeScheduleTerms, code: str, modifiers: Sequence[str], allow_any: bool) -> Rate | None:
    """The rate for code + the first modifier that has one, else the unmodified code, else the default row."""
    for modifier in modifiers:
        rate = terms.rates.get((code, modifier))
        if rate is not None:
            return rate
    rate = terms.rates.get((code, ""))
    if rate is None and allow_any:
        rate = terms.rates.get((ANY_CODE, ""))
    return rate


def _not_priced(outcome: PricingOutcome, billed: Money, formula: str) -> PricingResult:
    return PricingResult(outcome, billed, None, None, None, formula)


def _priced(billed: Money, rate_amount: Money, formula: str, rate: Rate | None) -> PricingResult:
    allowed = billed.min(rate_amount)
    return PricingResult(
        PricingOutcome.PRICED,
        billed,
        rate_amount,
        allowed,
        billed - allowed,
        formula,
        rate.code if rate else None,
        rate.modifier if rate else None,
    )


def _to_minor(value: Decimal, currency: str) -> Money:
    """Dollars (a Decimal) to integer minor units, half-up, rounded once."""
    scaled = value * (Decimal(10) ** exponent(currency))
    return Money(int(scaled.quantize(Decimal(1), rounding=Rounding.HALF_UP.value)), currency)


def price_service(terms: FeeScheduleTerms, service: ServiceToPrice) -> PricingResult:
    """The contract rate and allowed amount of one line under one fee schedule.

    Formulas (each rounds once, half-up, to the minor unit):

    * AMOUNT: rate = amount(code, modifier) × units
    * PERCENT_OF_BASE: rate = relative value(code, modifier) × conversion factor × percent / 100 × units
    * PERCENT_OF_BILLED: rate = billed × percent / 100
    * PER_DIEM: rate = per-diem(revenue code) × stay days
    * allowed = min(billed, rate); write-off = billed − allowed
    """
    billed = service.billed
    if billed.currency != terms.currency:
        raise BusinessRuleViolation(
            "the billed amount's currency differs from the fee schedule's", extra={"reason": "currency_mismatch"}
        )
    if service.units < 1:
        raise BusinessRuleViolation("units must be at least 1", extra={"reason": "invalid_units"})
    kind = terms.kind
    if kind is FeeScheduleKind.AMOUNT:
        rate = _lookup(terms, service.code, service.modifiers, allow_any=False)
        if rate is None or rate.amount is None:
            return _not_priced(PricingOutcome.NO_RATE, billed, f"no rate for {service.code} in {terms.code}")
        amount = rate.amount * service.units
        formula = f"{rate.amount.to_decimal_string()} × {service.units} unit(s) = {amount.to_decimal_string()}"
        return _priced(billed, amount, formula, rate)
    if kind is FeeScheduleKind.PERCENT_OF_BASE:
        base = terms.base
        if base is None or terms.conversion_factor is None:
            return _not_priced(PricingOutcome.NOT_PRICEABLE, billed, f"{terms.code} has no base schedule")
        base_rate = _lookup(base, service.code, service.modifiers, allow_any=False)
        if base_rate is None or base_rate.relative_value is None:
            return _not_priced(PricingOutcome.NO_RATE, billed, f"no relative value for {service.code} in {base.code}")
        override = _lookup(terms, service.code, service.modifiers, allow_any=True)
        percent = override.percent if override and override.percent is not None else terms.percent
        if percent is None:
            return _not_priced(PricingOutcome.NOT_PRICEABLE, billed, f"{terms.code} has no percent")
        exact = base_rate.relative_value * terms.conversion_factor * percent / 100 * service.units
        amount = _to_minor(exact, terms.currency)
        formula = (
            f"{base_rate.relative_value} RVU × {terms.conversion_factor} CF × {percent}% × {service.units} "
            f"unit(s) = {exact.normalize():f} → {amount.to_decimal_string()}"
        )
        return _priced(billed, amount, formula, base_rate)
    if kind is FeeScheduleKind.PERCENT_OF_BILLED:
        override = _lookup(terms, service.code, service.modifiers, allow_any=True)
        percent = override.percent if override and override.percent is not None else terms.percent
        if percent is None:
            return _not_priced(PricingOutcome.NOT_PRICEABLE, billed, f"{terms.code} has no percent")
        amount = billed.percent(percent)
        formula = f"{billed.to_decimal_string()} billed × {percent}% = {amount.to_decimal_string()}"
        return _priced(billed, amount, formula, override)
    if kind is FeeScheduleKind.PER_DIEM:
        if service.admission_date is None or service.discharge_date is None:
            return _not_priced(
                PricingOutcome.STAY_DATES_REQUIRED, billed, "a per-diem line needs admission and discharge dates"
            )
        rate = _lookup(terms, service.code, (), allow_any=True)
        if rate is None or rate.amount is None:
            return _not_priced(PricingOutcome.NO_RATE, billed, f"no per diem for {service.code} in {terms.code}")
        days = stay_days(service.admission_date, service.discharge_date)
        amount = rate.amount * days
        formula = f"{rate.amount.to_decimal_string()} per day × {days} day(s) = {amount.to_decimal_string()}"
        return _priced(billed, amount, formula, rate)
    return _not_priced(PricingOutcome.NOT_PRICEABLE, billed, f"a {kind} schedule is a base, not a price list")


# -- fee-schedule file rows ---------------------------------------------------------------------
_DECIMAL_RE: Final = re.compile(r"^\d+(\.\d+)?$")
MAX_PERCENT: Final = Decimal(1000)


def parse_decimal(text: str, *, places: int) -> Decimal | None:
    """A non-negative decimal with at most ``places`` decimals, or None when malformed."""
    text = text.strip()
    if not _DECIMAL_RE.match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return None
    if "." in text and len(text.split(".")[1]) > places:
        return None
    return value


def parse_rate_row(
    kind: FeeScheduleKind, row: Mapping[str, str], currency: str
) -> tuple[Rate | None, list[FieldError]]:
    """One CSV row of a fee-schedule file as a Rate, or its field errors.

    Columns: ``code``, ``modifier`` (optional), and the value column of the kind: ``amount``
    (AMOUNT), ``relative_value`` (RELATIVE_VALUE), ``percent`` (PERCENT_OF_BASE / PERCENT_OF_BILLED
    overrides, code may be ``*``), ``per_diem`` (PER_DIEM, code is a four-digit revenue code or ``*``).
    """
    errors: list[FieldError] = []
    code = (row.get("code") or "").strip().upper()
    modifier = (row.get("modifier") or "").strip().upper()
    if kind is FeeScheduleKind.PER_DIEM:
        if not (code == ANY_CODE or revenue_code_is_well_formed(code)):
            errors.append(FieldError("code", "must be a four-digit revenue code or *", "invalid_code"))
        if modifier:
            errors.append(FieldError("modifier", "per-diem rates have no modifier", "not_allowed"))
    elif kind in (FeeScheduleKind.PERCENT_OF_BASE, FeeScheduleKind.PERCENT_OF_BILLED):
        if not (code == ANY_CODE or procedure_code_is_well_formed(code)):
            errors.append(FieldError("code", "must be a CPT/HCPCS code or *", "invalid_code"))
    elif not procedure_code_is_well_formed(code):
        errors.append(FieldError("code", "must be a CPT (5 characters) or HCPCS Level II code", "invalid_code"))
    if modifier and not modifier_is_well_formed(modifier):
        errors.append(FieldError("modifier", "must be two letters or digits", "invalid_modifier"))
    if code == ANY_CODE and modifier:
        errors.append(FieldError("modifier", "the default row (*) has no modifier", "not_allowed"))

    def money_column(name: str) -> Money | None:
        text = (row.get(name) or "").strip()
        value = parse_decimal(text, places=exponent(currency))
        if value is None:
            errors.append(
                FieldError(
                    name, f"must be a non-negative amount with at most {exponent(currency)} decimals", "invalid_amount"
                )
            )
            return None
        return Money.parse(text, currency)

    rate: Rate | None = None
    if kind in (FeeScheduleKind.AMOUNT, FeeScheduleKind.PER_DIEM):
        column = "amount" if kind is FeeScheduleKind.AMOUNT else "per_diem"
        amount = money_column(column)
        if amount is not None and not errors:
            rate = Rate(code, modifier, amount=amount)
    elif kind is FeeScheduleKind.RELATIVE_VALUE:
        value = parse_decimal(row.get("relative_value") or "", places=4)
        if value is None:
            errors.append(
                FieldError("relative_value", "must be a non-negative number with at most 4 decimals", "invalid_number")
            )
        elif not errors:
            rate = Rate(code, modifier, relative_value=value)
    else:
        percent = parse_decimal(row.get("percent") or "", places=4)
        if percent is None or percent > MAX_PERCENT:
            errors.append(
                FieldError("percent", "must be a number from 0 to 1000 with at most 4 decimals", "invalid_percent")
            )
        elif not errors:
            rate = Rate(code, modifier, percent=percent)
    return (None, errors) if errors else (rate, [])


def check_schedule_header(
    kind: FeeScheduleKind,
    percent: Decimal | None,
    conversion_factor: Decimal | None,
    base_kind: FeeScheduleKind | None,
    currency: str,
    base_currency: str | None,
) -> list[FieldError]:
    errors: list[FieldError] = []
    if kind is FeeScheduleKind.PERCENT_OF_BASE:
        if base_kind is not FeeScheduleKind.RELATIVE_VALUE:
            errors.append(FieldError("baseSchedule", "must name a RELATIVE_VALUE schedule", "invalid_base"))
        elif base_currency is not None and base_currency != currency:
            errors.append(FieldError("baseSchedule", "is in another currency", "currency_mismatch"))
        if conversion_factor is None or conversion_factor <= 0:
            errors.append(FieldError("conversionFactor", "is required and positive", "required"))
        if percent is None:
            errors.append(FieldError("percent", "is required", "required"))
    elif kind is FeeScheduleKind.PERCENT_OF_BILLED:
        if percent is None:
            errors.append(FieldError("percent", "is required", "required"))
        if conversion_factor is not None:
            errors.append(FieldError("conversionFactor", "is only for PERCENT_OF_BASE", "not_allowed"))
    else:
        if percent is not None:
            errors.append(FieldError("percent", f"is not used by {kind} schedules", "not_allowed"))
        if conversion_factor is not None:
            errors.append(FieldError("conversionFactor", "is only for PERCENT_OF_BASE", "not_allowed"))
    if base_kind is not None and kind is not FeeScheduleKind.PERCENT_OF_BASE:
        errors.append(FieldError("baseSchedule", "is only for PERCENT_OF_BASE", "not_allowed"))
    if percent is not None and (percent < 0 or percent > MAX_PERCENT):
        errors.append(FieldError("percent", "must be from 0 to 1000", "invalid_percent"))
    return errors


# =============================================================================================
# Languages: ISO 639-1, plus "ase" (American Sign Language, ISO 639-3) which directories list.
# =============================================================================================
LANGUAGE_NAMES: Final[dict[str, str]] = {
    "aa": "Afar", "ab": "Abkhazian", "ae": "Avestan", "af": "Afrikaans", "ak": "Akan", "am": "Amharic",
    "an": "Aragonese", "ar": "Arabic", "as": "Assamese", "av": "Avaric", "ay": "Aymara", "az": "Azerbaijani",
    "ba": "Bashkir", "be": "Belarusian", "bg": "Bulgarian", "bi": "Bislama", "bm": "Bambara", "bn": "Bengali",
    "bo": "Tibetan", "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "ce": "Chechen", "ch": "Chamorro",
    "co": "Corsican", "cr": "Cree", "cs": "Czech", "cu": "Church Slavic", "cv": "Chuvash", "cy": "Welsh",
    "da": "Danish", "de": "German", "dv": "Divehi", "dz": "Dzongkha", "ee": "Ewe", "el": "Greek",
    "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "ff": "Fulah", "fi": "Finnish", "fj": "Fijian", "fo": "Faroese", "fr": "French", "fy": "Western Frisian",
    "ga": "Irish", "gd": "Scottish Gaelic", "gl": "Galician", "gn": "Guarani", "gu": "Gujarati", "gv": "Manx",
    "ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "ho": "Hiri Motu", "hr": "Croatian", "ht": "Haitian Creole",
    "hu": "Hungarian", "hy": "Armenian", "hz": "Herero", "ia": "Interlingua", "id": "Indonesian",
    "ie": "Interlingue", "ig": "Igbo", "ii": "Sichuan Yi", "ik": "Inupiaq", "io": "Ido", "is": "Icelandic",
    "it": "Italian", "iu": "Inuktitut", "ja": "Japanese", "jv": "Javanese", "ka": "Georgian", "kg": "Kongo",
    "ki": "Kikuyu", "kj": "Kuanyama", "kk": "Kazakh", "kl": "Kalaallisut", "km": "Khmer", "kn": "Kannada",
    "ko": "Korean", "kr": "Kanuri", "ks": "Kashmiri", "ku": "Kurdish", "kv": "Komi", "kw": "Cornish",
    "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish", "lg": "Ganda", "li": "Limburgish", "ln": "Lingala",
    "lo": "Lao", "lt": "Lithuanian", "lu": "Luba-Katanga", "lv": "Latvian", "mg": "Malagasy",
    "mh": "Marshallese", "mi": "Maori", "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian",
    "mr": "Marathi", "ms": "Malay", "mt": "Maltese", "my": "Burmese", "na": "Nauru", "nb": "Norwegian Bokmål",
    "nd": "North Ndebele", "ne": "Nepali", "ng": "Ndonga", "nl": "Dutch", "nn": "Norwegian Nynorsk",
    "no": "Norwegian", "nr": "South Ndebele", "nv": "Navajo", "ny": "Chichewa", "oc": "Occitan",
    "oj": "Ojibwa", "om": "Oromo", "or": "Odia", "os": "Ossetian", "pa": "Punjabi", "pi": "Pali",
    "pl": "Polish", "ps": "Pashto", "pt": "Portuguese", "qu": "Quechua", "rm": "Romansh", "rn": "Rundi",
    "ro": "Romanian", "ru": "Russian", "rw": "Kinyarwanda", "sa": "Sanskrit", "sc": "Sardinian",
    "sd": "Sindhi", "se": "Northern Sami", "sg": "Sango", "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian",
    "sm": "Samoan", "sn": "Shona", "so": "Somali", "sq": "Albanian", "sr": "Serbian", "ss": "Swati",
    "st": "Southern Sotho", "su": "Sundanese", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu",
    "tg": "Tajik", "th": "Thai", "ti": "Tigrinya", "tk": "Turkmen", "tl": "Tagalog", "tn": "Tswana",
    "to": "Tonga", "tr": "Turkish", "ts": "Tsonga", "tt": "Tatar", "tw": "Twi", "ty": "Tahitian",
    "ug": "Uyghur", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "ve": "Venda", "vi": "Vietnamese",
    "vo": "Volapük", "wa": "Walloon", "wo": "Wolof", "xh": "Xhosa", "yi": "Yiddish", "yo": "Yoruba",
    "za": "Zhuang", "zh": "Chinese", "zu": "Zulu",
    "ase": "American Sign Language",
}  # fmt: skip
