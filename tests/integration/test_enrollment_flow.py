"""End to end over HTTP and the event backbone: enrol → events → eligibility read model → fast path.

An enrollment specialist registers, enrols and terminates; a claims examiner checks eligibility by
member id; a provider finds the member by number, birth date and name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.app import create_app
from olly.enrollment import service as enrollment_service
from olly.enrollment.repository import EnrollmentRepository
from olly.kernel.clock import FixedClock
from olly.plans import service as plans_service
from olly.platform.auth.roles import Role
from olly.platform.bus.models import OutboxRecord
from olly.platform.runtime import Platform
from tests.support.bus import drain
from tests.support.identity import NPI_1, Caller, audit_rows, sign_in_as

PPO = "OLLY-PPO-1000"


@pytest.fixture
def client(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> Iterator[TestClient]:
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))  # open enrollment for 2026
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


@pytest.fixture
def specialist(client: TestClient, tenant_id: uuid.UUID) -> Caller:
    return sign_in_as(client.app, tenant_id, Role.ENROLLMENT_SPECIALIST)  # type: ignore[arg-type]


@pytest.fixture
def examiner(client: TestClient, tenant_id: uuid.UUID) -> Caller:
    return sign_in_as(client.app, tenant_id, Role.CLAIMS_EXAMINER)  # type: ignore[arg-type]


@pytest.fixture
def provider(client: TestClient, tenant_id: uuid.UUID) -> Caller:
    return sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_1)  # type: ignore[arg-type]


def person(client: TestClient, caller: Caller, given: str, family: str, born: str) -> str:
    response = client.post(
        "/api/v1/parties/individuals",
        json={"given_name": given, "family_name": family, "birth_date": born},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_enrol_then_check_eligibility(
    client: TestClient,
    platform: Platform,
    clock: FixedClock,
    specialist: Caller,
    examiner: Caller,
    provider: Caller,
) -> None:
    account = client.post(
        "/api/v1/accounts",
        json={"kind": "GROUP", "name": "Acme Tools", "currency": "USD"},
        headers=specialist.headers,
    )
    assert account.status_code == 201
    subscriber = person(client, specialist, "Nia", "Brooks", "1988-03-14")
    spouse = person(client, specialist, "Theo", "Brooks", "1987-07-01")
    enrolled = client.post(
        "/api/v1/enrollments",
        json={
            "market": "GROUP",
            "account_id": account.json()["id"],
            "subscriber_party_id": subscriber,
            "plan_code": PPO,
            "effective_date": "2026-01-01",
            "dependents": [{"party_id": spouse, "relationship": "SPOUSE"}],
        },
        headers=specialist.headers,
    )
    assert enrolled.status_code == 201, enrolled.text
    policy = enrolled.json()
    assert (policy["status"], policy["tier_code"], policy["plan_code"]) == ("SUBMITTED", "EE+SP", PPO)
    assert sorted(c["relationship"] for c in policy["covered"]) == ["SELF", "SPOUSE"]
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        topics = list(uow.session.scalars(select(OutboxRecord.topic).order_by(OutboxRecord.id)))
    assert topics == ["enrollment.enrollment.submitted"]

    # the read models follow the events (eligibility's, claims' and billing's consumers; a group gets
    # no first invoice); before activation the answer is "pending"
    assert drain(platform) == 3
    pending = client.get(
        "/api/v1/eligibility",
        params={"memberId": spouse, "serviceDate": "2026-02-03", "serviceType": "98"},
        headers=examiner.headers,
    )
    assert pending.status_code == 200
    assert (pending.json()["covered"], pending.json()["status"]) == (False, "PENDING_ACTIVATION")

    # the group's effective date arrives: the job activates, the event flows, the member is covered
    clock.set(datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    from olly.platform.jobs import JobScheduler, discover_jobs

    scheduler = JobScheduler(platform.db, "test")
    discover_jobs(scheduler)
    assert "enrollment.activate-due-groups" in scheduler.run_all_once()
    # two activations (subscriber and spouse), each handled by eligibility and by the notifications inbox
    assert drain(platform) == 4
    answer = client.get(
        "/api/v1/eligibility",
        params={"memberId": spouse, "serviceDate": "2026-02-03", "serviceType": "98"},
        headers=examiner.headers,
    )
    body = answer.json()
    assert (body["covered"], body["status"], body["plan_code"], body["relationship"]) == (
        True,
        "COVERED",
        PPO,
        "SPOUSE",
    )
    assert body["service"]["in_network"] == {"copay": "25.00", "coinsurance_percent": "0", "deductible_applies": False}
    assert (body["coverage_start"], body["coverage_end"]) == ("2026-01-01", "2026-12-31")

    # a provider finds the member by number, birth date and name
    search = client.post(
        "/api/v1/eligibility/search",
        json={
            "member_number": body["member_number"],
            "birth_date": "1987-07-01",
            "family_name": "brooks",
            "service_date": "2026-02-03",
            "service_type": "98",
        },
        headers=provider.headers,
    )
    assert search.json()["member_id"] == spouse and search.json()["covered"] is True
    wrong = client.post(
        "/api/v1/eligibility/search",
        json={
            "member_number": body["member_number"],
            "birth_date": "1987-07-02",
            "family_name": "Brooks",
            "service_date": "2026-02-03",
        },
        headers=examiner.headers,
    )
    assert (wrong.json()["covered"], wrong.json()["status"], wrong.json()["member_id"]) == (False, "NOT_FOUND", None)
    # A provider who does not identify the patient learns nothing: neither by a wrong birth date nor
    # by member id alone (staff with access to every member get the "not found" answer above).
    missed = client.post(
        "/api/v1/eligibility/search",
        json={
            "member_number": body["member_number"],
            "birth_date": "1987-07-02",
            "family_name": "Brooks",
            "service_date": "2026-02-03",
        },
        headers=provider.headers,
    )
    by_id = client.get(
        "/api/v1/eligibility", params={"memberId": spouse, "serviceDate": "2026-02-03"}, headers=provider.headers
    )
    assert (missed.status_code, by_id.status_code) == (404, 404)
    assert body["member_number"] not in missed.text + by_id.text

    # a termination reaches the fast path through the bus (the cache is invalidated)
    clock.set(datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    ended = client.post(
        f"/api/v1/enrollments/{policy['id']}/termination", json={"reason": "VOLUNTARY"}, headers=specialist.headers
    )
    assert ended.status_code == 200 and ended.json()["status"] == "TERMINATED"
    drain(platform)
    after = client.get(
        "/api/v1/eligibility", params={"memberId": spouse, "serviceDate": "2026-05-01"}, headers=examiner.headers
    ).json()
    assert (after["covered"], after["status"], after["coverage_end"]) == (False, "TERMINATED", "2026-04-30")
    client.app.state.verified_events.flush()  # type: ignore[attr-defined]
    with platform.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
        topics = list(uow.session.scalars(select(OutboxRecord.topic).order_by(OutboxRecord.id)))
    assert topics.count("eligibility.coverage.terminated") == 2  # subscriber and spouse
    assert "eligibility.coverage.verified" in topics


def test_refusals_are_problems(client: TestClient, specialist: Caller) -> None:
    group = client.post(
        "/api/v1/accounts", json={"kind": "GROUP", "name": "Acme Tools", "currency": "USD"}, headers=specialist.headers
    )
    unknown_plan = client.post(
        "/api/v1/enrollments",
        json={
            "market": "GROUP",
            "account_id": group.json()["id"],
            "subscriber_party_id": person(client, specialist, "A", "B", "1990-01-01"),
            "plan_code": "NOPE",
            "effective_date": "2026-01-01",
        },
        headers=specialist.headers,
    )
    assert unknown_plan.status_code == 422
    assert unknown_plan.json()["errors"] == [
        {"field": "plan_code", "message": "no such plan in force on that date", "code": "unknown_plan"}
    ]
    assert client.get(f"/api/v1/enrollments/{uuid.uuid4()}", headers=specialist.headers).status_code == 404
    bad = client.get(
        "/api/v1/eligibility",
        params={"memberId": "not-a-uuid", "serviceDate": "2026-01-01"},
        headers=specialist.headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.memberId"


def test_a_policy_goes_only_on_an_account_of_its_market_and_currency(
    client: TestClient, platform: Platform, specialist: Caller
) -> None:
    def account(kind: str, currency: str) -> str:
        opened = client.post(
            "/api/v1/accounts",
            json={"kind": kind, "name": "Acme Tools", "currency": currency},
            headers=specialist.headers,
        )
        assert opened.status_code == 201, opened.text
        return str(opened.json()["id"])

    subscriber = person(client, specialist, "Nia", "Brooks", "1988-03-14")

    def enrol(market: str, account_id: str, plan_code: str) -> tuple[int, list[dict[str, str]]]:
        answer = client.post(
            "/api/v1/enrollments",
            json={
                "market": market,
                "account_id": account_id,
                "subscriber_party_id": subscriber,
                "plan_code": plan_code,
                "effective_date": "2026-01-01",
            },
            headers=specialist.headers,
        )
        return answer.status_code, answer.json().get("errors", [])

    group, household, rupees = account("GROUP", "USD"), account("HOUSEHOLD", "USD"), account("HOUSEHOLD", "INR")
    assert enrol("GROUP", str(uuid.uuid4()), PPO) == (
        422,
        [{"field": "account_id", "message": "no such account", "code": "unknown_account"}],
    )
    assert enrol("GROUP", household, PPO) == (
        422,
        [{"field": "account_id", "message": "the GROUP market needs a GROUP account", "code": "wrong_account_kind"}],
    )
    assert enrol("INDIVIDUAL", group, "OLLY-ACA-SILVER") == (
        422,
        [
            {
                "field": "account_id",
                "message": "the INDIVIDUAL market needs a HOUSEHOLD account",
                "code": "wrong_account_kind",
            }
        ],
    )
    assert enrol("SUM_INSURED", household, "OLLY-FLOATER-5L") == (
        422,
        [{"field": "account_id", "message": "is billed in USD, the plan in INR", "code": "wrong_currency"}],
    )
    with platform.db.unit_of_work(specialist.tenant_id, read_only=True) as uow:
        assert EnrollmentRepository(uow).policies_of_subscriber(uuid.UUID(subscriber)) == []  # nothing written
    assert enrol("SUM_INSURED", rupees, "OLLY-FLOATER-5L")[0] == 201


def test_a_spouse_removed_by_mistake_is_reinstated_over_http_and_eligible_again(
    client: TestClient, platform: Platform, clock: FixedClock, specialist: Caller, examiner: Caller
) -> None:
    account = client.post(
        "/api/v1/accounts", json={"kind": "GROUP", "name": "Acme Tools", "currency": "USD"}, headers=specialist.headers
    )
    subscriber = person(client, specialist, "Nia", "Brooks", "1988-03-14")
    spouse = person(client, specialist, "Theo", "Brooks", "1987-07-01")
    enrolled = client.post(
        "/api/v1/enrollments",
        json={
            "market": "GROUP",
            "account_id": account.json()["id"],
            "subscriber_party_id": subscriber,
            "plan_code": PPO,
            "effective_date": "2026-01-01",
            "dependents": [{"party_id": spouse, "relationship": "SPOUSE"}],
        },
        headers=specialist.headers,
    )
    policy_id = enrolled.json()["id"]
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(specialist.tenant_id) as uow:
        enrollment_service.activate_due(uow)
    removed = client.post(
        f"/api/v1/enrollments/{policy_id}/dependent-removals",
        json={"party_id": spouse, "reason": "DIVORCE", "termination_date": "2026-03-31"},
        headers=specialist.headers,
    )
    assert (removed.status_code, removed.json()["tier_code"]) == (200, "EE+SP")
    drain(platform)

    def eligibility(on: str) -> tuple[object, ...]:
        answer = client.get(
            "/api/v1/eligibility", params={"memberId": spouse, "serviceDate": on}, headers=examiner.headers
        ).json()
        return answer["covered"], answer["status"], answer["coverage_start"], answer["coverage_end"]

    assert eligibility("2026-04-02") == (False, "TERMINATED", "2026-01-01", "2026-03-31")

    clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    path = f"/api/v1/enrollments/{policy_id}/dependent-reinstatements"
    back = client.post(path, json={"party_id": spouse}, headers={**specialist.headers, "X-Request-ID": "reinstate-1"})
    assert back.status_code == 200, back.text
    read = back.json()
    assert (read["status"], read["tier_code"], read["total_premium"]) == ("ACTIVE", "EE+SP", "1200.00")
    assert sorted((c["relationship"], c["valid_from"], c["valid_to"]) for c in read["covered"]) == [
        ("SELF", "2026-01-01", "2026-03-31"),
        ("SPOUSE", "2026-01-01", "2026-03-31"),
    ]
    assert [(r["action"], r["outcome"], r["resource_id"]) for r in audit_rows(platform, request_id="reinstate-1")] == [
        ("enrollment.write", "allowed", policy_id)
    ]
    history = client.get(f"/api/v1/enrollments/{policy_id}/transactions", headers=specialist.headers).json()
    assert [(t["transaction_type"], t["effective_date"]) for t in history] == [
        ("NEW", "2026-01-01"),
        ("REMOVE_DEPENDENT", "2026-03-31"),
        ("REINSTATE_DEPENDENT", "2026-04-01"),
    ]
    # the bus carries it to eligibility: covered again from 1 April, on the term priced for two
    drain(platform)
    assert eligibility("2026-04-02") == (True, "COVERED", "2026-04-01", "2026-12-31")

    # the removal is undone already: a problem, and nothing changes
    again = client.post(path, json={"party_id": spouse}, headers=specialist.headers)
    assert (again.status_code, again.headers["content-type"]) == (422, "application/problem+json")
    assert again.json() == {
        "instance": path,
        "requestId": again.headers["X-Request-ID"],
        "type": "https://olly.dev/problems/no_removal_to_undo",
        "title": "The person has no removal to undo on this policy",
        "status": 422,
        "code": "no_removal_to_undo",
        "detail": "the person has no removal in effect on this policy",
        "field": "party_id",
    }
    assert len(client.get(f"/api/v1/enrollments/{policy_id}/transactions", headers=specialist.headers).json()) == 3
