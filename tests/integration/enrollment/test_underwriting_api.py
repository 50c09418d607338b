"""Underwriting findings over HTTP: enrollment staff record them on a sum-insured policy and withdraw
one recorded by mistake, examiners read them, employers never reach them; bad input is problem+json
and records (or withdraws) nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.app import create_app
from olly.enrollment import public, service
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.plans import service as plans_service
from olly.platform.audit import AuditEvent
from olly.platform.auth.roles import Role
from olly.platform.db import table_of
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


def employer_group_policy(
    platform: Platform, tenant_id: uuid.UUID, subscriber: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID]:
    """An employer group (Acme) and a policy of its on the demo PPO: (group account, policy)."""
    with platform.db.unit_of_work(tenant_id) as uow:
        group = people.open_account(uow, kind="GROUP", name="Acme", currency="USD").id
        policy_id = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=group,
                subscriber_party_id=subscriber,
                plan_code="OLLY-PPO-1000",
                effective_date=date(2026, 1, 1),
            ),
            PlansCatalog(),
        ).id
    return group, policy_id


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
    recorded = client.post(route, json=body, headers={**specialist.headers, "X-Request-ID": "record-grandma"})
    assert recorded.status_code == 201, recorded.text
    found = recorded.json()
    # The access (the decision point's record) and the finding itself (which one, never what it
    # says), committed with it.
    assert audited(platform, "record-grandma") == [
        (
            "underwriting.write",
            "underwriting",
            str(policy_id),
            "allowed",
            {"method": "POST", "route": "/api/v1/enrollments/{policy_id}/underwriting-flags"},
        ),
        ("underwriting.write", "underwriting", found["id"], "allowed", {"policyId": str(policy_id)}),
    ]
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
    group, group_policy = employer_group_policy(platform, tenant_id, family["ana"])
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


def record_finding(client: TestClient, specialist: Caller, policy_id: uuid.UUID, party_id: uuid.UUID) -> str:
    """A type 2 diabetes (E11, 36 months) on ``party_id``; the finding's id."""
    body = {
        "party_id": str(party_id),
        "flag": "PRE_EXISTING_DISEASE",
        "waiting_period_months": 36,
        "detail": "type 2 diabetes",
        "diagnosis_codes": ["E11"],
    }
    recorded = client.post(f"/api/v1/enrollments/{policy_id}/underwriting-flags", json=body, headers=specialist.headers)
    assert recorded.status_code == 201, recorded.text
    found: str = recorded.json()["id"]
    return found


def audited(platform: Platform, request_id: str) -> list[tuple[str, str, str | None, str, dict[str, str]]]:
    events = table_of(AuditEvent)
    with platform.db.connect() as connection:
        rows = connection.execute(
            select(events.c.action, events.c.resource_type, events.c.resource_id, events.c.outcome, events.c.detail)
            .where(events.c.request_id == request_id)
            .order_by(events.c.occurred_at, events.c.resource_id)
        ).all()
    return [(r.action, r.resource_type, r.resource_id, r.outcome, json.loads(r.detail or "{}")) for r in rows]


def test_a_specialist_withdraws_a_finding_which_stays_listed_marked_withdrawn(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, family: dict[str, uuid.UUID]
) -> None:
    policy_id = floater(platform, tenant_id, family)
    specialist = caller(client, tenant_id, Role.ENROLLMENT_SPECIALIST)
    flag_id = record_finding(client, specialist, policy_id, family["grandma"])
    route = f"/api/v1/enrollments/{policy_id}/underwriting-flags/{flag_id}/withdrawal"
    body = {"reason": "WRONG_PERSON", "note": "her sister's diabetes"}
    # Reading is not withdrawing: an examiner may not; an employer never reaches underwriting.
    examiner = caller(client, tenant_id, Role.CLAIMS_EXAMINER)
    assert client.post(route, json=body, headers=examiner.headers).status_code == 403
    group, group_policy = employer_group_policy(platform, tenant_id, family["ana"])
    employer = sign_in_as(client.app, tenant_id, Role.EMPLOYER_ADMIN, group_account_id=group)  # type: ignore[arg-type]
    own = f"/api/v1/enrollments/{group_policy}/underwriting-flags/{flag_id}/withdrawal"
    assert client.post(own, json=body, headers=employer.headers).status_code == 403
    assert client.post(route, json=body, headers=employer.headers).status_code == 403
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert public.declared_conditions(uow, policy_id) != []  # nothing withdrawn by those

    clock.set(datetime(2026, 2, 3, 10, 30, tzinfo=UTC))
    withdrawn = client.post(route, json=body, headers={**specialist.headers, "X-Request-ID": "withdraw-eve"})
    assert withdrawn.status_code == 200, withdrawn.text
    marked = {
        "withdrawn_at": "2026-02-03T10:30:00Z",
        "withdrawal_reason": "WRONG_PERSON",
        "withdrawal_note": "her sister's diabetes",
    }
    assert {k: withdrawn.json()[k] for k in ("id", "flag", "diagnosis_codes", *marked)} == {
        "id": flag_id,
        "flag": "PRE_EXISTING_DISEASE",
        "diagnosis_codes": ["E11"],
        **marked,
    }
    listed = client.get(f"/api/v1/enrollments/{policy_id}/underwriting-flags", headers=examiner.headers)
    assert listed.status_code == 200
    assert [{k: f[k] for k in ("id", "detail", *marked)} for f in listed.json()] == [
        {"id": flag_id, "detail": "type 2 diabetes", **marked}
    ]
    # The access (the decision point's record) and the withdrawal itself (which finding, the reason's
    # code, never the note), committed with it.
    assert audited(platform, "withdraw-eve") == [
        (
            "underwriting.write",
            "underwriting",
            str(policy_id),
            "allowed",
            {"method": "POST", "route": "/api/v1/enrollments/{policy_id}/underwriting-flags/{flag_id}/withdrawal"},
        ),
        (
            "underwriting.write",
            "underwriting",
            flag_id,
            "allowed",
            {"policyId": str(policy_id), "withdrawalReason": "WRONG_PERSON"},
        ),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert public.declared_conditions(uow, policy_id) == []


def test_a_withdrawal_of_an_unknown_or_withdrawn_finding_is_problem_json_and_changes_nothing(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, clock: FixedClock, family: dict[str, uuid.UUID]
) -> None:
    policy_id = floater(platform, tenant_id, family)
    specialist = caller(client, tenant_id, Role.ENROLLMENT_SPECIALIST)
    flag_id = record_finding(client, specialist, policy_id, family["grandma"])
    with platform.db.unit_of_work(tenant_id) as uow:
        elsewhere = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.SUM_INSURED,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["ana"],
                plan_code="OLLY-FLOATER-5L",
                effective_date=date(2026, 1, 1),
            ),
            PlansCatalog(),
        ).id
    anas = record_finding(client, specialist, elsewhere, family["ana"])

    def withdraw(policy: uuid.UUID, flag: str, body: dict[str, str]) -> tuple[int, str, str]:
        answer = client.post(
            f"/api/v1/enrollments/{policy}/underwriting-flags/{flag}/withdrawal", json=body, headers=specialist.headers
        )
        assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
        assert "diabetes" not in answer.text and "sister" not in answer.text  # never the finding's words
        return answer.status_code, answer.json()["code"], answer.json()["detail"]

    duplicate = {"reason": "DUPLICATE"}
    not_here = (404, "underwriting_flag_not_found", "No such underwriting finding on this policy")
    assert withdraw(policy_id, str(uuid.uuid4()), duplicate) == not_here
    assert withdraw(policy_id, anas, duplicate) == not_here  # Ana's finding, named on Ben's policy
    assert withdraw(uuid.uuid4(), flag_id, duplicate) == (404, "not_found", "no such resource")  # the access check's
    assert withdraw(policy_id, flag_id, {"reason": "OTHER"})[:2] == (422, "validation_failed")
    assert withdraw(policy_id, flag_id, {"reason": "MISTAKE"})[:2] == (422, "validation_failed")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        flags = {str(f.id): f for f in EnrollmentRepository(uow).underwriting_flags(policy_id)}
        flags |= {str(f.id): f for f in EnrollmentRepository(uow).underwriting_flags(elsewhere)}
    assert {k: (f.withdrawn_at, f.withdrawal_reason) for k, f in flags.items()} == {
        flag_id: (None, None),
        anas: (None, None),
    }

    clock.set(datetime(2026, 2, 3, 10, 30, tzinfo=UTC))
    first = client.post(
        f"/api/v1/enrollments/{policy_id}/underwriting-flags/{flag_id}/withdrawal",
        json={"reason": "OTHER", "note": "her sister's diabetes"},
        headers=specialist.headers,
    )
    assert first.status_code == 200, first.text
    clock.set(datetime(2026, 2, 4, 9, 0, tzinfo=UTC))
    assert withdraw(policy_id, flag_id, duplicate) == (
        409,
        "underwriting_flag_already_withdrawn",
        "withdrawn on 2026-02-03",
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = EnrollmentRepository(uow).underwriting_flag(uuid.UUID(flag_id))
        assert row is not None
        assert (row.withdrawn_at, row.withdrawal_reason, row.withdrawal_note) == (
            datetime(2026, 2, 3, 10, 30, tzinfo=UTC),
            "OTHER",
            "her sister's diabetes",
        )
