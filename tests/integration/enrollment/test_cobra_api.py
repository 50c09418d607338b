"""COBRA over HTTP (problem+json refusals) and the ``olly enrollment cobra-*`` commands."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from olly.app import create_app
from olly.cli import app as cli_app
from olly.enrollment import cli as enrollment_cli
from olly.enrollment.models import CobraCase
from olly.kernel.clock import FixedClock
from olly.platform.auth.roles import Role
from olly.platform.objectstore import object_store_of
from olly.platform.runtime import Platform
from tests.factories import ACCOUNT, FakePlans
from tests.integration.enrollment.cobra_support import group_policy
from tests.support.bus import drain
from tests.support.identity import Caller, sign_in_as


@pytest.fixture
def client(platform: Platform, plans: FakePlans) -> Iterator[TestClient]:
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        test_client.app.state.plan_catalog = plans  # type: ignore[attr-defined]
        yield test_client


@pytest.fixture
def specialist(client: TestClient, tenant_id: uuid.UUID) -> Caller:
    return sign_in_as(client.app, tenant_id, Role.ENROLLMENT_SPECIALIST)  # type: ignore[arg-type]


def test_the_cobra_routes(
    client: TestClient,
    specialist: Caller,
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
) -> None:
    policy_id = str(group_policy(platform, tenant_id, plans, family))
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    recorded = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-events",
        json={"event": "TERMINATION", "event_date": "2026-03-20"},
        headers=specialist.headers,
    )
    assert recorded.status_code == 201, recorded.text
    assert [
        (c["party_id"], c["relationship"], c["loss_date"], c["election_deadline"], c["continuation_end"], c["status"])
        for c in recorded.json()
    ] == [
        (str(family["ana"]), "SELF", "2026-04-01", "2026-05-31", "2027-09-30", "OFFERED"),
        (str(family["ben"]), "SPOUSE", "2026-04-01", "2026-05-31", "2027-09-30", "OFFERED"),
    ]
    # the day the employer told the administrator not given: the notice is due 44 days after the event
    assert {
        (c["employer_notified_on"], c["notice_due"], c["is_notice_late"], c["is_employer_notice_late"])
        for c in recorded.json()
    } == {(None, "2026-05-03", False, None)}
    clock.set(datetime(2026, 5, 16, 10, 30, tzinfo=UTC))
    stranger = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-elections",
        json={"party_ids": [str(family["cy"])]},
        headers=specialist.headers,
    )
    assert stranger.status_code == 422
    assert stranger.headers["content-type"].startswith("application/problem+json")
    assert stranger.json()["code"] == "not_a_qualified_beneficiary"
    elected = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-elections",
        json={"party_ids": [str(family["ana"])]},
        headers=specialist.headers,
    )
    assert elected.status_code == 201, elected.text
    body = elected.json()
    assert (body["market"], body["status"], body["tier_code"], body["total_premium"], body["member_premium"]) == (
        "COBRA",
        "SUBMITTED",
        "EE",
        "612.00",
        "612.00",
    )
    assert [(c["party_id"], c["valid_from"], c["valid_to"]) for c in body["covered"]] == [
        (str(family["ana"]), "2026-04-01", "2026-12-31")
    ]
    twice = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-elections",
        json={"party_ids": [str(family["ana"])]},
        headers=specialist.headers,
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "cobra_already_elected")
    clock.set(datetime(2026, 6, 1, 0, 30, tzinfo=UTC))
    late = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-elections",
        json={"party_ids": [str(family["ben"])]},
        headers=specialist.headers,
    )
    assert (late.status_code, late.json()["code"], late.json()["electionDeadline"]) == (
        422,
        "cobra_election_window_closed",
        "2026-05-31",
    )
    cases = client.get(f"/api/v1/enrollments/{policy_id}/cobra-cases", headers=specialist.headers)
    assert [(c["status"], c["cobra_policy_id"], c["elected_on"]) for c in cases.json()] == [
        ("ELECTED", body["id"], "2026-05-16"),
        ("OFFERED", None, None),
    ]


def test_the_notice_deadline_on_the_case(
    client: TestClient,
    specialist: Caller,
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
) -> None:
    policy_id = str(group_policy(platform, tenant_id, plans, family))
    url = f"/api/v1/enrollments/{policy_id}/cobra-events"
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    refusals = [
        ({"event": "TERMINATION", "event_date": "2026-03-02", "employer_notified_on": "2026-03-21"}, "future_date"),
        ({"event": "TERMINATION", "event_date": "2026-03-02", "employer_notified_on": "2026-03-01"}, "before_event"),
        (
            {
                "event": "DIVORCE",
                "event_date": "2026-03-02",
                "party_id": str(family["ben"]),
                "employer_notified_on": "2026-03-03",
            },
            "not_allowed",
        ),
    ]
    for body, code in refusals:
        refused = client.post(url, json=body, headers=specialist.headers)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (refused.json()["code"], [(e["field"], e["code"]) for e in refused.json()["errors"]]) == (
            "validation_failed",
            [("employer_notified_on", code)],
        )
    assert client.get(f"/api/v1/enrollments/{policy_id}/cobra-cases", headers=specialist.headers).json() == []
    # employment ended on 2 March, the employer told the administrator on 3 March: the notice was due
    # on 17 March and goes out on the 20th, late; the employer was in time (30 days, to 1 April)
    recorded = client.post(
        url,
        json={"event": "TERMINATION", "event_date": "2026-03-02", "employer_notified_on": "2026-03-03"},
        headers=specialist.headers,
    )
    assert recorded.status_code == 201, recorded.text
    assert [
        (
            c["notice_date"],
            c["employer_notified_on"],
            c["notice_due"],
            c["is_notice_late"],
            c["is_employer_notice_late"],
        )
        for c in recorded.json()
    ] == [("2026-03-20", "2026-03-03", "2026-03-17", True, False)] * 2


def test_the_cobra_commands(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(enrollment_cli, "build_platform", lambda: platform)
    monkeypatch.setattr(enrollment_cli, "plan_catalog", lambda: plans)
    monkeypatch.setattr(platform.settings, "default_tenant_id", tenant_id)
    runner = CliRunner()

    def olly(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli_app, ["enrollment", *args], env={"COLUMNS": "250"})
        return result.exit_code, result.output

    policy_id = str(group_policy(platform, tenant_id, plans, family))
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    code, output = olly(
        "cobra-event", policy_id, "--event", "TERMINATION", "--date", "2026-03-20", "--employer-notified", "2026-03-20"
    )
    assert code == 0, output
    assert "2 qualified beneficiaries sent an election notice" in output
    assert output.count("2026-04-03") == 2 and "late" not in output  # the notice due 14 days after the employer told
    # each case: covered to 30 September 2027, and a disability determination told by then at the latest
    assert output.count("2026-05-31") == 2 and output.count("2027-09-30") == 4
    assert "Ana" not in output and "Rivera" not in output
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    code, output = olly("cobra-elect", policy_id, "--person", str(family["ben"]))
    assert code == 1
    assert "cobra_election_window_closed" in output and "2026-05-31" in output
    clock.set(datetime(2026, 5, 31, 9, 0, tzinfo=UTC))
    code, output = olly("cobra-elect", policy_id, "--person", str(family["ben"]), "--person", str(family["ana"]))
    assert code == 0, output
    assert "PPO-2026 EE+SP, from 2026-04-01, 1122.00 USD a month" in output
    code, output = olly("cobra-cases", policy_id)
    assert code == 0 and output.count("ELECTED") == 2
    assert olly("cobra-event", "not-a-uuid", "--event", "TERMINATION", "--date", "2026-03-20")[0] == 2


def test_the_extension_and_early_end_routes(
    client: TestClient,
    specialist: Caller,
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
) -> None:
    ana, ben = str(family["ana"]), str(family["ben"])
    policy_id = str(group_policy(platform, tenant_id, plans, family))
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-events",
        json={"event": "TERMINATION", "event_date": "2026-03-20"},
        headers=specialist.headers,
    ).raise_for_status()
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-elections", json={"party_ids": [ana]}, headers=specialist.headers
    ).raise_for_status()
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    url = f"/api/v1/enrollments/{policy_id}/cobra-disability"
    not_elected = client.post(
        url,
        json={"party_id": ben, "disabled_since": "2026-05-01", "determined_on": "2026-11-02"},
        headers=specialist.headers,
    )
    assert (not_elected.status_code, not_elected.json()["code"]) == (422, "cobra_not_elected")
    assert not_elected.headers["content-type"].startswith("application/problem+json")
    late = client.post(
        url,
        json={"party_id": ana, "disabled_since": "2026-05-01", "determined_on": "2026-09-30"},
        headers=specialist.headers,
    )
    assert (late.status_code, late.json()["code"], late.json()["noticeDeadline"]) == (
        422,
        "cobra_notice_too_late",
        "2026-11-29",
    )
    assert late.headers["content-type"].startswith("application/problem+json")
    assert late.json()["detail"] == (
        "the plan had to be told of the disability determination by 2026-11-29 (60 days after it, and within the "
        "first 18 months of continuation); told on 2026-12-01"
    )
    extended = client.post(
        url,
        json={"party_id": ana, "disabled_since": "2026-05-01", "determined_on": "2026-11-02"},
        headers=specialist.headers,
    )
    assert extended.status_code == 200, extended.text
    assert [
        (c["party_id"], c["continuation_end"], c["extension"], c["premium_increase_from"]) for c in extended.json()
    ] == [
        (ana, "2028-08-31", "DISABILITY", "2027-10-01"),
        (ben, "2028-08-31", "DISABILITY", None),
    ]
    assert "disability" not in extended.json()[0] and "2026-05-01" not in extended.text  # the determination: PHI
    # the case shows the outer limit of a disability report, never the deadline the determination set
    assert {c["disability_notice_by"] for c in extended.json()} == {"2027-09-30"}
    assert "2027-01-01" not in extended.text
    again = client.post(
        url,
        json={"party_id": ana, "disabled_since": "2026-05-01", "determined_on": "2026-11-02"},
        headers=specialist.headers,
    )
    assert (again.status_code, again.json()["code"]) == (409, "cobra_already_extended")
    second = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-second-events",
        json={"event": "DIVORCE", "event_date": "2026-11-20", "party_ids": [ben]},
        headers=specialist.headers,
    )
    assert (second.status_code, second.json()["code"]) == (422, "cobra_not_elected")
    ended = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-ends",
        json={"party_id": ana, "reason": "OTHER_GROUP_COVERAGE", "event_date": "2027-01-01"},
        headers=specialist.headers,
    )
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["ended_on"], ended.json()["end_reason"]) == (
        "ENDED",
        "2026-12-31",
        "OTHER_GROUP_COVERAGE",
    )
    unknown = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-ends",
        json={"party_id": ana, "reason": "BORED", "event_date": "2027-01-01"},
        headers=specialist.headers,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "validation_failed")


def test_the_extension_commands(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(enrollment_cli, "build_platform", lambda: platform)
    monkeypatch.setattr(enrollment_cli, "plan_catalog", lambda: plans)
    monkeypatch.setattr(platform.settings, "default_tenant_id", tenant_id)
    runner = CliRunner()

    def olly(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli_app, ["enrollment", *args], env={"COLUMNS": "250"})
        return result.exit_code, result.output

    ana, ben = str(family["ana"]), str(family["ben"])
    policy_id = str(group_policy(platform, tenant_id, plans, family))
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    code, output = olly(
        "cobra-event",
        policy_id,
        "--event",
        "TERMINATION",
        "--date",
        "2026-03-20",
        "--medicare-entitlement",
        "2025-11-01",
    )
    assert code == 0, output
    assert "2028-10-31" in output and "MEDICARE_ENTITLEMENT" in output
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    assert olly("cobra-elect", policy_id, "--person", ana)[0] == 0
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    code, output = olly(
        "cobra-disability", policy_id, "--person", ben, "--disabled-since", "2026-05-01", "--determined", "2026-11-02"
    )
    assert code == 1 and "cobra_not_elected" in output
    # a report after its 60 days: the message names the deadline
    code, output = olly(
        "cobra-disability", policy_id, "--person", ana, "--disabled-since", "2026-05-01", "--determined", "2026-09-30"
    )
    assert code == 1 and "cobra_notice_too_late" in output
    assert (
        "the plan had to be told of the disability determination by 2026-11-29 (60 days after it, and within the "
        "first 18 months of continuation); told on 2026-12-01" in " ".join(output.split())
    )
    code, output = olly(
        "cobra-disability", policy_id, "--person", ana, "--disabled-since", "2026-05-01", "--determined", "2026-11-02"
    )
    assert code == 0, output
    assert output.count("2028-08-31") == 1 and "DISABILITY" in output and "2026-05-01" not in output
    code, output = olly("cobra-second-event", policy_id, "--event", "DIVORCE", "--date", "2026-11-20", "--person", ana)
    assert code == 1 and "cobra_second_event_not_for_this_person" in output
    # Ben never elected; a Medicare entitlement must say whether the plan ends a spouse's cover on it
    medicare = ("cobra-second-event", policy_id, "--event", "MEDICARE_ENTITLEMENT", "--date", "2026-10-01")
    code, output = olly(*medicare, "--person", ben)
    assert code == 1 and "group_cover_would_end: say whether the group plan ends" in output
    code, output = olly(*medicare, "--person", ben, "--group-cover-continues")
    assert code == 1 and "cobra_second_event_without_loss_of_cover" in output
    code, output = olly(
        "cobra-end", policy_id, "--person", ana, "--reason", "MEDICARE_ENTITLEMENT", "--date", "2027-01-01"
    )
    assert code == 0, output
    assert "ENDED" in output and "2026-12-31" in output and "MEDICARE_ENTITLEMENT" in output
    assert olly("cobra-end", policy_id, "--person", ana, "--reason", "MEDICARE_ENTITLEMENT", "--date", "soon")[0] == 2


def test_the_printed_election_notice(
    client: TestClient,
    specialist: Caller,
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
) -> None:
    policy_id = str(group_policy(platform, tenant_id, plans, family))
    clock.set(datetime(2026, 3, 20, 11, 0, tzinfo=UTC))
    recorded = client.post(
        f"/api/v1/enrollments/{policy_id}/cobra-events",
        json={"event": "TERMINATION", "event_date": "2026-03-20"},
        headers=specialist.headers,
    )
    anas, bens = (c["id"] for c in recorded.json())
    notice = client.get(f"/api/v1/cobra-cases/{anas}/notice.pdf", headers=specialist.headers)
    assert notice.status_code == 200, notice.text
    assert notice.headers["content-type"] == "application/pdf"
    pdf = notice.content
    assert pdf.startswith(b"%PDF-1.4")
    for line in (
        b"Dear Ana Rivera,",
        b"Your coverage under the group health plan PPO-2026 ended on 31 March 2026",
        b"because the employment ended \\(on 20 March 2026\\).",
        b"It starts on 1 April 2026, the day after your group coverage ended, so there is",
        b"no gap, and it can last until 30 September 2027.",
        b"Your election must reach the plan by 31 May 2026 \\(60 days\\).",
        b"For you alone: USD 612.00 a month.",  # 102 % of 600.00
        b"For all 2 people offered this coverage, electing together: USD 1122.00 a month.",
    ):
        assert b"(" + line + b") Tj" in pdf, line
    # sealed at rest: the stored object is not the letter
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        key = uow.session.get(CobraCase, uuid.UUID(anas)).notice_object_key  # type: ignore[union-attr]
        assert key is not None
        stored = object_store_of(uow).sealed(uow, key)
    assert b"Ana" not in stored and b"%PDF" not in stored
    # the beneficiary reads their own letter, not another beneficiary's; the employer reads none
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=family["ana"])  # type: ignore[arg-type]
    assert client.get(f"/api/v1/cobra-cases/{anas}/notice.pdf", headers=ana.headers).content == pdf
    assert client.get(f"/api/v1/cobra-cases/{bens}/notice.pdf", headers=ana.headers).status_code == 404
    employer = sign_in_as(client.app, tenant_id, Role.EMPLOYER_ADMIN, group_account_id=ACCOUNT)  # type: ignore[arg-type]
    assert client.get(f"/api/v1/cobra-cases/{anas}/notice.pdf", headers=employer.headers).status_code == 403
    unknown = client.get(f"/api/v1/cobra-cases/{uuid.uuid4()}/notice.pdf", headers=specialist.headers)
    assert unknown.status_code == 404
    # sent: each beneficiary's inbox holds a message that opens their own printed notice
    drain(platform)
    inbox = client.get("/api/v1/notifications", headers=ana.headers)
    assert inbox.status_code == 200, inbox.text
    (message,) = [i for i in inbox.json()["items"] if i["kind"] == "COBRA_ELECTION_NOTICE"]
    assert (message["party_id"], message["link"]) == (str(family["ana"]), f"/api/v1/cobra-cases/{anas}/notice.pdf")
    assert client.get(message["link"], headers=ana.headers).content == pdf
    ben = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=family["ben"])  # type: ignore[arg-type]
    (bens_message,) = client.get("/api/v1/notifications", headers=ben.headers).json()["items"]
    assert bens_message["link"] == f"/api/v1/cobra-cases/{bens}/notice.pdf"
    bens_letter = client.get(bens_message["link"], headers=ben.headers)
    assert bens_letter.status_code == 200 and b"(Dear Ben Rivera,) Tj" in bens_letter.content


def test_the_cases_table_says_who_was_late() -> None:
    late = CobraCase(notice_due=date(2026, 3, 17), is_notice_late=True, is_employer_notice_late=False)
    both = CobraCase(notice_due=date(2026, 5, 4), is_notice_late=True, is_employer_notice_late=True)
    unknown = CobraCase(notice_due=None, is_notice_late=None, is_employer_notice_late=None)
    assert [enrollment_cli._notice_due(c) for c in (late, both, unknown)] == [
        "2026-03-17 (late: notice)",
        "2026-05-04 (late: notice, employer)",
        "",
    ]
