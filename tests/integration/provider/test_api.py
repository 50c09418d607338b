"""The provider HTTP API end to end (problem+json errors, camelCase bodies, money as decimal strings)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.kernel.clock import FixedClock
from olly.platform.auth.roles import AccountKind, Role
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from tests.integration.provider import factories
from tests.support.identity import Caller, control_of, create_account


@pytest.fixture
def client(platform: Platform, outbox, tenant_id: uuid.UUID) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """Signed in as staff holding both provider roles: credentialing, and provider relations (contracts)."""
    app = create_app(platform)
    with TestClient(app) as test_client:
        control = control_of(app)
        staff = NewAccount(
            AccountKind.STAFF,
            f"provider.staff.{uuid.uuid4().hex[:8]}@example.org",
            roles=frozenset({Role.CREDENTIALING, Role.PROVIDER_RELATIONS}),
        )
        account = f"account:{create_account(control, tenant_id, staff)}"

        def sign_in() -> None:
            # Moving the fixed clock by weeks ends any session, as it should: sign in again after.
            test_client.headers.update(Caller(control, account, tenant_id).headers)

        sign_in()
        test_client.sign_in = sign_in  # type: ignore[attr-defined]
        yield test_client


def provider_body(npi: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "npi": npi,
        "kind": "INDIVIDUAL",
        "firstName": "Jane",
        "lastName": "Smith",
        "credential": "MD",
        "taxonomyCodes": ["207X00000X"],
        "languages": ["en", "es"],
        "acceptingNewPatients": True,
        "locations": [{"addressLine1": "1 Main St", "city": "New York", "state": "NY", "zip": "10001"}],
        "licences": [{"state": "NY", "number": "NY-1", "expiresOn": "2027-06-30"}],
    }
    body.update(changes)
    return body


def test_register_read_update_and_refusals(client: TestClient) -> None:
    created = client.post("/providers", json=provider_body("1234567893"))
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["credentialingStatus"], body["languages"]) == (
        "Jane Smith MD",
        "NOT_CREDENTIALED",
        ["en", "es"],
    )
    assert body["taxonomies"][0] | {} == {
        "code": "207X00000X",
        "displayName": "Orthopaedic Surgery Physician",
        "classification": "Orthopaedic Surgery",
        "specialization": None,
        "specialty": "Orthopaedic Surgery",
        "section": "Individual",
        "isPrimary": True,
    }
    assert body["locations"][0]["latitude"] == 40.7506
    provider_id = body["id"]
    assert client.get(f"/providers/{provider_id}").json() == body
    assert client.get("/providers/by-npi/1234567893").json()["id"] == provider_id
    patched = client.patch(f"/providers/{provider_id}", json={"acceptingNewPatients": False})
    assert patched.json()["acceptingNewPatients"] is False

    bad = client.post("/providers", json=provider_body("1234567890", taxonomyCodes=["207X00000X", "NOPE"]))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    problem = bad.json()
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("npi", "invalid_npi"),
        ("taxonomyCodes.1", "unknown_taxonomy"),
    ]
    assert "1234567890" not in bad.text  # the rejected value is never echoed
    duplicate = client.post("/providers", json=provider_body("1234567893"))
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "conflict")
    missing = client.get("/providers/00000000-0000-7000-8000-0000000000ff")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_csv_import_endpoint(client: TestClient) -> None:
    good = factories.next_npi()
    csv_text = (
        "npi,kind,first_name,last_name,taxonomy_codes\n"
        f"{good},INDIVIDUAL,Ann,Lee,207Q00000X\n"
        "1234567890,INDIVIDUAL,B,C,207Q00000X\n"
    )
    response = client.post("/providers/import", content=csv_text, headers={"content-type": "text/csv"})
    assert response.status_code == 200
    assert response.json() == {
        "rows": 2,
        "imported": 1,
        "skipped": 0,
        "failed": 1,
        "errors": [
            {"line": 3, "field": "npi", "message": response.json()["errors"][0]["message"], "code": "invalid_npi"}
        ],
    }
    header_error = client.post("/providers/import", content="npi,kind\n", headers={"content-type": "text/csv"})
    assert (header_error.status_code, header_error.json()["errors"][0]["field"]) == (422, "header.taxonomy_codes")


def test_credentialing_contract_pricing_and_directory_over_http(client: TestClient, clock: FixedClock) -> None:
    provider_id = client.post("/providers", json=provider_body("1234567893")).json()["id"]
    request = client.post(f"/providers/{provider_id}/credentialing-requests")
    assert (request.status_code, request.json()["kind"], request.json()["state"]) == (201, "INITIAL", "APPLICATION")
    request_id = request.json()["id"]
    early = client.post(f"/credentialing-requests/{request_id}/submission")
    assert (early.status_code, early.json()["code"], early.json()["missing"]) == (
        422,
        "business_rule_violation",
        ["APPLICATION_FORM", "ATTESTATION"],
    )
    for kind in ("APPLICATION_FORM", "ATTESTATION"):
        document = {
            "kind": kind,
            "fileName": f"{kind.lower()}.pdf",
            "contentType": "application/pdf",
            "sizeBytes": 2048,
            "sha256": hashlib.sha256(kind.encode()).hexdigest(),
        }
        assert client.post(f"/credentialing-requests/{request_id}/documents", json=document).status_code == 201
    submitted = client.post(f"/credentialing-requests/{request_id}/submission").json()
    assert submitted["state"] == "VERIFICATION"
    assert next((c["item"], c["dueOn"], c["overdue"]) for c in submitted["checklist"]) == (
        "EXCLUSION_CHECK",
        "2026-01-22",
        False,
    )
    for item in ("LICENCE", "DEA", "BOARD_CERTIFICATION", "EDUCATION", "MALPRACTICE_HISTORY", "EXCLUSION_CHECK"):
        result = client.put(
            f"/credentialing-requests/{request_id}/checklist/{item}",
            json={"status": "VERIFIED", "source": "primary source", "evidence": "ok", "verifiedBy": "verifier"},
        )
        assert result.status_code == 200
    assert result.json()["state"] == "COMMITTEE_REVIEW"
    clock.set(datetime(2026, 1, 28, 10, tzinfo=UTC))
    client.sign_in()  # type: ignore[attr-defined]
    decided = client.post(
        f"/credentialing-requests/{request_id}/decision", json={"decision": "APPROVE", "decidedBy": "committee"}
    ).json()
    assert (decided["state"], decided["recredentialingDueOn"]) == ("APPROVED", "2029-01-28")
    timeline = client.get(f"/providers/{provider_id}/credentialing").json()
    assert [t["dueAt"] for t in timeline["timers"] if t["kind"] == "RECREDENTIALING_REMINDER"] == [
        "2028-09-30T00:00:00Z",
        "2028-10-30T00:00:00Z",
        "2028-12-29T00:00:00Z",
    ]
    assert client.post("/credentialing-timers/run").json() == {
        "fired": 0,
        "statusChanges": 0,
        "reminders": 0,
        "requestsOpened": 0,
        "failed": 0,
    }

    loaded = client.post(
        "/fee-schedules",
        params={"code": "AMT-2026", "name": "Commercial 2026", "kind": "AMOUNT"},
        content="code,modifier,amount\n99213,,92.47\n",
        headers={"content-type": "text/csv"},
    )
    assert (loaded.status_code, loaded.json()["rateCount"]) == (201, 1)
    rejected = client.post(
        "/fee-schedules",
        params={"code": "AMT-BAD", "name": "Broken", "kind": "AMOUNT"},
        content="code,modifier,amount\n99213,,x\n",
        headers={"content-type": "text/csv"},
    )
    assert (rejected.status_code, [e["field"] for e in rejected.json()["errors"]]) == (422, ["rows.2.amount"])
    assert client.get("/fee-schedules/AMT-BAD").status_code == 404
    assert client.get("/fee-schedules/amt-2026").json()["rates"] == [
        {"code": "99213", "modifier": "", "amount": "92.47", "relativeValue": None, "percent": None}
    ]
    contract = client.post(
        f"/providers/{provider_id}/contracts",
        json={
            "contractNumber": "K-1",
            "network": "PPO",
            "tier": "TIER_1",
            "effectiveFrom": "2026-01-01",
            "feeScheduleCode": "AMT-2026",
        },
    )
    assert contract.status_code == 201
    status = client.get(
        f"/providers/{provider_id}/network-status", params={"on": "2026-03-01", "network": "ppo"}
    ).json()
    assert (status["status"], status["tier"], len(status["memberships"])) == ("IN_NETWORK", "TIER_1", 1)
    quote = client.post(
        f"/providers/{provider_id}/price-quote", json={"on": "2026-03-01", "code": "99213", "billed": "150.00"}
    ).json()
    assert quote["pricing"] == {
        "outcome": "PRICED",
        "billed": "150.00",
        "contractRate": "92.47",
        "allowed": "92.47",
        "writeOff": "57.53",
        "formula": "92.47 × 1 unit(s) = 92.47",
    }

    found = client.get(
        "/provider-directory", params={"q": "orthopaedic", "zip": "10001", "radiusMiles": 5, "network": "ppo"}
    )
    assert found.status_code == 200
    page = found.json()
    assert (page["total"], page["totalIsExact"], page["results"][0]["name"]) == (1, True, "Jane Smith MD")
    assert page["results"][0]["networks"] == [{"network": "PPO", "tier": "TIER_1"}]
    assert page["results"][0]["location"]["zip"] == "10001"
    unknown_zip = client.get("/provider-directory", params={"zip": "99999"})
    assert (unknown_zip.status_code, unknown_zip.json()["errors"][0]["field"]) == (422, "zip")
    too_far = client.get("/provider-directory", params={"zip": "10001", "radiusMiles": 500})
    assert too_far.status_code == 422

    sanction = client.post(
        f"/providers/{provider_id}/sanctions",
        json={"source": "OIG_LEIE", "reference": "LEIE-1", "effectiveOn": "2026-01-28", "recordedBy": "compliance"},
    )
    assert sanction.status_code == 201
    assert client.get(f"/providers/{provider_id}").json()["credentialingStatus"] == "SUSPENDED"


def test_taxonomy_lookup(client: TestClient) -> None:
    found = client.get("/provider-taxonomies", params={"q": "cardiovascular disease", "section": "Individual"}).json()
    assert "207RC0000X" in [t["code"] for t in found]
    assert client.get("/provider-taxonomies", params={"q": "207RC0000X"}).json()[0]["code"] == "207RC0000X"
