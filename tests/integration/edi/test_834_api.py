"""``POST /api/v1/edi/partners/{code}/834``: enrollment staff write an employer partner's 834 over
HTTP (the whole group, or the changes since a day); it is stored in the outbox and downloaded through
``/api/v1/edi/files/{id}?download=true``. Nobody else may."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.edi import read_all, service
from olly.edi.enrollment import EnrollmentChange
from olly.kernel.clock import FixedClock
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from tests.factories import ACCOUNT, HMO, PPO
from tests.integration.edi.test_834_maintenance import CHILD_COVERAGE_ENDS, _links
from tests.integration.edi.test_834_out import _family_with_a_plan_change
from tests.integration.edi.test_links import enrollment_file
from tests.support.identity import Caller, audit_rows, sign_in_as
from tests.unit.edi.pyx12_judge import judge

URL = "/api/v1/edi/partners/ACME/834"


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    app = create_app(platform, run_bus=False)
    app.state.edi_links = _links()  # the test plan catalogue and benefits, as the service tests use
    with TestClient(app) as test_client:
        yield test_client


def _caller(client: TestClient, tenant_id: uuid.UUID, role: Role, **kw: object) -> Caller:
    return sign_in_as(client.app, tenant_id, role, **kw)  # type: ignore[arg-type]


def test_enrollment_staff_write_the_834_and_download_it(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    _family_with_a_plan_change(platform, tenant_id)
    staff = _caller(client, tenant_id, Role.ENROLLMENT_SPECIALIST)
    written = client.post(URL, json={"asOf": "2026-03-01"}, headers=staff.headers)
    assert written.status_code == 201, written.text
    view = written.json()
    assert (view["direction"], view["kind"], view["receiver"], view["reference"], view["summary"]) == (
        "OUT",
        "834",
        "ZZ:EMPLOYER1",
        "834:2026-03-01",
        {"asOf": "2026-03-01", "members": 2, "subscribers": 1},
    )
    raw = client.get(f"/api/v1/edi/files/{view['id']}", params={"download": "true"}, headers=staff.headers)
    assert (raw.status_code, raw.headers["content-type"]) == (200, "application/edi-x12")
    text = raw.content.decode()
    assert judge(text) == []
    assert text.split("~\n")[3] == "BGN*00*ACME-20260301*20260115*0900****4"
    members = [t for t in read_all(raw.content).transactions if isinstance(t, EnrollmentChange)]
    assert [(m.is_subscriber, m.maintenance, m.last_name, m.first_name) for m in members] == [
        (True, "030", "TRAN", "LAN"),
        (False, "030", "NGUYEN", "KIM"),
    ]
    assert [[(c.plan_description, str(c.begin), str(c.end)) for c in m.coverages] for m in members] == [
        [(HMO, "2026-03-01", "2026-12-31")],
        [(HMO, "2026-03-01", "2026-12-31")],
    ]
    outbox = Path(platform.settings.data_dir, "edi", str(tenant_id), "outbox", "ACME")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row, stored = service.file_content(uow, uuid.UUID(view["id"]))
    assert stored == raw.content
    assert (outbox / service.outbound_name(row)).read_bytes() == raw.content
    sent = [r for r in audit_rows(platform, subject=staff.subject) if r["action"] == "edi_file.send_834"]
    assert [(r["resource_id"], r["outcome"]) for r in sent] == [(view["id"], "allowed")]

    # no body: today's snapshot (the test clock: 2026-01-15), the plan then in force
    today = client.post(URL, headers=staff.headers)
    assert today.status_code == 201, today.text
    assert today.json()["summary"] == {"asOf": "2026-01-15", "members": 2, "subscribers": 1}
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        first = service.file_content(uow, uuid.UUID(today.json()["id"]))[1]
    assert [
        m.coverages[0].plan_description for m in read_all(first).transactions if isinstance(m, EnrollmentChange)
    ] == [PPO, PPO]


def test_the_834_of_changes_since_a_day_and_bad_requests(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    _family_with_a_plan_change(platform, tenant_id)
    clock.set(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        ended = service.ingest(uow, enrollment_file("000000003", [CHILD_COVERAGE_ENDS]), source="cli", links=_links())
    assert ended.enrollment_failures == []
    staff = _caller(client, tenant_id, Role.ENROLLMENT_SPECIALIST)
    changes = client.post(URL, json={"asOf": "2026-02-10", "since": "2026-02-01"}, headers=staff.headers)
    assert changes.status_code == 201, changes.text
    assert (changes.json()["reference"], changes.json()["summary"]) == (
        "834:2026-02-01..2026-02-10",
        {"asOf": "2026-02-10", "since": "2026-02-01", "members": 1, "subscribers": 0},
    )
    raw = client.get(f"/api/v1/edi/files/{changes.json()['id']}", params={"download": "true"}, headers=staff.headers)
    (change,) = [t for t in read_all(raw.content).transactions if isinstance(t, EnrollmentChange)]
    assert (change.maintenance, change.subscriber_id, change.last_name) == ("024", "E100", "NGUYEN")

    backwards = client.post(URL, json={"asOf": "2026-02-01", "since": "2026-02-10"}, headers=staff.headers)
    assert (backwards.status_code, backwards.headers["content-type"]) == (422, "application/problem+json")
    assert [(e["field"], e["code"]) for e in backwards.json()["errors"]] == [("since", "since_after_as_of")]
    not_a_date = client.post(URL, json={"asOf": "March"}, headers=staff.headers)
    assert not_a_date.status_code == 422
    assert [e["field"] for e in not_a_date.json()["errors"]] == ["body.asOf"]
    quiet = client.post(URL, json={"asOf": "2026-02-09", "since": "2026-02-01"}, headers=staff.headers)
    assert quiet.status_code == 404
    assert quiet.json()["detail"] == "no member of the partner's group changed in that period"
    unknown = client.post("/api/v1/edi/partners/NOPE/834", headers=staff.headers)
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "no such active trading partner")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        kinds = [f.kind for f in service.EdiRepository(uow).files(direction="OUT")]
    assert sorted(kinds) == ["834", "999", "999", "999"]  # the 999s of the three files in; refusals wrote nothing


def test_only_enrollment_staff_write_834s(client: TestClient, platform: Platform, tenant_id: uuid.UUID) -> None:
    _family_with_a_plan_change(platform, tenant_id)
    employer = _caller(client, tenant_id, Role.EMPLOYER_ADMIN, group_account_id=ACCOUNT)
    refused = client.post(URL, json={"asOf": "2026-03-01"}, headers=employer.headers)
    assert refused.status_code == 404  # its own group's file is not its to generate: staff only
    for role in (Role.BILLING, Role.COMPLIANCE_AUDITOR, Role.ADMINISTRATOR):
        assert client.post(URL, headers=_caller(client, tenant_id, role).headers).status_code == 403, role
    office = _caller(client, tenant_id, Role.PROVIDER, npi="1234567893")
    assert client.post(URL, headers=office.headers).status_code == 403
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [f.kind for f in service.EdiRepository(uow).files(direction="OUT")] == ["999", "999"]  # no 834
    denied = [(r["action"], r["outcome"]) for r in audit_rows(platform, subject=employer.subject)]
    assert ("enrollment.write", "denied") in denied
