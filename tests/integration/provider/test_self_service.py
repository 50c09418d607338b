"""Provider self-service: a provider user reads its own record and credentialing file and keeps its
own listing current, and gets 404 (audited) for every other provider's — exactly as for a missing one."""

from __future__ import annotations

import json
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


def test_the_operations_credentialing_queue_is_the_plan_s_staff_s(
    app: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    """A provider user follows its own file (``/provider/credentialing``); the operations queue
    lists every provider's open application, so it answers them 404, audited, like any staff page."""
    staff = sign_in_as(app.app, tenant_id, Role.CREDENTIALING).headers  # type: ignore[arg-type]
    _register(app, staff, OWN_NPI)
    _register(app, staff, OTHER_NPI, firstName="Omar", lastName="Other")
    me = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OWN_NPI).headers  # type: ignore[arg-type]

    refused = app.get("/ops/credentialing", headers={**me, "X-Request-ID": "provider-opens-queue"})
    assert refused.status_code == 404
    assert "Omar" not in refused.text and OTHER_NPI not in refused.text
    [row] = audit_rows(platform, request_id="provider-opens-queue", outcome="denied")
    assert json.loads(row["detail"])["reason"] == "staff_only"
    queue = app.get("/ops/credentialing", headers=staff)
    assert queue.status_code == 200
    assert "Omar" in queue.text and OTHER_NPI in queue.text


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


def _load_schedule(client: TestClient, staff: dict[str, str], code: str, kind: str, csv: str, **extra: str) -> None:
    loaded = client.post(
        "/fee-schedules",
        params={"code": code, "name": f"{code} rates", "kind": kind, **extra},
        content=csv,
        headers={**staff, "content-type": "text/csv"},
    )
    assert loaded.status_code == 201, loaded.text


def _contract(client: TestClient, staff: dict[str, str], provider_id: str, number: str, schedule: str) -> None:
    body = {
        "contractNumber": number,
        "network": "PPO",
        "tier": "TIER_1",
        "effectiveFrom": "2026-01-01",
        "feeScheduleCode": schedule,
    }
    created = client.post(f"/providers/{provider_id}/contracts", json=body, headers=staff)
    assert created.status_code == 201, created.text


def test_a_provider_user_reads_only_the_fee_schedules_its_contracts_price_with(
    app: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    staff = sign_in_as(app.app, tenant_id, Role.PROVIDER_RELATIONS).headers  # type: ignore[arg-type]
    own = app.post("/providers", json=provider_body(OWN_NPI), headers=staff).json()["id"]
    other = app.post("/providers", json=provider_body(OTHER_NPI, lastName="Other"), headers=staff).json()["id"]
    group = app.post(
        "/providers",
        json={
            "npi": "1003000126",
            "kind": "ORGANISATION",
            "organisationName": "Harbour Group Practice",
            "taxonomyCodes": ["261QM1300X"],
            "locations": [{"addressLine1": "1 Quay", "city": "Boston", "state": "MA", "zip": "02110"}],
        },
        headers=staff,
    ).json()["id"]
    affiliated = app.post(
        f"/providers/{own}/affiliations", json={"organisationId": group, "startOn": "2026-01-01"}, headers=staff
    )
    assert affiliated.status_code == 201, affiliated.text
    _load_schedule(app, staff, "RVU-2026", "RELATIVE_VALUE", "code,modifier,relative_value\n99213,,2.6\n")
    _load_schedule(
        app,
        staff,
        "OWN-PCT",
        "PERCENT_OF_BASE",
        "code,modifier,percent\n",
        percent="120",
        conversionFactor="33.2875",
        baseSchedule="RVU-2026",
    )
    _load_schedule(app, staff, "GRP-AMT", "AMOUNT", "code,modifier,amount\n99214,,131.50\n")
    _load_schedule(app, staff, "OTHER-AMT", "AMOUNT", "code,modifier,amount\n99213,,88.00\n")
    _load_schedule(app, staff, "UNUSED-AMT", "AMOUNT", "code,modifier,amount\n99213,,70.00\n")
    _contract(app, staff, own, "K-OWN", "OWN-PCT")
    _contract(app, staff, group, "K-GRP", "GRP-AMT")  # reaches the practitioner through its affiliation
    _contract(app, staff, other, "K-OTHER", "OTHER-AMT")
    me = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OWN_NPI).headers  # type: ignore[arg-type]
    them = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OTHER_NPI).headers  # type: ignore[arg-type]

    # Its own contracts' schedules, the base its percentages apply to, and its group's schedule.
    mine = app.get("/fee-schedules/own-pct", headers=me)
    assert mine.status_code == 200, mine.text
    assert (mine.json()["code"], mine.json()["baseScheduleCode"], mine.json()["percent"]) == (
        "OWN-PCT",
        "RVU-2026",
        "120",
    )
    assert app.get("/fee-schedules/RVU-2026", headers=me).json()["rates"] == [
        {"code": "99213", "modifier": "", "amount": None, "relativeValue": "2.6", "percent": None}
    ]
    assert app.get("/fee-schedules/GRP-AMT", headers=me).json()["rates"][0]["amount"] == "131.50"
    assert [x["code"] for x in app.get("/fee-schedules", headers=me).json()] == ["GRP-AMT", "OWN-PCT", "RVU-2026"]

    # Another provider's schedule, or one no contract of its uses: 404 like a missing one, audited.
    refused = [app.get(f"/fee-schedules/{code}", headers=me) for code in ("OTHER-AMT", "UNUSED-AMT", "NO-SUCH")]
    assert [(r.status_code, r.json()["code"]) for r in refused] == [(404, "not_found")] * 3
    assert "88.00" not in refused[0].text
    assert [r["outcome"] for r in audit_rows(platform, action="contract.read", resource_id="OTHER-AMT")] == ["denied"]

    # The other provider sees its own and nothing of the first one's.
    assert [x["code"] for x in app.get("/fee-schedules", headers=them).json()] == ["OTHER-AMT"]
    assert app.get("/fee-schedules/OTHER-AMT", headers=them).json()["rates"][0]["amount"] == "88.00"
    assert [app.get(f"/fee-schedules/{c}", headers=them).status_code for c in ("OWN-PCT", "RVU-2026", "GRP-AMT")] == [
        404
    ] * 3

    # Staff whose role reads contracts read every schedule; a provider never loads one; billing reads none.
    for role in (Role.PROVIDER_RELATIONS, Role.CLAIMS_EXAMINER, Role.CREDENTIALING):
        reader = sign_in_as(app.app, tenant_id, role).headers  # type: ignore[arg-type]
        assert app.get("/fee-schedules/OTHER-AMT", headers=reader).status_code == 200
        assert len(app.get("/fee-schedules", headers=reader).json()) == 5
    refused_load = app.post(
        "/fee-schedules",
        params={"code": "MINE", "name": "Mine", "kind": "AMOUNT"},
        content="code,modifier,amount\n99213,,999.00\n",
        headers={**me, "content-type": "text/csv"},
    )
    assert refused_load.status_code == 403
    billing = sign_in_as(app.app, tenant_id, Role.BILLING).headers  # type: ignore[arg-type]
    assert [app.get(p, headers=billing).status_code for p in ("/fee-schedules", "/fee-schedules/OWN-PCT")] == [403, 403]


def test_an_organisation_user_reads_its_own_and_its_practitioners_fee_schedules(
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
    ).json()["id"]
    assert (
        app.post(
            f"/providers/{practitioner}/affiliations", json={"organisationId": organisation}, headers=staff
        ).status_code
        == 201
    )
    for code, owner in (("GRP-AMT", organisation), ("DOC-AMT", practitioner), ("STR-AMT", stranger)):
        _load_schedule(app, staff, code, "AMOUNT", "code,modifier,amount\n99213,,90.00\n")
        _contract(app, staff, owner, f"K-{code}", code)
    control = control_of(app.app)  # type: ignore[arg-type]
    account = create_account(
        control,
        tenant_id,
        NewAccount(
            AccountKind.PROVIDER, "office@harbour.example.org", provider_organisation_id=uuid.UUID(organisation)
        ),
    )
    office = Caller(control, f"account:{account}", tenant_id).headers
    assert [x["code"] for x in app.get("/fee-schedules", headers=office).json()] == ["DOC-AMT", "GRP-AMT"]
    assert [app.get(f"/fee-schedules/{c}", headers=office).status_code for c in ("GRP-AMT", "DOC-AMT", "STR-AMT")] == [
        200,
        200,
        404,
    ]
