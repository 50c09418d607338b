"""/api/v1/billing/payees/{payee}/bank-account: billing staff and administrators keep a payee's bank
account (by provider id or NPI), a provider user reads its own masked, and every change is audited
without the numbers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.billing import bank_accounts
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from olly.provider import service as provider_service
from tests.integration.provider.factories import individual
from tests.support.identity import Caller, audit_rows, sign_in_as

ROUTING = "021000021"
ACCOUNT = "5550001234"
NPI_OURS = "1234567893"
NPI_OTHER = "1245319508"


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def _provider(platform: Platform, tenant_id: uuid.UUID, npi: str) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return provider_service.register_provider(uow, individual(npi=npi)).id


def _caller(client: TestClient, tenant_id: uuid.UUID, role: Role, npi: str | None = None) -> Caller:
    return sign_in_as(client.app, tenant_id, role, npi=npi)  # type: ignore[arg-type]


def test_billing_sets_reads_masked_and_removes_a_payee_bank_account(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    clinic = _provider(platform, tenant_id, NPI_OURS)
    staff = _caller(client, tenant_id, Role.BILLING)
    url = f"/api/v1/billing/payees/{NPI_OURS}/bank-account"  # by NPI …

    none_yet = client.get(url, headers=staff.headers)
    assert none_yet.status_code == 200, none_yet.text
    assert none_yet.json() == {"payee_id": str(clinic), "bank_account": None, "payment_method": "CHK"}

    saved = client.put(
        url, json={"routing_number": ROUTING, "account_number": ACCOUNT, "account_type": "sg"}, headers=staff.headers
    )
    assert saved.status_code == 200, saved.text
    expected = {
        "payee_id": str(clinic),
        "bank_account": {
            "account_type": "SG",
            "routing_number_last4": "0021",
            "account_number_last4": "1234",
            "updated_at": "2026-01-15T09:00:00Z",
        },
        "payment_method": "ACH",
    }
    assert saved.json() == expected
    assert ACCOUNT not in saved.text and ROUTING not in saved.text
    shown = client.get(f"/api/v1/billing/payees/{clinic}/bank-account", headers=staff.headers)  # … or by id
    assert shown.json() == expected
    assert ACCOUNT not in shown.text and ROUTING not in shown.text
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = bank_accounts.payee_bank(uow, clinic)
        assert row is not None
        assert (row.routing_number, row.account_number, row.account_type) == (ROUTING, ACCOUNT, "SG")

    removed = client.delete(url, headers=staff.headers)
    assert (removed.status_code, removed.content) == (204, b"")
    assert client.get(url, headers=staff.headers).json()["bank_account"] is None
    again = client.delete(url, headers=staff.headers)
    assert (again.status_code, again.headers["content-type"]) == (404, "application/problem+json")

    changes = [
        (r["action"], r["subject"], r["resource_id"])
        for r in audit_rows(platform, resource_type="payee_bank_account")
        if r["action"].startswith("payee_bank.")
    ]
    # Sorted: under the fixed clock, records on parallel audit chains share one time (no total order).
    assert sorted(changes) == [
        ("payee_bank.delete", staff.subject, str(clinic)),
        ("payee_bank.write", staff.subject, str(clinic)),
    ]
    every = audit_rows(platform)
    assert not any(ACCOUNT in str(r) or ROUTING in str(r) for r in every)


def test_bad_numbers_are_refused_with_problem_json_and_nothing_is_written(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    clinic = _provider(platform, tenant_id, NPI_OURS)
    admin = _caller(client, tenant_id, Role.ADMINISTRATOR)
    url = f"/api/v1/billing/payees/{clinic}/bank-account"
    bad = client.put(
        url, json={"routing_number": "021000022", "account_number": "12", "account_type": "XX"}, headers=admin.headers
    )
    assert (bad.status_code, bad.headers["content-type"]) == (422, "application/problem+json")
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("routing_number", "invalid_routing_number"),
        ("account_number", "invalid_account_number"),
        ("account_type", "invalid_account_type"),
    ]
    assert "021000022" not in bad.text
    missing = client.put(url, json={"routing_number": ROUTING}, headers=admin.headers)
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["body.account_number"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert bank_accounts.payee_bank(uow, clinic) is None
    assert [r for r in audit_rows(platform) if r["action"].startswith("payee_bank.")] == []
    # an administrator may write it; a payee nobody registered, or a malformed one, is not found
    ok = client.put(url, json={"routing_number": ROUTING, "account_number": ACCOUNT}, headers=admin.headers)
    assert (ok.status_code, ok.json()["bank_account"]["account_type"]) == (200, "DA")
    for unknown in (str(uuid.uuid4()), "1999999984", "not-a-payee"):
        answer = client.get(f"/api/v1/billing/payees/{unknown}/bank-account", headers=admin.headers)
        assert answer.status_code == 404, unknown


def test_a_provider_reads_only_its_own_account_masked_and_changes_nothing(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    ours, theirs = _provider(platform, tenant_id, NPI_OURS), _provider(platform, tenant_id, NPI_OTHER)
    staff = _caller(client, tenant_id, Role.BILLING)
    for payee, account in ((ours, ACCOUNT), (theirs, "9876543210")):
        put = client.put(
            f"/api/v1/billing/payees/{payee}/bank-account",
            json={"routing_number": ROUTING, "account_number": account},
            headers=staff.headers,
        )
        assert put.status_code == 200, put.text
    office = _caller(client, tenant_id, Role.PROVIDER, npi=NPI_OURS)

    mine = client.get(f"/api/v1/billing/payees/{ours}/bank-account", headers=office.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["bank_account"]["account_number_last4"] == "1234"
    assert ACCOUNT not in mine.text and ROUTING not in mine.text
    assert client.get(f"/api/v1/billing/payees/{NPI_OURS}/bank-account", headers=office.headers).status_code == 200
    other = client.get(f"/api/v1/billing/payees/{theirs}/bank-account", headers=office.headers)
    assert other.status_code == 404 and "3210" not in other.text
    write = client.put(
        f"/api/v1/billing/payees/{ours}/bank-account",
        json={"routing_number": ROUTING, "account_number": "11112222"},
        headers=office.headers,
    )
    assert write.status_code == 403
    assert client.delete(f"/api/v1/billing/payees/{ours}/bank-account", headers=office.headers).status_code == 403
    # other staff: claims examiners have no grant; an auditor reads, masked, and changes nothing
    examiner = _caller(client, tenant_id, Role.CLAIMS_EXAMINER)
    assert client.get(f"/api/v1/billing/payees/{ours}/bank-account", headers=examiner.headers).status_code == 403
    auditor = _caller(client, tenant_id, Role.COMPLIANCE_AUDITOR)
    read = client.get(f"/api/v1/billing/payees/{theirs}/bank-account", headers=auditor.headers)
    assert (read.status_code, read.json()["bank_account"]["account_number_last4"]) == (200, "3210")
    assert client.delete(f"/api/v1/billing/payees/{ours}/bank-account", headers=auditor.headers).status_code == 403
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = bank_accounts.payee_bank(uow, ours)
        assert row is not None and row.account_number == ACCOUNT
    refusals = {(r["action"], r["outcome"]) for r in audit_rows(platform, subject=office.subject)}
    assert ("payee_bank_account.read", "denied") in refusals
    assert ("payee_bank_account.write", "denied") in refusals
