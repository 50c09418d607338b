"""The domains' relationships as the decision point sees them, over HTTP with the world's people:
households (a parent and a minor child, an adult spouse), employer groups, the policies that link
them, eligibility searches that identify a patient, roster uploads and creations."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from olly.enrollment.models import Policy
from olly.platform.auth import Dependent
from olly.platform.auth.resolvers import ResolveContext
from olly.policy_admin.models import Party
from tests.support.identity import ADULT_DEPENDENT_BIRTH, BIRTH_DATES, CHILD_BIRTH, World, audit_rows


def _count(world: World, model: type) -> int:
    with world.platform.db.unit_of_work(world.tenant_id, read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_household_comes_from_enrollment_with_birth_dates(world: World) -> None:
    context = ResolveContext(world.tenant_id, world.platform.clock.today(), world.platform.db)
    household = world.control.resolvers.household
    assert sorted(household.dependents(context, world.parties["A"]), key=lambda d: d.birth_date) == [
        Dependent(world.parties["D"], ADULT_DEPENDENT_BIRTH),
        Dependent(world.parties["C"], CHILD_BIRTH),
    ]
    assert list(household.dependents(context, world.parties["B"])) == []
    assert list(household.dependents(context, world.parties["C"])) == []


def test_a_parent_sees_a_minor_child_but_not_an_adult_spouse(client: TestClient, world: World) -> None:
    parent = world.persona("member_a").headers
    on = {"on": "2026-02-01"}
    own = client.get(f"/api/v1/members/{world.parties['A']}/coverage", params=on, headers=parent)
    child = client.get(f"/api/v1/members/{world.parties['C']}/coverage", params=on, headers=parent)
    assert [(r["relationship"], r["member_number"]) for r in own.json()] == [("SELF", world.member_numbers["A"])]
    assert [(r["relationship"], r["member_number"]) for r in child.json()] == [("CHILD", world.member_numbers["C"])]
    for other in ("D", "B"):
        refused = client.get(f"/api/v1/members/{world.parties[other]}/coverage", params=on, headers=parent)
        assert refused.status_code == 404
        assert world.member_numbers[other] not in refused.text
    spouse = world.persona("member_d").headers
    assert client.get(f"/api/v1/members/{world.parties['D']}/coverage", params=on, headers=spouse).status_code == 200
    # The policy covers the adult spouse too: it is not the subscriber's alone to read whole.
    assert client.get(f"/api/v1/enrollments/{world.policies['A']}", headers=parent).status_code == 404
    assert client.get(f"/api/v1/enrollments/{world.policies['B']}", headers=world.persona("member_b").headers).json()[
        "covered"
    ] == [
        {
            "party_id": str(world.parties["B"]),
            "member_number": world.member_numbers["B"],
            "relationship": "SELF",
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
        }
    ]


def test_an_employer_sees_its_group_and_nobody_else(client: TestClient, world: World) -> None:
    employer = world.persona("employer_1").headers
    for letter in "ACD":
        party = client.get(f"/api/v1/parties/{world.parties[letter]}", headers=employer)
        assert party.json()["display_name"].endswith(world.names[letter])
    policy = client.get(f"/api/v1/enrollments/{world.policies['A']}", headers=employer).json()
    assert sorted(c["relationship"] for c in policy["covered"]) == ["CHILD", "SELF", "SPOUSE"]
    for path in (
        f"/api/v1/parties/{world.parties['B']}",
        f"/api/v1/enrollments/{world.policies['B']}",
        f"/api/v1/enrollments/{world.policies['B']}/transactions",
    ):
        refused = client.get(path, headers=employer)
        assert refused.status_code == 404
        assert world.names["B"] not in refused.text and world.member_numbers["B"] not in refused.text
    # The employer changes only its own group's policies.
    terminate = {"reason": "VOLUNTARY"}
    other = client.post(f"/api/v1/enrollments/{world.policies['B']}/termination", json=terminate, headers=employer)
    assert other.status_code == 404
    assert (
        client.get(f"/api/v1/enrollments/{world.policies['B']}", headers=world.persona("employer_2").headers).json()[
            "status"
        ]
        == "SUBMITTED"
    )


def test_an_employer_enrols_only_into_its_own_group(client: TestClient, world: World) -> None:
    employer = world.persona("employer_1").headers
    hired = client.post(
        "/api/v1/parties/individuals",
        json={"given_name": "Nova", "family_name": "Hire", "birth_date": "1995-05-05"},
        headers=employer,
    )
    assert hired.status_code == 201
    new_hire = hired.json()["id"]
    # Registered, but in no group until enrolled: the employer cannot read the person back yet.
    assert client.get(f"/api/v1/parties/{new_hire}", headers=employer).status_code == 404
    enrolment = {
        "market": "GROUP",
        "account_id": str(world.groups["G2"]),
        "subscriber_party_id": new_hire,
        "plan_code": "OLLY-PPO-1000",
        "effective_date": "2026-02-01",
    }
    before = _count(world, Policy)
    foreign = client.post("/api/v1/enrollments", json=enrolment, headers={**employer, "X-Request-ID": "foreign-group"})
    assert foreign.status_code == 404
    individual = client.post(
        "/api/v1/enrollments",
        json={**enrolment, "account_id": str(world.groups["G1"]), "market": "INDIVIDUAL"},
        headers=employer,
    )
    assert individual.status_code == 422
    assert [e["field"] for e in individual.json()["errors"]] == ["market"]
    assert _count(world, Policy) == before
    denied = audit_rows(world.platform, request_id="foreign-group")
    # The role may enrol (the decision point allowed it); the account named is not the employer's.
    assert sorted((r["action"], r["outcome"], r["resource_id"] or "") for r in denied) == [
        ("enrollment.write", "allowed", ""),
        ("enrollment.write", "denied", str(world.groups["G2"])),
    ]

    own = client.post(
        "/api/v1/enrollments", json={**enrolment, "account_id": str(world.groups["G1"])}, headers=employer
    )
    assert own.status_code == 201
    assert client.get(f"/api/v1/parties/{new_hire}", headers=employer).json()["display_name"] == "Nova Hire"
    created = [r for r in audit_rows(world.platform, action="enrollment.write") if r["resource_id"] == own.json()["id"]]
    assert [r["outcome"] for r in created] == ["allowed"]


def test_an_employer_enrols_only_people_it_registered_or_its_group_covers(client: TestClient, world: World) -> None:
    employer = world.persona("employer_1").headers
    specialist = world.persona("enrollment_specialist").headers
    registered_by_staff = client.post(
        "/api/v1/parties/individuals",
        json={"given_name": "Sol", "family_name": "Staffmade", "birth_date": "1991-03-03"},
        headers=specialist,
    ).json()["id"]
    hire = client.post(
        "/api/v1/parties/individuals",
        json={"given_name": "Kit", "family_name": "Newhire", "birth_date": "1993-04-04"},
        headers=employer,
    ).json()["id"]
    enrolment = {
        "market": "GROUP",
        "account_id": str(world.groups["G1"]),
        "plan_code": "OLLY-PPO-1000",
        "effective_date": "2026-02-01",
    }
    stranger = str(world.parties["B"])  # covered by group G2's policy, not G1's
    before = _count(world, Policy)
    attempts = {
        "as-subscriber": {**enrolment, "subscriber_party_id": stranger},
        "staff-registered": {**enrolment, "subscriber_party_id": registered_by_staff},
        "as-dependent": {
            **enrolment,
            "subscriber_party_id": hire,
            "dependents": [{"party_id": stranger, "relationship": "SPOUSE"}],
        },
    }
    for request_id, body in attempts.items():
        refused = client.post("/api/v1/enrollments", json=body, headers={**employer, "X-Request-ID": request_id})
        assert refused.status_code == 404, request_id
        assert world.names["B"] not in refused.text
        denied = [
            (r["action"], r["resource_id"])
            for r in audit_rows(world.platform, request_id=request_id)
            if r["outcome"] == "denied"
        ]
        named = registered_by_staff if request_id == "staff-registered" else stranger
        assert denied == [("enrollment.write", named)], request_id
    added = client.post(
        f"/api/v1/enrollments/{world.policies['A']}/dependents",
        json={"party_id": stranger, "relationship": "CHILD", "qualifying_event": "BIRTH", "event_date": "2026-02-01"},
        headers=employer,
    )
    assert added.status_code == 404
    assert _count(world, Policy) == before
    assert client.get(f"/api/v1/parties/{stranger}", headers=employer).status_code == 404

    # its own registration, and someone its group already covers, it may enrol
    own = client.post(
        "/api/v1/enrollments",
        json={
            **enrolment,
            "subscriber_party_id": hire,
            "dependents": [{"party_id": str(world.parties["D"]), "relationship": "SPOUSE"}],
        },
        headers=employer,
    )
    assert own.status_code == 201, own.text
    # the plan's staff may enrol anyone into the group
    staff = client.post(
        "/api/v1/enrollments", json={**enrolment, "subscriber_party_id": registered_by_staff}, headers=specialist
    )
    assert staff.status_code == 201, staff.text
    assert _count(world, Policy) == before + 2


def test_registering_people_is_for_enrolment_staff_and_employers(client: TestClient, world: World) -> None:
    person = {"given_name": "Ivo", "family_name": "Quest", "birth_date": "1990-01-01"}
    before = _count(world, Party)
    for name in ("member_a", "provider_1", "partner_1", "billing", "claims_examiner", "compliance_auditor"):
        refused = client.post("/api/v1/parties/individuals", json=person, headers=world.persona(name).headers)
        assert refused.status_code == 403, name
    assert _count(world, Party) == before
    made = client.post(
        "/api/v1/parties/individuals", json=person, headers=world.persona("enrollment_specialist").headers
    )
    assert made.status_code == 201
    assert [r["outcome"] for r in audit_rows(world.platform, action="party.create", resource_id=made.json()["id"])] == [
        "allowed"
    ]


def _search(world: World, letter: str, **changes: str) -> dict[str, str]:
    return {
        "member_number": world.member_numbers[letter],
        "birth_date": BIRTH_DATES[letter].isoformat(),
        "family_name": world.names[letter].upper(),
        "service_date": "2026-02-03",
        **changes,
    }


def test_a_provider_reads_eligibility_only_for_a_patient_it_identifies(client: TestClient, world: World) -> None:
    provider = world.persona("provider_1").headers
    found = client.post(
        "/api/v1/eligibility/search", json=_search(world, "A"), headers={**provider, "X-Request-ID": "search-a"}
    )
    assert found.status_code == 200
    answer = found.json()
    assert (answer["member_id"], answer["member_number"], answer["status"]) == (
        str(world.parties["A"]),
        world.member_numbers["A"],
        "PENDING_ACTIVATION",
    )
    # The audit names the person by party id, never by the member number the request carried.
    world.platform.audit.flush()  # the check's own record is written in the background
    rows = audit_rows(world.platform, request_id="search-a")
    assert sorted((r["action"], r["resource_id"], r["role"]) for r in rows) == [
        ("eligibility.check", str(world.parties["A"]), "provider"),
        ("eligibility.read", str(world.parties["A"]), "provider"),
    ]
    assert all(world.member_numbers["A"] not in str(r) for r in rows)

    misses = [
        _search(world, "A", birth_date="1984-03-10"),
        _search(world, "A", family_name="Someone"),
        _search(world, "B", family_name=world.names["A"]),
    ]
    for body in misses:
        refused = client.post("/api/v1/eligibility/search", json=body, headers=provider)
        assert refused.status_code == 404
        assert world.member_numbers["A"] not in refused.text and world.member_numbers["B"] not in refused.text
    by_id = client.get("/api/v1/eligibility", params={"memberId": str(world.parties["A"]), "serviceDate": "2026-02-03"})
    assert by_id.status_code == 401
    by_id = client.get(
        "/api/v1/eligibility",
        params={"memberId": str(world.parties["A"]), "serviceDate": "2026-02-03"},
        headers=provider,
    )
    assert by_id.status_code == 404
    # Members and employers search too, but only for people they may see anyway.
    assert (
        client.post("/api/v1/eligibility/search", json=_search(world, "A"), headers=world.persona("member_b").headers)
    ).status_code == 404
    assert client.post(
        "/api/v1/eligibility/search", json=_search(world, "C"), headers=world.persona("member_a").headers
    ).json()["member_id"] == str(world.parties["C"])
    assert (
        client.post(
            "/api/v1/eligibility/search", json=_search(world, "A"), headers=world.persona("employer_2").headers
        ).status_code
        == 404
    )


def test_rosters_are_uploaded_for_ones_own_group_only(client: TestClient, world: World) -> None:
    header = (
        "employee_id,relationship,given_name,family_name,birth_date,ssn,email,phone,plan_code,effective_date,"
        "qualifying_event,event_date\n"
    )
    roster = header + "E-77,SELF,Rhea,Roster,1990-02-02,,,,OLLY-PPO-1000,2026-02-01,,\n"
    employer = {**world.persona("employer_1").headers, "content-type": "text/csv"}
    before = (_count(world, Party), _count(world, Policy))
    other = client.post(f"/api/v1/accounts/{world.groups['G2']}/roster", content=roster, headers=employer)
    assert other.status_code == 404
    assert (_count(world, Party), _count(world, Policy)) == before
    own = client.post(f"/api/v1/accounts/{world.groups['G1']}/roster", content=roster, headers=employer)
    assert own.json() == {"rows": 1, "enrolledEmployees": 1, "addedDependents": 0, "failures": []}

    specialist = world.persona("enrollment_specialist").headers
    household = client.post(
        "/api/v1/accounts", json={"kind": "HOUSEHOLD", "name": "x", "currency": "USD"}, headers=specialist
    )
    assert household.status_code == 201
    assert (
        client.post(
            f"/api/v1/accounts/{household.json()['id']}/roster",
            content=roster,
            headers={**specialist, "content-type": "text/csv"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/accounts", json={"kind": "GROUP", "name": "x", "currency": "USD"}, headers=employer
        ).status_code
        == 403
    )


def test_an_employer_roster_finds_by_ssn_only_the_groups_own_people(client: TestClient, world: World) -> None:
    """The roster finds a person already registered by their SSN. For an employer administrator that
    is only someone its group covers or it registered: anyone else's SSN is taken, as it is for
    ``POST /parties/individuals``, and the row enrols nobody (else the employer could enrol a
    stranger by SSN alone and then read their name and their other cover)."""
    specialist = world.persona("enrollment_specialist").headers
    stranger = client.post(
        "/api/v1/parties/individuals",
        json={"given_name": "Vera", "family_name": "Quist", "birth_date": "1970-03-03", "ssn": "219-09-4444"},
        headers=specialist,
    )
    assert stranger.status_code == 201
    header = (
        "employee_id,relationship,given_name,family_name,birth_date,ssn,email,phone,plan_code,effective_date,"
        "qualifying_event,event_date\n"
    )
    employer = {**world.persona("employer_1").headers, "content-type": "text/csv"}
    before = (_count(world, Party), _count(world, Policy))
    taken = client.post(
        f"/api/v1/accounts/{world.groups['G1']}/roster",
        content=header + "E-90,SELF,Any,Name,1990-01-01,219-09-4444,,,OLLY-PPO-1000,2026-02-01,,\n",
        headers=employer,
    )
    assert taken.json()["failures"] == [
        {
            "row": 1,
            "employeeId": "E-90",
            "errors": [{"field": "ssn", "message": "a person with this SSN is already registered", "code": "conflict"}],
        }
    ]
    assert "Vera" not in taken.text and "Quist" not in taken.text
    assert (_count(world, Party), _count(world, Policy)) == before
    assert client.get(f"/api/v1/parties/{stranger.json()['id']}", headers=employer).status_code == 404

    # The group's own people are still found by their SSN (a corrected file imported again).
    own = client.post(
        f"/api/v1/accounts/{world.groups['G1']}/roster",
        content=header + "E-91,SELF,Ida,Nord,1990-01-01,219-09-5555,,,OLLY-PPO-1000,2026-02-01,,\n",
        headers=employer,
    )
    assert own.json()["enrolledEmployees"] == 1
    again = client.post(
        f"/api/v1/accounts/{world.groups['G1']}/roster",
        content=header + "E-92,SELF,Ida,Nord,1990-01-01,219-09-5555,,,OLLY-PPO-1000,2026-02-01,,\n",
        headers=employer,
    )
    assert again.json()["failures"][0]["errors"][0]["message"] == "the subscriber already has coverage on this date"
    # The plan's staff find anyone by SSN.
    staffed = client.post(
        f"/api/v1/accounts/{world.groups['G1']}/roster",
        content=header + "E-93,SELF,Vera,Quist,1970-03-03,219-09-4444,,,OLLY-PPO-1000,2026-02-01,,\n",
        headers={**specialist, "content-type": "text/csv"},
    )
    assert staffed.json()["enrolledEmployees"] == 1
    assert _count(world, Party) == before[0] + 1  # Ida only: Vera was found, not registered again


def test_an_unknown_or_malformed_id_names_nobody(client: TestClient, world: World) -> None:
    specialist = world.persona("enrollment_specialist").headers
    member = world.persona("member_a").headers
    stranger = uuid.uuid4()
    assert client.get(f"/api/v1/parties/{stranger}", headers=specialist).status_code == 404
    assert (
        client.get(f"/api/v1/members/{stranger}/coverage", params={"on": "2026-02-01"}, headers=specialist).status_code
        == 404
    )
    unknown = client.get(
        "/api/v1/eligibility", params={"memberId": str(stranger), "serviceDate": "2026-02-01"}, headers=specialist
    )
    assert (unknown.status_code, unknown.json()["status"]) == (200, "NOT_FOUND")
    malformed = {"memberId": "not-a-uuid", "serviceDate": str(date(2026, 2, 1))}
    assert client.get("/api/v1/eligibility", params=malformed, headers=specialist).status_code == 422
    assert client.get("/api/v1/eligibility", params=malformed, headers=member).status_code == 404
