"""The code look-up API: any signed-in role, nobody anonymous; ranked pages with exact contents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from olly.app import create_app
from olly.cli import app as cli
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from tests.support.identity import sign_in_as


@pytest.fixture
def client(sqlite_platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_platform)) as test_client:
        yield test_client


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PROVIDER, Role.CLAIMS_EXAMINER, Role.COMPLIANCE_AUDITOR])
def test_any_signed_in_role_searches_icd10(client: TestClient, tenant_id: uuid.UUID, role: Role) -> None:
    links = {Role.MEMBER: {"party_id": uuid.uuid4()}, Role.PROVIDER: {"npi": "1234567893"}}.get(role, {})
    caller = sign_in_as(client.app, tenant_id, role, **links)  # type: ignore[arg-type]
    response = client.get(
        "/api/v1/codes/icd10", params={"q": "type 2 diabetes kidney", "pageSize": 2}, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "results": [
            {
                "code": "E112",
                "dotted": "E11.2",
                "description": "Type 2 diabetes mellitus with kidney complications",
                "billable": False,
            },
            {
                "code": "E1122",
                "dotted": "E11.22",
                "description": "Type 2 diabetes mellitus with diabetic chronic kidney disease",
                "billable": True,
            },
        ],
        "total": 3,
        "page": 1,
        "pageSize": 2,
    }


def test_hcpcs_by_prefix_on_a_date_of_service(client: TestClient, tenant_id: uuid.UUID) -> None:
    caller = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi="1234567893")  # type: ignore[arg-type]
    response = client.get("/api/v1/codes/hcpcs", params={"q": "J120", "validOn": "2020-06-30"}, headers=caller.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], [r["code"] for r in body["results"]]) == (2, ["J1200", "J1205"])
    assert body["results"][0] == {
        "code": "J1200",
        "description": body["results"][0]["description"],
        "shortDescription": "Diphenhydramine hcl injectio",
        "addedOn": "1982-01-01",
        "medicareCoverage": body["results"][0]["medicareCoverage"],
    }
    assert body["results"][0]["description"].startswith("Injection, diphenhydramine hcl")


def test_anonymous_callers_and_bad_queries_are_refused(client: TestClient, tenant_id: uuid.UUID) -> None:
    assert client.get("/api/v1/codes/icd10", params={"q": "E11"}).status_code == 401
    caller = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=uuid.uuid4())  # type: ignore[arg-type]
    too_big = client.get("/api/v1/codes/hcpcs", params={"q": "J12", "pageSize": 101}, headers=caller.headers)
    assert too_big.status_code == 422
    assert too_big.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/codes/icd10", params={"q": ""}, headers=caller.headers).status_code == 422
    bad_date = client.get("/api/v1/codes/icd10", params={"q": "E11", "validOn": "2026-02-30"}, headers=caller.headers)
    assert bad_date.status_code == 422


def test_cli_prints_a_ranked_page() -> None:
    result = CliRunner().invoke(cli, ["codes", "icd10", "E11.62", "--billable-only", "--page-size", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["E11.620", "E11.621", "E11.622"]
    assert lines[-1] == "page 1 of 2 (4 codes)"
    result = CliRunner().invoke(cli, ["codes", "hcpcs", "J1201", "--valid-on", "2020-06-30"])
    assert (result.exit_code, result.output.strip()) == (0, "no matching codes")
