"""Provider self-service: a provider user reads its own record and credentialing file and keeps its
own listing current, and gets 404 (audited) for every other provider's — exactly as for a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.platform.auth.roles import AccountKind, Role
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from tests.integration.provider.test_api import provider_body
from tests.support.identity import Caller, audit_rows, control_of, create_account, sign_in_as

OWN_NPI, OTHER_NPI = "1234567893", "1245319508"
DOCUMENT = {
    "kind": "ATTESTATION",
    "fileName": "attestation.pdf",
    "contentType": "application/pdf",
    "sizeBytes": 2048,
    "sha256": "ab" * 32,
}


@pytest.fixture
def app(platform: Platform, outbox) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(platform)) as client:
        yield client


def _register(client: TestClient, staff: dict[str, str], npi: str, **changes: object) -> tuple[str, str, str]:
    created = client.post("/providers", json=provider_body(npi, **changes), headers=staff)
    assert created.status_code == 201, created.text
    provider_id = created.json()["id"]
    request = client.post(f"/providers/{provider_id}/credentialing-requests", headers=staff)
    assert request.status_code == 201, request.text
    return provider_id, created.json()["locations"][0]["id"], request.json()["id"]


def test_a_provider_user_serves_itself_and_nobody_else(
    app: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    staff = sign_in_as(app.app, tenant_id, Role.CREDENTIALING).headers  # type: ignore[arg-type]
    own, own_location, own_request = _register(app, staff, OWN_NPI)
    other, other_location, other_request = _register(app, staff, OTHER_NPI, firstName="Omar", lastName="Other")
    me = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OWN_NPI).headers  # type: ignore[arg-type]

    # Its own listing: new-patient acceptance, languages, locations.
    updated = app.patch(
        f"/providers/{own}/directory", json={"acceptingNewPatients": False, "languages": [" FR", "en"]}, headers=me
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["acceptingNewPatients"], updated.json()["languages"]) == (False, ["en", "fr"])
    added = app.post(
        f"/providers/{own}/locations",
        json={"addressLine1": "9 Side St", "city": "New York", "state": "NY", "zip": "10002"},
        headers=me,
    )
    assert added.status_code == 201, added.text
    assert app.delete(f"/providers/{own}/locations/{own_location}", headers=me).status_code == 204
    assert [loc["addressLine1"] for loc in app.get(f"/providers/{own}", headers=me).json()["locations"]] == [
        "9 Side St"
    ]
    # Its own credentialing file, and its part of the application.
    assert app.get(f"/providers/{own}/credentialing", headers=me).json()["providerId"] == own
    assert app.get(f"/credentialing-requests/{own_request}", headers=me).json()["state"] == "APPLICATION"
    assert app.post(f"/credentialing-requests/{own_request}/documents", json=DOCUMENT, headers=me).status_code == 201
    assert app.get(f"/providers/{own}/contracts", headers=me).json() == []

    # Someone else's: 404 like a missing record, and nothing changes.
    refusals = [
        app.patch(f"/providers/{other}/directory", json={"acceptingNewPatients": False}, headers=me),
        app.post(
            f"/providers/{other}/locations",
            json={"addressLine1": "x", "city": "y", "state": "NY", "zip": "10001"},
            headers=me,
        ),
        app.delete(f"/providers/{other}/locations/{other_location}", headers=me),
        app.get(f"/providers/{other}/credentialing", headers=me),
        app.get(f"/credentialing-requests/{other_request}", headers=me),
        app.post(f"/credentialing-requests/{other_request}/documents", json=DOCUMENT, headers=me),
        app.post(f"/credentialing-requests/{other_request}/withdrawal", headers=me),
        app.get(f"/providers/{other}/contracts", headers=me),
        app.patch(f"/providers/{uuid.uuid4()}/directory", json={"acceptingNewPatients": False}, headers=me),
    ]
    assert [r.status_code for r in refusals] == [404] * 9
    assert {r.json()["code"] for r in refusals} == {"not_found"}
    after = app.get(f"/providers/{other}", headers=staff).json()
    assert (after["acceptingNewPatients"], after["languages"], [loc["id"] for loc in after["locations"]]) == (
        True,
        ["en", "es"],
        [other_location],
    )
    assert app.get(f"/credentialing-requests/{other_request}", headers=staff).json()["documents"] == []
    assert len(audit_rows(platform, outcome="denied", resource_id=other)) == 5
    assert len(audit_rows(platform, outcome="denied", resource_id=other_request)) == 3

    # Staff work stays with staff: the registry record, verifications, decisions, sanctions.
    staff_only = [
        app.patch(f"/providers/{own}", json={"credential": "DO"}, headers=me),
        app.post(
            f"/providers/{own}/licences", json={"state": "NJ", "number": "NJ-1", "expiresOn": "2027-01-01"}, headers=me
        ),
        app.post(
            f"/credentialing-requests/{own_request}/decision",
            json={"decision": "APPROVE", "decidedBy": "me"},
            headers=me,
        ),
        app.put(
            f"/credentialing-requests/{own_request}/checklist/LICENCE",
            json={"status": "VERIFIED", "source": "me", "evidence": "me", "verifiedBy": "me"},
            headers=me,
        ),
        app.post("/credentialing-timers/run", headers=me),
    ]
    assert [r.status_code for r in staff_only] == [403] * 5
    assert app.get(f"/providers/{own}", headers=staff).json()["credential"] == "MD"


def test_an_organisation_user_keeps_its_affiliated_practitioners_listings(
    app: TestClient, tenant_id: uuid.UUID
) -> None:
    staff = sign_in_as(app.app, tenant_id, Role.PROVIDER_RELATIONS).headers  # type: ignore[arg-type]
    practitioner = app.post("/providers", json=provider_body(OWN_NPI), headers=staff).json()["id"]
    stranger = app.post("/providers", json=provider_body(OTHER_NPI), headers=staff).json()["id"]
    organisation = app.post(
        "/providers",
        json={
            "npi": "1003000126",
            "kind": "ORGANISATION",
            "organisationName": "Harbour Group Practice",
            "taxonomyCodes": ["261QM1300X"],
            "locations": [{"addressLine1": "1 Quay", "city": "Boston", "state": "MA", "zip": "02110"}],
        },
        headers=staff,
    )
    assert organisation.status_code == 201, organisation.text
    organisation_id = organisation.json()["id"]
    affiliated = app.post(
        f"/providers/{practitioner}/affiliations", json={"organisationId": organisation_id}, headers=staff
    )
    assert affiliated.status_code == 201, affiliated.text
    control = control_of(app.app)  # type: ignore[arg-type]
    account = create_account(
        control,
        tenant_id,
        NewAccount(
            AccountKind.PROVIDER, "office@harbour.example.org", provider_organisation_id=uuid.UUID(organisation_id)
        ),
    )
    office = Caller(control, f"account:{account}", tenant_id).headers
    change = {"acceptingNewPatients": False}
    assert app.patch(f"/providers/{organisation_id}/directory", json=change, headers=office).status_code == 200
    assert app.patch(f"/providers/{practitioner}/directory", json=change, headers=office).status_code == 200
    assert app.patch(f"/providers/{stranger}/directory", json=change, headers=office).status_code == 404
    assert app.get(f"/providers/{stranger}", headers=staff).json()["acceptingNewPatients"] is True
