"""/api/v1/billing over HTTP: billing staff, an employer administrator, and what each may see."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.claims import public as claims_public
from olly.claims.schemas import ClaimCreate
from olly.enrollment.rules import Market
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from olly.policy_admin import service as policy_admin
from tests.factories import FakePlans
from tests.integration.billing.support import drain, enrol
from tests.integration.claims.support import NPI_IN, claim_body, line, seed
from tests.support.identity import Caller, sign_in_as


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def _group(platform: Platform, tenant_id: uuid.UUID, name: str) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return policy_admin.open_account(uow, kind="GROUP", name=name, currency="USD").id


def test_staff_bill_and_reconcile_an_employer_sees_and_pays_only_its_own_group(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, plans: FakePlans
) -> None:
    mine, theirs = _group(platform, tenant_id, "Acme Tools"), _group(platform, tenant_id, "Birch Bakery")
    enrol(platform, tenant_id, plans, market=Market.GROUP, account_id=mine, effective=date(2026, 1, 1), spouse=True)
    enrol(platform, tenant_id, plans, market=Market.GROUP, account_id=theirs, effective=date(2026, 1, 1), name="Bo")
    staff: Caller = sign_in_as(client.app, tenant_id, Role.BILLING)  # type: ignore[arg-type]
    employer: Caller = sign_in_as(client.app, tenant_id, Role.EMPLOYER_ADMIN, group_account_id=mine)  # type: ignore[arg-type]

    assert client.post("/api/v1/billing/runs", json={"period": "2026-13"}, headers=staff.headers).status_code == 422
    assert client.post("/api/v1/billing/runs", json={"period": "2026-02"}, headers=employer.headers).status_code == 403
    run = client.post("/api/v1/billing/runs", json={"period": "2026-02"}, headers=staff.headers)
    assert run.status_code == 201, run.text
    assert {k: run.json()[k] for k in ("invoice_count", "line_count", "total", "currency")} == {
        "invoice_count": 2,
        "line_count": 2,
        "total": "1700.00",
        "currency": "USD",
    }

    listed = client.get("/api/v1/billing/invoices", headers=employer.headers)
    assert listed.status_code == 200
    (own,) = listed.json()
    assert (own["account_id"], own["kind"], own["total"], own["employer_share"], own["employee_share"]) == (
        str(mine),
        "LIST_BILL",
        "1100.00",
        "660.00",
        "440.00",
    )
    detail = client.get(f"/api/v1/billing/invoices/{own['id']}", headers=employer.headers)
    assert detail.status_code == 200
    assert [(x["tier_code"], x["covered_people"], x["total"]) for x in detail.json()["lines"]] == [
        ("EE+SP", 2, "1100.00")
    ]
    other = next(
        i for i in client.get("/api/v1/billing/invoices", headers=staff.headers).json() if i["id"] != own["id"]
    )
    assert client.get(f"/api/v1/billing/invoices/{other['id']}", headers=employer.headers).status_code in (403, 404)

    paid = client.post(
        "/api/v1/billing/payments",
        json={"account_id": str(mine), "amount": "1200.00", "method": "ACH", "reference": "ACH-20260201-1"},
        headers=employer.headers,
    )
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert (body["applied"], body["credit"], body["allocations"]) == (
        "1100.00",
        "100.00",
        [{"invoice_id": own["id"], "amount": "1100.00"}],
    )
    refused = client.post(
        "/api/v1/billing/payments",
        json={"account_id": str(theirs), "amount": "5.00", "method": "ACH", "reference": "ACH-x"},
        headers=employer.headers,
    )
    assert refused.status_code == 404
    for bad in (
        {"amount": "12.345"},
        {"amount": "-5.00"},
        {"reference": "4111 1111 1111 1111"},
        {"reference": "4111111111111111"},
        {"method": "BITCOIN"},
        {"card_number": "4111111111111111"},
    ):
        payload = {"account_id": str(mine), "amount": "5.00", "method": "CARD", "reference": "pi_1", **bad}
        assert client.post("/api/v1/billing/payments", json=payload, headers=staff.headers).status_code == 422, bad

    assert client.get(f"/api/v1/billing/payments/{body['id']}", headers=employer.headers).status_code == 200
    assert [p["id"] for p in client.get("/api/v1/billing/payments", headers=employer.headers).json()] == [body["id"]]
    aging = client.get("/api/v1/billing/aging", params={"as_of": "2026-03-15"}, headers=staff.headers).json()
    assert [(row["account_id"], row["buckets"]["31-60"]) for row in aging] == [(str(theirs), "600.00")]
    assert client.get("/api/v1/billing/aging", headers=employer.headers).json() == []

    assert client.get("/api/v1/billing/ledger/reconciliation", headers=employer.headers).status_code == 404
    books = client.get("/api/v1/billing/ledger/reconciliation", headers=staff.headers)
    assert books.status_code == 200
    assert (books.json()["clean"], books.json()["total_debits"], books.json()["problems"]) == (True, "2900.00", [])

    run = client.post("/api/v1/billing/payment-runs", headers=staff.headers)
    assert run.status_code == 201 and run.json()["payments"] == []
    assert client.get(f"/api/v1/billing/payment-runs/{run.json()['run_id']}", headers=staff.headers).status_code == 200
    assert client.get(f"/api/v1/billing/payment-runs/{uuid.uuid4()}", headers=staff.headers).status_code == 404


def test_a_payment_run_names_each_provider_payees_npi(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    world = seed(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        body = ClaimCreate.model_validate(claim_body(world.ana, line("99213", "150.00")))
        claim_id = claims_public.submit_claim(uow, body, source="API").claim_id
        clinic = claims_public.provider_id_of(uow, NPI_IN)
    drain(platform)  # adjudicated: allowed 100.00, copay 25.00, paid 75.00
    staff: Caller = sign_in_as(client.app, tenant_id, Role.BILLING)  # type: ignore[arg-type]
    run = client.post("/api/v1/billing/payment-runs", headers=staff.headers)
    assert run.status_code == 201
    (payment,) = run.json()["payments"]
    assert {k: payment[k] for k in ("payee", "payee_id", "payee_npi", "amount", "method")} == {
        "payee": "PROVIDER",
        "payee_id": str(clinic),
        "payee_npi": NPI_IN,
        "amount": "75.00",
        "method": "ACH",
    }
    assert payment["claims"] == [{"claim_id": str(claim_id), "paid": "75.00"}]


def test_a_payment_or_a_setting_names_an_account_that_exists_and_an_amount_that_fits(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    group = _group(platform, tenant_id, "Acme Tools")
    staff: Caller = sign_in_as(client.app, tenant_id, Role.BILLING)  # type: ignore[arg-type]
    payment = {"amount": "10.00", "method": "ACH", "reference": "ACH-1"}

    unknown = client.post(
        "/api/v1/billing/payments", json={"account_id": str(uuid.uuid4()), **payment}, headers=staff.headers
    )
    assert (unknown.status_code, unknown.json()["errors"]) == (
        422,
        [{"field": "account_id", "message": "no such account", "code": "unknown_account"}],
    )
    settings = client.put(
        "/api/v1/billing/account-settings",
        json={"account_id": str(uuid.uuid4()), "receives_aptc": True},
        headers=staff.headers,
    )
    assert (settings.status_code, settings.json()["errors"][0]["code"]) == (422, "unknown_account")
    huge = client.post(
        "/api/v1/billing/payments",
        json={"account_id": str(group), **payment, "amount": "99999999999999999.99"},
        headers=staff.headers,
    )
    assert (huge.status_code, huge.json()["errors"]) == (
        422,
        [{"field": "amount", "message": "is larger than any payment Olly records", "code": "too_large"}],
    )
    assert "99999999999999999" not in huge.text
    assert client.get("/api/v1/billing/payments", headers=staff.headers).json() == []  # nothing recorded
    paid = client.post("/api/v1/billing/payments", json={"account_id": str(group), **payment}, headers=staff.headers)
    assert (paid.status_code, paid.json()["credit"]) == (201, "10.00")  # an account with no invoice yet takes it
