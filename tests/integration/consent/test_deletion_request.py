"""A deletion request end to end: verify identity, find every record in every domain, keep what the
law requires (pseudonymised), delete the rest, and report what was done and why."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from olly.consent.models import ConsentRecord
from olly.kernel.clock import FixedClock
from olly.platform.auth.models import Account, BreakGlassGrant
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory
from tests.support.identity import STRONG_PASSWORD, create_account, register_person

ADDRESS = "77 Quiet Street, Apt 4"


@dataclass
class Row:
    id: str
    party_id: uuid.UUID
    patient_name: str | None
    record_date: date


class DomainDouble:
    """Stands in for a domain that has not arrived yet (claims, enrollment, billing): its records
    live in memory, and it implements the personal-data protocol as a real domain would."""

    def __init__(self, domain: str, record_type: str, category: RecordCategory, rows: list[Row]) -> None:
        self.domain, self.record_type, self.category, self.rows = domain, record_type, category, rows

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        return [
            PersonalDataItem(self.domain, self.record_type, r.id, self.category, r.record_date, f"a {self.record_type}")
            for r in self.rows
            if r.party_id == subject.party_id
        ]

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        for row in self.rows:
            if row.id in {i.record_id for i in items}:
                row.party_id, row.patient_name = subject.pseudonym, None

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        doomed = {i.record_id for i in items}
        self.rows[:] = [r for r in self.rows if r.id not in doomed]


def test_deletion_request_end_to_end(client, control, world, platform, outbox, clock: FixedClock, tenant_id) -> None:  # type: ignore[no-untyped-def]
    party = register_person(platform.db, tenant_id, "Erin", "Ease", date(1990, 6, 1))
    account_id = create_account(
        control,
        tenant_id,
        NewAccount(
            AccountKind.MEMBER,
            "erase.me@example.org",
            password=STRONG_PASSWORD,
            party_id=party,
            display_name="Erin Ease",
        ),
    )
    claims = DomainDouble(
        "claims",
        "claim",
        RecordCategory.CLAIM,
        [
            Row("clm-2018", party, "Erin Ease", date(2018, 3, 2)),
            Row("clm-2025", party, "Erin Ease", date(2025, 11, 20)),
        ],
    )
    enrollment = DomainDouble(
        "enrollment", "policy_element", RecordCategory.ENROLLMENT, [Row("pe-1", party, "Erin Ease", date(2024, 1, 1))]
    )
    billing = DomainDouble("billing", "invoice", RecordCategory.BILLING, [Row("inv-7", party, None, date(2019, 12, 1))])
    for double in (claims, enrollment, billing):
        control.personal_data.register(double)
    stranger = Row("clm-other", uuid.uuid4(), "Someone Else", date(2025, 1, 1))
    claims.rows.append(stranger)

    login = client.post("/auth/login", json={"email": "erase.me@example.org", "password": STRONG_PASSWORD}).json()
    csrf = {"X-CSRF-Token": login["csrfToken"]}
    assert (
        client.put(
            f"/members/{party}/consents/communication", json={"channels": {"email": True}}, headers=csrf
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/members/{party}/consents/app-sharing",
            json={"appClientId": "pocket-health", "appName": "Pocket Health", "scopes": ["patient/*.read"]},
            headers=csrf,
        ).status_code
        == 201
    )
    assert (
        client.put(
            f"/members/{party}/consents/confidential-communication", json={"address": ADDRESS}, headers=csrf
        ).status_code
        == 200
    )
    examiner = world.persona("claims_examiner")
    with platform.db.unit_of_work(tenant_id) as uow:
        assert examiner.account_id is not None
        grant_id = control.identity.open_break_glass(
            uow, examiner.account_id, "Urgent: ER asked for member records", party, 20
        ).id

    # Identity is verified by signing in again shortly before asking.
    clock.advance(timedelta(minutes=6))
    stale = client.post("/me/deletion-requests", json={"confirm": True}, headers=csrf)
    assert (stale.status_code, stale.json()["code"]) == (401, "reauthentication_required")
    assert client.post("/auth/reauthenticate", json={"password": "wrong password"}, headers=csrf).status_code == 401
    assert client.post("/auth/reauthenticate", json={"password": STRONG_PASSWORD}, headers=csrf).status_code == 204
    filed = client.post("/me/deletion-requests", json={"confirm": True}, headers=csrf)
    assert filed.status_code == 201
    request = filed.json()
    assert (request["status"], request["verificationMethod"], request["requestedVia"]) == (
        "verified",
        "reauthenticated_password",
        "self_service",
    )
    assert client.post("/me/deletion-requests", json={"confirm": True}, headers=csrf).status_code == 409

    # Only an administrator carries it out; the member cannot.
    assert client.post(f"/deletion-requests/{request['id']}/process", headers=csrf).status_code == 403
    admin = world.persona("administrator")
    admin.token = world.token_for(admin.subject)
    done = client.post(f"/deletion-requests/{request['id']}/process", headers=admin.headers)
    assert done.status_code == 200
    report = done.json()["report"]
    assert done.json()["status"] == "completed"

    actions = {
        (i["domain"], i["recordType"], i["recordId"] if i["domain"] != "consent" else i["recordType"]): (
            i["action"],
            i["retainUntil"],
        )
        for i in report["items"]
    }
    assert actions == {
        ("billing", "invoice", "inv-7"): ("pseudonymised", "2026-12-01"),
        ("claims", "claim", "clm-2018"): ("deleted", "2024-03-02"),
        ("claims", "claim", "clm-2025"): ("pseudonymised", "2031-11-20"),
        ("consent", "app_sharing_consent", "app_sharing_consent"): ("pseudonymised", "2032-01-15"),
        ("consent", "communication_consent", "communication_consent"): ("deleted", None),
        ("consent", "confidential_communication", "confidential_communication"): ("deleted", None),
        ("enrollment", "policy_element", "pe-1"): ("pseudonymised", "2030-01-01"),
        ("identity", "account", str(account_id)): ("deleted", None),
        ("identity", "break_glass_grant", str(grant_id)): ("pseudonymised", "2032-01-15"),
    }
    assert report["summary"] == {"found": 9, "deleted": 4, "pseudonymised": 5}
    assert report["domainsSearched"] == [
        "billing",
        "claims",
        "claims_authorization",
        "consent",
        "enrollment",
        "identity",
        "notifications",
    ]
    why = {i["recordId"]: (i["reason"], i["legalBasis"]) for i in report["items"]}
    assert why["clm-2025"] == (
        "the law requires it to be kept for 6 years; identifying details removed",
        "ERISA §107 (29 U.S.C. 1027); state claim-record retention; minimum 6 years",
    )
    assert why["clm-2018"][0] == "its 6-year retention period ended"
    assert why[str(account_id)] == ("no legal duty to keep this record", None)
    text = json.dumps(done.json())
    assert "Erin Ease" not in text and ADDRESS not in text and "erase.me" not in text

    # What the domains now hold.
    pseudonym = next(r.party_id for r in claims.rows if r.id == "clm-2025")
    assert pseudonym != party
    assert [(r.id, r.party_id, r.patient_name) for r in claims.rows] == [
        ("clm-2025", pseudonym, None),
        ("clm-other", stranger.party_id, "Someone Else"),  # nobody else's data was touched
    ]
    assert [(r.id, r.party_id) for r in enrollment.rows + billing.rows] == [("pe-1", pseudonym), ("inv-7", pseudonym)]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        consents = list(uow.session.scalars(select(ConsentRecord)))
        kept = [(c.kind, c.party_id, c.app_name) for c in consents if c.party_id in (party, pseudonym)]
        assert kept == [("app_sharing", pseudonym, "Pocket Health")]
        assert uow.session.get(Account, account_id) is None
        grant = uow.session.get(BreakGlassGrant, grant_id)
        assert grant is not None and grant.party_id == pseudonym

    # The person's sessions ended with the account; the report stays readable to compliance.
    assert client.get("/me").status_code == 401
    auditor = world.persona("compliance_auditor")
    auditor.token = world.token_for(auditor.subject)
    assert client.get(f"/deletion-requests/{request['id']}", headers=auditor.headers).json()["report"] == report
    assert client.post(f"/deletion-requests/{request['id']}/process", headers=admin.headers).status_code == 422
    completed = [e for e in outbox.events if e.topic == "consent.deletion_request.completed"]
    assert [(e.payload["partyId"], e.payload["deleted"], e.payload["pseudonymised"]) for e in completed] == [
        (str(party), 4, 5)
    ]
    assert "Pocket Health" not in json.dumps([e.payload for e in outbox.events])


def test_staff_file_a_request_after_checking_documents(client, world) -> None:  # type: ignore[no-untyped-def]
    admin = world.persona("administrator")
    party = world.parties["B"]
    body = {"partyId": str(party), "verificationMethod": "documents_checked", "verificationReference": "case 4471"}
    filed = client.post("/deletion-requests", json=body, headers=admin.headers)
    assert filed.status_code == 201
    assert filed.json()["requestedVia"] == "staff"
    # Member B sees their own request; member A does not, even knowing its id.
    assert [r["id"] for r in client.get("/me/deletion-requests", headers=world.persona("member_b").headers).json()] == [
        filed.json()["id"]
    ]
    assert (
        client.get(f"/deletion-requests/{filed.json()['id']}", headers=world.persona("member_a").headers).status_code
        == 404
    )
    rejected = client.post(
        f"/deletion-requests/{filed.json()['id']}/reject", json={"reason": "legal hold"}, headers=admin.headers
    )
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
