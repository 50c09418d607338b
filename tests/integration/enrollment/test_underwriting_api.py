"""Underwriting findings over HTTP: enrollment staff record them on a sum-insured policy, examiners
read them, employers never reach them; bad input is problem+json and records nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.enrollment import service
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.plans import service as plans_service
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from olly.policy_admin import service as people
from tests.support.identity import Caller, sign_in_as


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def caller(client: TestClient, tenant_id: uuid.UUID, role: Role) -> Caller:
    return sign_in_as(client.app, tenant_id, role)  # type: ignore[arg-type]


def floater(platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]) -> uuid.UUID:
    """Ben with his mother on the demo floater from 2026-01-01."""
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.SUM_INSURED,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["ben"],
                plan_code="OLLY-FLOATER-5L",
                effective_date=date(2026, 1, 1),
                dependents=[{"party_id": family["grandma"], "relationship": "PARENT"}],
            ),
            PlansCatalog(),
        ).id


def test_staff_record_and_read_findings_and_others_cannot(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    policy_id = floater(platform, tenant_id, family)
    specialist = caller(client, tenant_id, Role.ENROLLMENT_SPECIALIST)
    route = f"/api/v1/enrollments/{policy_id}/underwriting-flags"
    body = {
        "party_id": str(family["grandma"]),
        "flag": "PRE_EXISTING_DISEASE",
        "waiting_period_months": 36,
        "detail": "type 2 diabetes",
        "diagnosis_codes": ["e11"],
    }
    recorded = client.post(route, json=body, headers=specialist.headers)
    assert recorded.status_code == 201, recorded.text
    found = recorded.json()
    assert {k: found[k] for k in ("party_id", "flag", "waiting_period_months", "detail", "diagnosis_codes")} == {
        "party_id": str(family["grandma"]),
        "flag": "PRE_EXISTING_DISEASE",
        "waiting_period_months": 36,
        "detail": "type 2 diabetes",
        "diagnosis_codes": ["E11"],  # normalised against the code set
    }
    examiner = caller(client, tenant_id, Role.CLAIMS_EXAMINER)
    listed = client.get(route, headers=examiner.headers)
    assert listed.status_code == 200
    assert [(f["id"], f["flag"]) for f in listed.json()] == [(found["id"], "PRE_EXISTING_DISEASE")]
    # Reading is not recording: an examiner may not add one; an employer reaches neither.
    assert client.post(route, json=body, headers=examiner.headers).status_code == 403
    # An employer administrator, even on its own group's policy (which it may enrol and read), never
    # reaches underwriting: it is clinical.
    with platform.db.unit_of_work(tenant_id) as uow:
        group = people.open_account(uow, kind="GROUP", name="Acme", currency="USD").id
        group_policy = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=group,
                subscriber_party_id=family["ana"],
                plan_code="OLLY-PPO-1000",
                effective_date=date(2026, 1, 1),
            ),
            PlansCatalog(),
        ).id
    employer = sign_in_as(client.app, tenant_id, Role.EMPLOYER_ADMIN, group_account_id=group)  # type: ignore[arg-type]
    assert client.get(f"/api/v1/enrollments/{group_policy}", headers=employer.headers).status_code == 200
    own = f"/api/v1/enrollments/{group_policy}/underwriting-flags"
    assert client.get(own, headers=employer.headers).status_code == 403
    assert client.post(own, json=body | {"party_id": str(family["ana"])}, headers=employer.headers).status_code == 403
    assert client.get(route, headers=employer.headers).status_code == 403
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert len(EnrollmentRepository(uow).underwriting_flags(policy_id)) == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"waiting_period_months": 60}, "waiting_period_months", "out_of_range"),
        ({"diagnosis_codes": ["XYZ"]}, "diagnosis_codes.0", "invalid_code"),
        ({"flag": "LOADING", "waiting_period_months": None}, "loading_percent", "out_of_range"),
    ],
)
def test_a_finding_the_rules_refuse_is_problem_json_and_records_nothing(
    client: TestClient,
    platform: Platform,
    tenant_id: uuid.UUID,
    family: dict[str, uuid.UUID],
    change: dict[str, object],
    field: str,
    code: str,
) -> None:
    policy_id = floater(platform, tenant_id, family)
    specialist = caller(client, tenant_id, Role.ENROLLMENT_SPECIALIST)
    body = {"party_id": str(family["ben"]), "flag": "PRE_EXISTING_DISEASE", "waiting_period_months": 24} | change
    refused = client.post(f"/api/v1/enrollments/{policy_id}/underwriting-flags", json=body, headers=specialist.headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [(field, code)]
    assert "diabetes" not in refused.text and "XYZ" not in refused.text  # the field, never the value
    stranger = client.post(
        f"/api/v1/enrollments/{policy_id}/underwriting-flags",
        json={"party_id": str(uuid.uuid4()), "flag": "EXCLUSION"},
        headers=specialist.headers,
    )
    assert (stranger.status_code, [e["code"] for e in stranger.json()["errors"]]) == (422, ["not_covered"])
    unknown = client.get(f"/api/v1/enrollments/{uuid.uuid4()}/underwriting-flags", headers=specialist.headers)
    assert unknown.status_code == 404
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert EnrollmentRepository(uow).underwriting_flags(policy_id) == []
