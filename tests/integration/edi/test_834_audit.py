"""834 audit files (INS03 030, BGN08 4): compared with the enrollment in force on the file's effective
date, the reconciliation kept with the file (counts in its summary, per-member findings sealed);
reported only by default, applied when the partner's setting allows it."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from olly.app import create_app
from olly.cli import app as cli
from olly.edi import service
from olly.edi.models import AuditReconciliation, EdiFile, PendingTransaction
from olly.edi.validate import validate
from olly.enrollment import public as enrollment_public
from olly.enrollment.models import Policy
from olly.platform.auth.roles import Role
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from olly.policy_admin.models import Party
from tests.factories import ACCOUNT, HMO, PPO
from tests.integration.edi.test_834_maintenance import _family, _links
from tests.integration.edi.test_834_out import _account
from tests.integration.edi.test_links import envelope, transaction_set
from tests.integration.edi.test_ways_in import cli_env  # noqa: F401  (fixture)
from tests.support.identity import audit_rows, sign_in_as


def audit_file(control: str, members: list[list[str]], *, effective: str = "20260301", action: str = "4") -> bytes:
    body = [
        f"BGN*00*AUDIT{control}*20260225*0900****{action}",
        f"DTP*007*D8*{effective}",
        "N1*P5*ACME CORP*FI*123456789",
        "N1*IN*OLLY HEALTH*FI*987654321",
    ]
    for member in members:
        body += member
    return envelope("EMPLOYER1", "BE", "005010X220A1", control, transaction_set("834", "005010X220A1", body))


#: Enrolled as NGUYEN LAN on PPO (EE+CH) from 2026-02-01; the employer says TRAN, HMO.
SUBSCRIBER_ON_HMO = [
    "INS*Y*18*030*XN*A***FT",
    "REF*0F*E100",
    "NM1*IL*1*TRAN*LAN****34*219091111",
    "DMG*D8*19800202*F",
    f"HD*030**HLT*{HMO}*ECH",
    "DTP*348*D8*20260201",
]
#: Enrolled born 2012-04-01 from 2026-02-01; the employer says born 2012-04-02, covered from 2026-01-15.
CHILD_OTHER_DATES = [
    "INS*N*19*030*XN*A",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*KIM",
    "DMG*D8*20120402*F",
    f"HD*030**HLT*{PPO}*ECH",
    "DTP*348*D8*20260115",
]
#: Nobody enrolled under E200.
NEW_SUBSCRIBER = [
    "INS*Y*18*030*XN*A***FT",
    "REF*0F*E200",
    "NM1*IL*1*DOE*JO****34*219092222",
    "DMG*D8*19900101*M",
    f"HD*030**HLT*{PPO}*EMP",
    "DTP*348*D8*20260301",
]
#: The subscriber exactly as enrolled.
SUBSCRIBER_AS_ENROLLED = [
    "INS*Y*18*030*XN*A***FT",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*LAN****34*219091111",
    "DMG*D8*19800202*F",
    f"HD*030**HLT*{PPO}*ECH",
    "DTP*348*D8*20260201",
]

NO_DISCREPANCY = {
    "NOT_ENROLLED": 0,
    "NOT_IN_FILE": 0,
    "PLAN_DIFFERS": 0,
    "COVERAGE_LEVEL_DIFFERS": 0,
    "COVERAGE_DATES_DIFFER": 0,
    "NAME_DIFFERS": 0,
    "BIRTH_DATE_DIFFERS": 0,
    "GENDER_DIFFERS": 0,
}


def _finding(kind: str, subscriber: str, relationship: str, segment: int | None, **kw: object) -> dict[str, object]:
    return {
        "kind": kind,
        "subscriberId": subscriber,
        "relationship": relationship,
        "segment": segment,
        "memberNumber": kw.get("number"),
        "partyId": kw.get("party"),
        "fileValue": kw.get("file"),
        "enrolledValue": kw.get("enrolled"),
        **({"applied": kw["applied"]} if "applied" in kw else {}),
    }


def _setup(platform: Platform, tenant_id: uuid.UUID, **partner: object) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    _account(platform, tenant_id)
    policy_id, subscriber_id, child_id = _family(platform, tenant_id, _links())
    if partner:
        with platform.db.unit_of_work(tenant_id) as uow:
            row = service.EdiRepository(uow).partner_by_code("ACME")
            assert row is not None
            for key, value in partner.items():
                setattr(row, key, value)
    return policy_id, subscriber_id, child_id


def _numbers(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> dict[uuid.UUID, str]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return {f.party_id: f.member_number for f in enrollment_public.coverage_facts(uow, policy_id)}


def _state(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID, subscriber_id: uuid.UUID) -> object:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        person = uow.session.get(Party, subscriber_id)
        assert person is not None
        facts = sorted(
            (f.relationship, f.plan_code, str(f.valid_from), str(f.valid_to))
            for f in enrollment_public.coverage_facts(uow, policy_id)
        )
        policies = len(uow.session.scalars(select(Policy)).all())
        return person.family_name, person.birth_date, facts, policies


def test_an_audit_file_is_compared_and_reported_without_changing_enrollment(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    policy_id, subscriber_id, child_id = _setup(platform, tenant_id)
    numbers = _numbers(platform, tenant_id, policy_id)
    before = _state(platform, tenant_id, policy_id, subscriber_id)
    data = audit_file("000000002", [SUBSCRIBER_ON_HMO, CHILD_OTHER_DATES, NEW_SUBSCRIBER])
    assert validate(data).accepted
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, data, source="cli", links=_links())
    assert (result.status, result.enrollment_failures, result.created) == ("ACCEPTED", [], [])
    counts = {
        "membersInFile": 3,
        "audited": 3,
        "enrolled": 2,
        "matched": 0,
        **NO_DISCREPANCY,
        "NOT_ENROLLED": 1,
        "PLAN_DIFFERS": 1,
        "COVERAGE_DATES_DIFFER": 1,
        "NAME_DIFFERS": 1,
        "BIRTH_DATE_DIFFERS": 1,
    }
    (summary,) = result.reconciliations
    assert {k: v for k, v in summary.items() if k != "id"} == {
        "setControlNumber": "0001",
        "effectiveDate": "2026-03-01",
        "fullFile": True,
        "applied": False,
        "counts": counts,
    }
    subscriber, child = str(subscriber_id), str(child_id)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (found,) = service.reconciliations(uow, result.file_id)
        file_row = uow.session.get(EdiFile, result.file_id)
        assert file_row is not None
        assert file_row.summary["reconciliations"] == [summary]
        kept = uow.session.scalars(select(PendingTransaction)).all()
    assert found["findings"] == [
        _finding(
            "PLAN_DIFFERS", "E100", "18", 8, number=numbers[subscriber_id], party=subscriber, file=HMO, enrolled=PPO
        ),
        _finding("NAME_DIFFERS", "E100", "18", 8, number=numbers[subscriber_id], party=subscriber),
        _finding(
            "COVERAGE_DATES_DIFFER",
            "E100",
            "19",
            14,
            number=numbers[child_id],
            party=child,
            file="2026-01-15..",
            enrolled="2026-02-01..",
        ),
        _finding("BIRTH_DATE_DIFFERS", "E100", "19", 14, number=numbers[child_id], party=child),
        _finding("NOT_ENROLLED", "E200", "18", 20),
    ]
    assert kept == []  # the audit records are in the reconciliation, not kept as awaiting enrollment
    assert _state(platform, tenant_id, policy_id, subscriber_id) == before  # informational: nothing applied
    # the findings are sealed at rest: neither the subscriber id nor a plan code is readable in the row
    with platform.db.connect() as connection:
        table = table_of(AuditReconciliation)
        raw = connection.execute(select(table.c.findings, table.c.counts)).one()
    assert b"E100" not in raw.findings and HMO.encode() not in raw.findings
    assert raw.counts == counts


def test_members_of_the_group_absent_from_a_full_file_are_reported(platform: Platform, tenant_id: uuid.UUID) -> None:
    policy_id, _, child_id = _setup(platform, tenant_id)
    numbers = _numbers(platform, tenant_id, policy_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        full = service.ingest(uow, audit_file("000000002", [SUBSCRIBER_AS_ENROLLED]), source="cli", links=_links())
    with platform.db.unit_of_work(tenant_id) as uow:
        # the same record in a change file (BGN08 2): only the members sent are compared
        partial = service.ingest(
            uow, audit_file("000000003", [SUBSCRIBER_AS_ENROLLED], action="2"), source="cli", links=_links()
        )
    assert [r["counts"] for r in full.reconciliations + partial.reconciliations] == [
        {"membersInFile": 1, "audited": 1, "enrolled": 2, "matched": 1, **NO_DISCREPANCY, "NOT_IN_FILE": 1},
        {"membersInFile": 1, "audited": 1, "enrolled": 2, "matched": 1, **NO_DISCREPANCY},
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.reconciliations(uow, full.file_id)[0]["findings"] == [
            _finding("NOT_IN_FILE", "E100", "19", None, number=numbers[child_id], party=str(child_id))
        ]
        assert service.reconciliations(uow, partial.file_id)[0]["findings"] == []
    # on a day before anyone's coverage began, nobody is in force yet but everyone is from a later day
    with platform.db.unit_of_work(tenant_id) as uow:
        early = service.ingest(
            uow,
            audit_file("000000004", [SUBSCRIBER_AS_ENROLLED], effective="20260101"),
            source="cli",
            links=_links(),
        )
    assert early.reconciliations[0]["effectiveDate"] == "2026-01-01"
    assert early.reconciliations[0]["counts"]["matched"] == 1


def test_a_partner_may_let_its_audits_apply_what_differs(platform: Platform, tenant_id: uuid.UUID) -> None:
    policy_id, subscriber_id, child_id = _setup(platform, tenant_id, apply_audit_changes=True)
    numbers = _numbers(platform, tenant_id, policy_id)
    on_hmo_from_march = [*SUBSCRIBER_ON_HMO[:5], "DTP*348*D8*20260301"]
    data = audit_file("000000002", [on_hmo_from_march, CHILD_OTHER_DATES, NEW_SUBSCRIBER])
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, data, source="cli", links=_links())
    (summary,) = result.reconciliations
    assert (summary["applied"], summary["counts"]["PLAN_DIFFERS"], summary["counts"]["NOT_ENROLLED"]) == (True, 1, 1)
    # the child has no SSN: found as the one child of the policy with that name, the birth date corrected
    assert result.enrollment_failures == []
    subscriber, child = str(subscriber_id), str(child_id)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (found,) = service.reconciliations(uow, result.file_id)
        person = uow.session.get(Party, subscriber_id)
        assert person is not None
        child_person = uow.session.get(Party, child_id)
        assert child_person is not None
        facts = enrollment_public.coverage_facts(uow, policy_id, subscriber_id)
        new = uow.session.scalars(select(Policy).where(Policy.subscriber_external_id == "E200")).one()
        new_facts = enrollment_public.coverage_facts(uow, new.id)
    assert found["findings"] == [
        _finding(
            "PLAN_DIFFERS",
            "E100",
            "18",
            8,
            number=numbers[subscriber_id],
            party=subscriber,
            file=HMO,
            enrolled=PPO,
            applied="001",
        ),
        _finding(
            "COVERAGE_DATES_DIFFER",
            "E100",
            "18",
            8,
            number=numbers[subscriber_id],
            party=subscriber,
            file="2026-03-01..",
            enrolled="2026-02-01..",
        ),
        _finding("NAME_DIFFERS", "E100", "18", 8, number=numbers[subscriber_id], party=subscriber, applied="001"),
        _finding(
            "COVERAGE_DATES_DIFFER",
            "E100",
            "19",
            14,
            number=numbers[child_id],
            party=child,
            file="2026-01-15..",
            enrolled="2026-02-01..",
        ),
        _finding(
            "BIRTH_DATE_DIFFERS",
            "E100",
            "19",
            14,
            number=numbers[child_id],
            party=child,
            applied="001",
        ),
        _finding("NOT_ENROLLED", "E200", "18", 20, applied="021"),
    ]
    assert person.family_name == "TRAN"
    assert sorted((f.plan_code, str(f.valid_from), str(f.valid_to)) for f in facts) == [
        (HMO, "2026-03-01", "2026-12-31"),
        (PPO, "2026-02-01", "2026-02-28"),
    ]
    assert (new.status, [(f.relationship, f.plan_code, str(f.valid_from)) for f in new_facts]) == (
        "SUBMITTED",
        [("SELF", PPO, "2026-03-01")],
    )
    assert [(c.kind, c.set_control_number, c.segment_number) for c in result.created] == [
        ("policy", "0001", 8),
        ("party", "0001", 8),
        ("policy", "0001", 14),
        ("party", "0001", 14),
        ("policy", "0001", 20),
        ("party", "0001", 20),
    ]
    assert person.birth_date == date(1980, 2, 2)
    assert (child_person.given_name, child_person.birth_date) == ("KIM", date(2012, 4, 2))


def test_olly_edi_audit_shows_the_reconciliation(cli_env: Platform, tenant_id: uuid.UUID) -> None:  # noqa: F811
    platform = cli_env
    _setup(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, audit_file("000000002", [NEW_SUBSCRIBER]), source="cli", links=_links())
    runner = CliRunner()
    shown = runner.invoke(cli, ["edi", "audit", str(result.file_id)])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == (
        "set 0001, effective 2026-03-01, full file, reported only: 1 in file (1 audit), 2 enrolled, 0 matched"
    )
    assert "│ NOT_ENROLLED           │       1 │" in lines
    assert "│ NOT_IN_FILE            │       2 │" in lines
    assert sum("NOT_IN_FILE" in line and "E100" in line for line in lines) == 2
    assert sum("NOT_ENROLLED" in line and "E200" in line for line in lines) == 1
    assert "DOE" not in shown.output and "NGUYEN" not in shown.output
    assert "│ GENDER_DIFFERS         │       0 │" in lines
    # a reconciliation kept before genders were compared has no count for them: "-", not 0
    with platform.db.unit_of_work(tenant_id) as uow:
        row = uow.session.scalars(select(AuditReconciliation)).one()
        row.counts = {k: v for k, v in row.counts.items() if k != "GENDER_DIFFERS"}
    older = runner.invoke(cli, ["edi", "audit", str(result.file_id)])
    assert older.exit_code == 0, older.output
    assert "│ GENDER_DIFFERS         │       - │" in older.output.splitlines()
    unknown = runner.invoke(cli, ["edi", "audit", str(uuid.UUID(int=7))])
    assert (unknown.exit_code, "no reconciliation for this file" in unknown.output) == (1, True)
    bad = runner.invoke(cli, ["edi", "audit", "nope"])
    assert bad.exit_code == 2


def test_the_reconciliation_over_http_is_for_staff_only(platform: Platform, tenant_id: uuid.UUID) -> None:
    _setup(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, audit_file("000000002", [SUBSCRIBER_AS_ENROLLED]), source="cli", links=_links())
    url = f"/api/v1/edi/files/{result.file_id}/reconciliation"
    app = create_app(platform, run_bus=False)
    with TestClient(app) as client:
        staff = sign_in_as(app, tenant_id, Role.ENROLLMENT_SPECIALIST)
        shown = client.get(url, headers=staff.headers)
        assert shown.status_code == 200, shown.text
        (item,) = shown.json()["items"]
        assert (shown.json()["fileId"], item["counts"]["NOT_IN_FILE"], [f["kind"] for f in item["findings"]]) == (
            str(result.file_id),
            1,
            ["NOT_IN_FILE"],
        )
        read = [r for r in audit_rows(platform, subject=staff.subject) if r["action"] == "edi_file.reconciliation"]
        assert [(r["resource_id"], r["outcome"]) for r in read] == [(str(result.file_id), "allowed")]
        auditor = sign_in_as(app, tenant_id, Role.COMPLIANCE_AUDITOR)
        assert client.get(url, headers=auditor.headers).status_code == 200
        other = client.get(f"/api/v1/edi/files/{uuid.UUID(int=7)}/reconciliation", headers=staff.headers)
        assert (other.status_code, other.json()["detail"]) == (
            404,
            "no reconciliation for this file: it is unknown or held no 834 audit",
        )
        employer = sign_in_as(app, tenant_id, Role.EMPLOYER_ADMIN, group_account_id=ACCOUNT)
        assert client.get(url, headers=employer.headers).status_code == 404  # its own group's, but staff only
        denied = [(r["action"], r["outcome"]) for r in audit_rows(platform, subject=employer.subject)]
        assert ("enrollment.read", "denied") in denied
        office = sign_in_as(app, tenant_id, Role.PROVIDER, npi="1234567893")
        assert client.get(url, headers=office.headers).status_code == 403
        # the partner's setting, over the registry's API
        admin = sign_in_as(app, tenant_id, Role.ADMINISTRATOR)
        (acme,) = client.get("/api/v1/edi/partners", headers=admin.headers).json()["items"]
        assert acme["applyAuditChanges"] is False
        body = {
            k: acme[k]
            for k in ("code", "name", "kind", "interchangeQualifier", "interchangeId", "groupAccountId", "active")
        }
        changed = client.put(
            "/api/v1/edi/partners/ACME", json={**body, "applyAuditChanges": True}, headers=admin.headers
        )
        assert (changed.status_code, changed.json()["applyAuditChanges"]) == (200, True)


def test_a_gender_that_differs_is_reported_and_applied_when_the_partner_allows_it(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    policy_id, subscriber_id, child_id = _setup(platform, tenant_id)  # both enrolled with DMG03 F
    numbers = _numbers(platform, tenant_id, policy_id)
    subscriber_male = [*SUBSCRIBER_AS_ENROLLED[:3], "DMG*D8*19800202*M", *SUBSCRIBER_AS_ENROLLED[4:]]
    child_unknown = [*CHILD_OTHER_DATES[:3], "DMG*D8*20120401*U", f"HD*030**HLT*{PPO}*ECH", "DTP*348*D8*20260201"]
    data = [subscriber_male, child_unknown]

    def genders() -> list[str | None]:
        with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
            people = [uow.session.get(Party, p) for p in (subscriber_id, child_id)]
            return [p.gender if p is not None else "missing" for p in people]

    with platform.db.unit_of_work(tenant_id) as uow:
        reported = service.ingest(uow, audit_file("000000002", data), source="cli", links=_links())
    (summary,) = reported.reconciliations
    # the child's U states nothing: only the subscriber differs
    assert summary["counts"] == {
        "membersInFile": 2,
        "audited": 2,
        "enrolled": 2,
        "matched": 1,
        **NO_DISCREPANCY,
        "GENDER_DIFFERS": 1,
    }
    gender_finding = _finding(
        "GENDER_DIFFERS", "E100", "18", 8, number=numbers[subscriber_id], party=str(subscriber_id)
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.reconciliations(uow, reported.file_id)[0]["findings"] == [gender_finding]
    assert genders() == ["F", "F"]  # reported only

    with platform.db.unit_of_work(tenant_id) as uow:
        row = service.EdiRepository(uow).partner_by_code("ACME")
        assert row is not None
        row.apply_audit_changes = True
    with platform.db.unit_of_work(tenant_id) as uow:
        applied = service.ingest(uow, audit_file("000000003", data), source="cli", links=_links())
    assert (applied.enrollment_failures, applied.reconciliations[0]["applied"]) == ([], True)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.reconciliations(uow, applied.file_id)[0]["findings"] == [{**gender_finding, "applied": "001"}]
    assert genders() == ["M", "F"]
    # compared again, the file and Olly agree
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.ingest(uow, audit_file("000000004", data), source="cli", links=_links())
    assert again.reconciliations[0]["counts"]["matched"] == 2


def test_a_sponsor_echoing_ollys_own_834_finds_every_member_by_number_and_nothing_differs(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    policy_id, subscriber_id, child_id = _setup(platform, tenant_id)
    numbers = _numbers(platform, tenant_id, policy_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        sent = service.send_enrollment(uow, "ACME", date(2026, 3, 1), _links())
        text = service.file_content(uow, sent.id)[1].decode()
    # the sponsor sends back each INS loop of Olly's file as its audit, in its own envelope
    segments = [s.strip() for s in text.split("~") if s.strip()]
    members: list[list[str]] = []
    for segment in segments:
        if segment.startswith("INS*"):
            members.append([])
        if members and not segment.startswith(("SE*", "GE*", "IEA*")):
            members[-1].append(segment)
    assert [m[3] for m in members] == [f"REF*23*{numbers[subscriber_id]}", f"REF*23*{numbers[child_id]}"]
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, audit_file("000000003", members), source="cli", links=_links())
    assert (result.status, result.enrollment_failures) == ("ACCEPTED", [])
    (summary,) = result.reconciliations
    assert summary["counts"] == {
        "membersInFile": 2,
        "audited": 2,
        "enrolled": 2,
        "matched": 2,
        **NO_DISCREPANCY,
    }
