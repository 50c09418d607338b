"""The plans API over HTTP: problem+json on bad documents, 404 for unknown plans, quotes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.plans import document
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from tests.plan_documents import changed, demo_data, demo_text, demo_version
from tests.support.identity import sign_in_as

PROBLEM = "application/problem+json"


@pytest.fixture
def client(platform: Platform, tenant_id: uuid.UUID) -> Iterator[TestClient]:
    """Signed in as an administrator: the only role that loads plan documents (any role reads)."""
    app = create_app(platform)
    with TestClient(app) as test_client:
        test_client.headers.update(sign_in_as(app, tenant_id, Role.ADMINISTRATOR).headers)
        yield test_client


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, default=str)


def post_plan(client: TestClient, data: dict[str, Any]) -> Any:
    return client.post("/api/v1/plans", content=as_json(data), headers={"content-type": "application/json"})


def test_load_a_plan_document_then_again(client: TestClient) -> None:
    first = post_plan(client, demo_data("OLLY-PPO-1000"))
    assert first.status_code == 201
    assert first.json() == {
        "loaded": [{"code": "OLLY-PPO-1000", "version": 1, "effectiveFrom": "2026-01-01", "status": "created"}]
    }
    again = post_plan(client, demo_data("OLLY-PPO-1000"))
    assert again.status_code == 200
    assert again.json()["loaded"][0]["status"] == "unchanged"


def test_load_a_yaml_document(client: TestClient) -> None:
    response = client.post(
        "/api/v1/plans", content=demo_text("OLLY-FLOATER-5L"), headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 201
    assert response.json()["loaded"][0]["code"] == "OLLY-FLOATER-5L"


def test_a_bad_document_is_a_422_problem_naming_each_field(client: TestClient) -> None:
    data = changed(demo_data("OLLY-PPO-1000"), "benefits.office_visit.in_network.coinsurance_percent", 120)
    data = changed(data, "deductible.in_network.family", "500.00")
    response = post_plan(client, data)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["instance"] == "/api/v1/plans"
    assert body["errors"] == [
        {
            "field": "benefits.office_visit.in_network.coinsurance_percent",
            "message": "must be between 0 and 100",
            "code": "percent_range",
        }
    ]
    # Shape errors come first; once the shape is right the cross-field checks speak.
    fixed = changed(data, "benefits.office_visit.in_network.coinsurance_percent", 0)
    second = post_plan(client, fixed)
    assert second.status_code == 422
    assert second.json()["errors"] == [
        {
            "field": "deductible.in_network.family",
            "message": "must be at least the individual amount (1000.00)",
            "code": "family_below_individual",
        }
    ]
    # Nothing was stored.
    assert client.get("/api/v1/plans").json()["plans"] == []


def test_a_document_that_is_not_json_is_a_422_problem(client: TestClient) -> None:
    response = client.post("/api/v1/plans", content="{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {
            "field": "document",
            "message": "is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2",
            "code": "syntax",
        }
    ]


def test_other_media_types_are_refused(client: TestClient) -> None:
    response = client.post("/api/v1/plans", content="code: X", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM


def test_a_changed_version_is_a_409_conflict(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-PPO-1000"))
    response = post_plan(client, changed(demo_data("OLLY-PPO-1000"), "name", "Renamed"))
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "conflict"


def test_list_plans_with_the_version_in_force(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-HMO-250"))
    post_plan(client, demo_version("OLLY-HMO-250", 2, "2026-07-01"))
    today = client.get("/api/v1/plans")  # the test clock says 2026-01-15
    later = client.get("/api/v1/plans", params={"on": "2026-08-01"})
    before = client.get("/api/v1/plans", params={"on": "2025-12-31"})
    assert today.json()["on"] == "2026-01-15"
    [item] = today.json()["plans"]
    assert (item["code"], item["latestVersion"], item["inForce"]["version"]) == ("OLLY-HMO-250", 2, 1)
    assert later.json()["plans"][0]["inForce"]["version"] == 2
    assert before.json()["plans"][0]["inForce"] is None


def test_get_the_version_in_force(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-ACA-SILVER"))
    response = client.get("/api/v1/plans/OLLY-ACA-SILVER", params={"on": "2026-05-01"})
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["version"], body["planType"], body["metalLevel"], body["ratingMethod"]) == (
        "OLLY-ACA-SILVER",
        1,
        "EPO",
        "silver",
        "age_rated",
    )
    assert body["document"]["administration"]["grace_period"] == {
        "days": 30,
        "aptc_months": 3,
        "reinstatement_days": 30,
    }
    assert body["document"] == document.canonical(document.validate_plan(demo_data("OLLY-ACA-SILVER")))


def test_unknown_plan_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/plans/NO-SUCH-PLAN")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "no plan with code NO-SUCH-PLAN"
    assert client.get("/api/v1/plans/NO-SUCH-PLAN/versions").status_code == 404
    assert client.post("/api/v1/plans/NO-SUCH-PLAN/quote", json={"tier": "EE"}).status_code == 404


def test_a_plan_not_yet_in_force_is_a_404_problem(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-PPO-1000"))
    response = client.get("/api/v1/plans/OLLY-PPO-1000", params={"on": "2025-06-01"})
    assert response.status_code == 404
    assert response.json()["detail"] == "plan OLLY-PPO-1000 has no version in force on 2025-06-01"


def test_versions_of_a_plan(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-PPO-1000"))
    post_plan(client, demo_version("OLLY-PPO-1000", 2, "2027-01-01"))
    versions = client.get("/api/v1/plans/OLLY-PPO-1000/versions").json()
    assert [(v["version"], v["effectiveFrom"]) for v in versions] == [(1, "2026-01-01"), (2, "2027-01-01")]
    assert client.get("/api/v1/plans/OLLY-PPO-1000/versions/2").json()["effectiveFrom"] == "2027-01-01"
    missing = client.get("/api/v1/plans/OLLY-PPO-1000/versions/9")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "plan OLLY-PPO-1000 has no version 9"


def test_quote_a_group_tier(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-PPO-1000"))
    response = client.post("/api/v1/plans/OLLY-PPO-1000/quote", json={"tier": "EE+SP"})
    assert response.status_code == 200
    body = response.json()
    # 1200.00 x 60% = 720.00; member 480.00
    assert {k: body[k] for k in ("tierCode", "totalPremium", "employerContribution", "memberPremium", "on")} == {
        "tierCode": "EE+SP",
        "totalPremium": "1200.00",
        "employerContribution": "720.00",
        "memberPremium": "480.00",
        "on": "2026-01-15",
    }


def test_quote_with_the_employers_own_contribution(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-HMO-250"))
    response = client.post(
        "/api/v1/plans/OLLY-HMO-250/quote", json={"tier": "EE", "employerContribution": {"amount": "400.00"}}
    )
    # 498.76 - 400.00 = 98.76
    assert response.json()["memberPremium"] == "98.76"


def test_quote_an_aca_household(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-ACA-SILVER"))
    response = client.post(
        "/api/v1/plans/OLLY-ACA-SILVER/quote",
        json={
            "on": "2026-02-01",
            "ratingArea": "2",
            "members": [
                {"relationship": "subscriber", "age": 40},
                {"relationship": "spouse", "age": 38, "tobaccoUser": True},
            ],
        },
    )
    assert response.status_code == 200
    body = response.json()
    # 385.47 x 1.278 x 1.0850 = 534.50; 385.47 x 1.246 x 1.0850 x 1.20 = 625.34; total 1159.84
    assert [m["premium"] for m in body["members"]] == ["534.50", "625.34"]
    assert body["members"][1]["factors"] == {"age": "1.246", "area": "1.0850", "tobacco": "1.20"}
    assert (body["totalPremium"], body["memberPremium"], body["tierCode"]) == ("1159.84", "1159.84", "EE+SP")


def test_a_quote_the_plan_cannot_price_names_the_request_field(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-ACA-SILVER"))
    unknown_area = client.post(
        "/api/v1/plans/OLLY-ACA-SILVER/quote",
        json={"ratingArea": "9", "members": [{"relationship": "subscriber", "age": 40}]},
    )
    assert unknown_area.status_code == 422
    assert unknown_area.headers["content-type"] == PROBLEM
    assert unknown_area.json()["errors"] == [
        {"field": "body.ratingArea", "message": "is not a rating area of this plan", "code": "unknown_rating_area"}
    ]
    old_child = client.post(
        "/api/v1/plans/OLLY-ACA-SILVER/quote",
        json={
            "ratingArea": "1",
            "members": [{"relationship": "subscriber", "age": 50}, {"relationship": "child", "age": 27}],
        },
    )
    assert old_child.json()["errors"] == [
        {
            "field": "body.members.1.age",
            "message": "children are covered while younger than 26",
            "code": "child_too_old",
        }
    ]


def test_a_malformed_quote_request_is_a_422_problem(client: TestClient) -> None:
    post_plan(client, demo_data("OLLY-PPO-1000"))
    response = client.post(
        "/api/v1/plans/OLLY-PPO-1000/quote", json={"members": [{"relationship": "subscriber", "age": -1}]}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["body.members.0.age"]


def test_the_openapi_document_lists_the_plans_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/api/v1/plans",
        "/api/v1/plans/{code}",
        "/api/v1/plans/{code}/versions",
        "/api/v1/plans/{code}/versions/{version}",
        "/api/v1/plans/{code}/quote",
    }
    assert "application/yaml" in paths["/api/v1/plans"]["post"]["requestBody"]["content"]


def test_reading_needs_a_sign_in_and_loading_is_for_administrators(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    assert post_plan(client, demo_data("OLLY-PPO-1000")).status_code == 201
    anonymous = TestClient(client.app).get("/api/v1/plans")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")
    member = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=uuid.uuid4())  # type: ignore[arg-type]
    listed = client.get("/api/v1/plans", params={"on": "2026-03-01"}, headers=member.headers)
    assert [p["code"] for p in listed.json()["plans"]] == ["OLLY-PPO-1000"]
    specialist = sign_in_as(client.app, tenant_id, Role.ENROLLMENT_SPECIALIST)  # type: ignore[arg-type]
    for caller in (member, specialist):
        refused = client.post(
            "/api/v1/plans",
            content=as_json(changed(demo_data("OLLY-PPO-1000"), "name", "Renamed")),
            headers={"content-type": "application/json", **caller.headers},
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert client.get("/api/v1/plans/OLLY-PPO-1000/versions").json()[0]["version"] == 1  # nothing was loaded
