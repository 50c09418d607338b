"""Registry: registration, validation refusals, locations, licences, affiliations, bulk CSV import."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from olly.kernel.errors import Conflict, ValidationFailed
from olly.platform.runtime import Platform
from olly.provider import models as m
from olly.provider import rules as r
from olly.provider import service
from tests.integration.provider import factories

TABLES = (m.Provider, m.ProviderTaxonomy, m.ProviderLanguage, m.ProviderLocation, m.ProviderLicence, m.DirectoryEntry)


def counts(work) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with work() as uow:
        return {t.__tablename__: uow.session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def test_register_an_individual_builds_its_directory_listing(work) -> None:  # type: ignore[no-untyped-def]
    draft = factories.individual(
        npi="1234567893",
        taxonomy_codes=("207X00000X", "207XS0114X"),
        languages=("es", "en"),
        zip_code="10001",
    )
    with work() as uow:
        provider_id = service.register_provider(uow, draft).id
    with work() as uow:
        details = service.provider_details(uow, provider_id)
        assert (details.provider.npi, details.provider.kind, details.provider.credentialing_status) == (
            "1234567893",
            "INDIVIDUAL",
            "NOT_CREDENTIALED",
        )
        assert [(t.code, t.is_primary) for t in details.taxonomies] == [("207X00000X", True), ("207XS0114X", False)]
        assert details.languages == ["en", "es"]
        [location] = details.locations
        # no coordinates given: placed at the ZIP's centre point
        assert (location.zip, location.latitude, location.longitude) == ("10001", 40.7506, -73.9972)
        [entry] = uow.session.scalars(select(m.DirectoryEntry)).all()
        assert (entry.display_name, entry.sort_name, entry.specialties, entry.languages) == (
            "Jane Smith MD",
            "smith jane",
            "Orthopaedic Surgery; Adult Reconstructive Orthopaedic Surgery",
            " en es ",
        )
        assert entry.taxonomy_text.startswith("207X00000X Orthopaedic Surgery Physician Orthopaedic Surgery")


def test_invalid_registration_writes_nothing(work) -> None:  # type: ignore[no-untyped-def]
    before = counts(work)
    with pytest.raises(ValidationFailed) as refused, work() as uow:
        service.register_provider(uow, factories.individual(npi="1234567890", taxonomy_codes=("999999999X",)))
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("npi", "invalid_npi"),
        ("taxonomyCodes.0", "unknown_taxonomy"),
    ]
    assert counts(work) == before


def test_duplicate_npi_is_a_conflict(work) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        service.register_provider(uow, factories.individual(npi="1234567893"))
    before = counts(work)
    with pytest.raises(Conflict), work() as uow:
        service.register_provider(uow, factories.individual(npi="1234567893", last_name="Other"))
    assert counts(work) == before


def test_update_locations_and_affiliation_refresh_the_directory(work) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        group = service.register_provider(uow, factories.organisation(name="Hudson Orthopaedic Group"))
        doctor_id = service.register_provider(uow, factories.individual(with_location=False)).id
        group_id = group.id
    with work() as uow:
        service.update_provider(
            uow, doctor_id, service.ProviderChanges(accepting_new_patients=False, languages=("fr",))
        )
        service.add_location(uow, doctor_id, r.LocationDraft("12 Court St", "Brooklyn", "NY", "11201"))
        service.add_location(
            uow, doctor_id, r.LocationDraft("3 Park Pl", "New York", "NY", "10002", latitude=40.71, longitude=-73.99)
        )
        service.add_affiliation(uow, doctor_id, group_id, start_on=date(2026, 1, 1))
    with work() as uow:
        entries = uow.session.scalars(
            select(m.DirectoryEntry).where(m.DirectoryEntry.provider_id == doctor_id).order_by(m.DirectoryEntry.zip)
        ).all()
        assert [(e.zip, e.latitude, e.accepting_new_patients, e.languages, e.organisation_names) for e in entries] == [
            ("10002", 40.71, False, " fr ", "Hudson Orthopaedic Group"),
            ("11201", 40.694, False, " fr ", "Hudson Orthopaedic Group"),
        ]
    with pytest.raises(ValidationFailed) as refused, work() as uow:
        service.add_location(uow, doctor_id, r.LocationDraft("", "X", "QQ", "1"))
    assert [e.field for e in refused.value.errors] == ["addressLine1", "state", "zip"]
    with pytest.raises(Conflict), work() as uow:
        service.add_affiliation(uow, doctor_id, group_id, start_on=date(2026, 6, 1))


IMPORT_HEADER = (
    "npi,kind,first_name,last_name,credential,organisation_name,taxonomy_codes,languages,accepting_new_patients,"
    "address_line1,city,state,zip,latitude,longitude,licence_state,licence_number,licence_expires_on,organisation_npi"
)
IMPORT_ROWS = (
    "1234567893,ORGANISATION,,,,Lakeside Family Medicine,261QP2300X,,Y,200 Lake St,Chicago,IL,60601,,,IL,FAC-1,"
    "2027-12-31,",
    "{n1},INDIVIDUAL,Maria,Garcia,MD,,207Q00000X,en;es,Y,200 Lake St,Chicago,IL,60601,41.8860,-87.6230,IL,036-000001,"
    "2027-07-31,1234567893",
    "1234567890,INDIVIDUAL,Bad,Npi,MD,,207Q00000X,en,Y,1 X St,Chicago,IL,60601,,,IL,036-000002,2027-07-31,",
    "{n2},INDIVIDUAL,,Nofirst,DO,,207Q00000X;999999999X,xx,maybe,1 X St,Chicago,ZZ,6060,,,IL,036-000003,2027-13-01,",
    "{n3},INDIVIDUAL,Wei,Chen,MD,,207RC0000X,zh;en,N,5 Oak Ave,Chicago,IL,60614,,,IL,036-000004,2027-07-31,{n4}",
    "{n1},INDIVIDUAL,Maria,Garcia,MD,,207Q00000X,en,Y,200 Lake St,Chicago,IL,60601,,,IL,036-000001,2027-07-31,",
)
IMPORT_CSV = "\n".join((IMPORT_HEADER, *IMPORT_ROWS)) + "\n"


def test_bulk_import_keeps_good_rows_reports_bad_ones_and_reruns_idempotently(work) -> None:  # type: ignore[no-untyped-def]
    n1, n2, n3, n4 = (factories.next_npi() for _ in range(4))
    text = IMPORT_CSV.format(n1=n1, n2=n2, n3=n3, n4=n4)
    with work() as uow:
        report = service.import_providers(uow, service.read_import_csv(text))
    assert (report.imported, report.skipped, report.failed) == (2, 1, 3)
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (4, "npi", "invalid_npi"),
        (5, "accepting_new_patients", "invalid_boolean"),
        (5, "licence_expires_on", "invalid_date"),
        (5, "first_name", "required"),
        (5, "taxonomy_codes", "unknown_taxonomy"),
        (5, "languages", "unknown_language"),
        (5, "state", "invalid_state"),
        (5, "zip", "invalid_zip"),
        # the organisation NPI is well formed but not registered: the whole row is rolled back
        (6, "organisation_npi", "unknown_organisation"),
    ]
    after_first = counts(work)
    assert after_first == {
        "providers": 2,
        "provider_taxonomies": 2,
        "provider_languages": 2,
        "provider_locations": 2,
        "provider_licences": 2,
        "provider_directory_entries": 2,
    }
    with work() as uow:
        maria = service.provider_details(uow, service.find_provider_id(uow, n1))
        assert [a.role for a in maria.affiliations] == ["MEMBER"]
        assert (maria.locations[0].latitude, maria.locations[0].longitude) == (41.886, -87.623)
        # an error message names the rule, never the rejected value
        assert all("1234567890" not in e.message and "ZZ" not in e.message for e in report.errors)
    # the same file again: every good row is now "already registered", nothing new is written
    with work() as uow:
        again = service.import_providers(uow, service.read_import_csv(text))
    assert (again.imported, again.skipped, again.failed) == (0, 3, 3)
    assert counts(work) == after_first


def test_import_header_is_checked_before_any_row(work) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        list(service.read_import_csv("npi,kind,speciality\n1234567893,INDIVIDUAL,x\n"))
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("header.taxonomy_codes", "missing_column"),
        ("header.speciality", "unknown_column"),
    ]


def test_row_with_too_many_fields_is_reported(work) -> None:  # type: ignore[no-untyped-def]
    text = "npi,kind,taxonomy_codes\n1234567893,INDIVIDUAL,207Q00000X,extra\n"
    with work() as uow:
        report = service.import_providers(uow, service.read_import_csv(text))
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, "row", "too_many_fields")]


def test_import_in_committed_batches(platform: Platform, tenant_id, outbox) -> None:  # type: ignore[no-untyped-def]
    header = (
        "npi,kind,first_name,last_name,taxonomy_codes,languages,accepting_new_patients,address_line1,city,state,zip"
    )
    lines = [header] + [
        f"{factories.next_npi()},INDIVIDUAL,First{i},Last{i},207Q00000X,en,Y,{i} Main St,Seattle,WA,98101"
        for i in range(300)
    ]
    rows = list(service.read_import_csv("\n".join(lines) + "\n"))
    total = service.ImportReport()
    for start in range(0, len(rows), 100):
        with platform.db.unit_of_work(tenant_id) as uow:
            total.merge(service.import_providers(uow, rows[start : start + 100]))
    assert (total.imported, total.failed, len(set(total.provider_ids))) == (300, 0, 300)
