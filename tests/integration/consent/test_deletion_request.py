"""A deletion request end to end: verify identity, find every record in every domain, keep what the
law requires (pseudonymised), delete the rest, and report what was done and why."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from olly.billing import service as billing_service
from olly.billing.repository import BillingRepository
from olly.claims import service as claims_service
from olly.claims.repository import ClaimsRepository
from olly.claims.schemas import ClaimCreate
from olly.consent.models import ConsentRecord
from olly.eligibility import service as eligibility_service
from olly.eligibility.repository import EligibilityRepository
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment_service
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.kernel.periods import DatePeriod, end_of_month
from olly.platform.auth.models import Account, BreakGlassGrant
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.db import Base
from olly.platform.runtime import Platform
from olly.policy_admin import public as policy_admin_public
from tests.support.identity import (
    COVERAGE_START,
    NPI_2,
    STRONG_PASSWORD,
    WORLD_PLAN,
    World,
    audit_rows,
    create_account,
    register_person,
)

ADDRESS = "77 Quiet Street, Apt 4"


def _erins_records(world: World, party: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Erin on group G2's plan from 1 January 2026 (copied to eligibility), on this month's list bill,
    with a claim of this January and one of 2018 (both denied: claims has no copy of her cover)."""
    platform, tenant_id = world.platform, world.tenant_id
    with platform.db.unit_of_work(tenant_id) as uow:
        policy_id = enrollment_service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=world.groups["G2"],
                subscriber_party_id=party,
                plan_code=WORLD_PLAN,
                effective_date=COVERAGE_START,
            ),
            PlansCatalog(),
        ).id
    with platform.db.unit_of_work(tenant_id) as uow:
        eligibility_service.sync_policy(uow, policy_id)
        today = uow.clock.today()
        billing_service.run_billing(uow, DatePeriod(today.replace(day=1), end_of_month(today)))
    claim_ids = []
    with platform.db.unit_of_work(tenant_id) as uow:
        for day in ("2026-01-10", "2018-03-02"):
            body = ClaimCreate.model_validate(
                {
                    "claimType": "PROFESSIONAL",
                    "memberId": str(party),
                    "billingNpi": NPI_2,
                    "diagnoses": ["J06.9"],
                    "lines": [{"procedureCode": "99213", "charge": "150.00", "serviceDateFrom": day}],
                }
            )
            claim_id = claims_service.submit(uow, body, source="API").claim_id
            claims_service.adjudicate_claim(uow, claim_id)
            claims_service.store_eob(uow, claim_id)
            claim_ids.append(claim_id)
    return policy_id, claim_ids[0], claim_ids[1]


#: Where a person's id stays after their request, by design: the request itself (proof it was
#: honoured), the audit trail (tamper-evident, kept six years) and the event backbone's own copies
#: of events already published (dropped with the topic's retention).
KEEPS_THE_ID = frozenset({"consent.deletion_requests", "platform.audit_events", "platform.bus_outbox"})


def _tables_naming(platform: Platform, party: uuid.UUID, *, everywhere: bool = False) -> set[str]:
    """Every table (other than ``KEEPS_THE_ID``, unless ``everywhere``) with a value that names
    ``party``, read raw (a UUID as text, with or without its dashes)."""
    wanted = (str(party), party.hex)
    found = set()
    with platform.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.fullname in KEEPS_THE_ID and not everywhere:
                continue
            name = table.name if platform.db.is_sqlite else f'"{table.schema}"."{table.name}"'
            for row in connection.exec_driver_sql(f"SELECT * FROM {name}"):
                if any(isinstance(v, (str, uuid.UUID)) and any(w in str(v) for w in wanted) for v in row):
                    found.add(table.fullname)
                    break
    return found


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
    policy_id, recent_claim, old_claim = _erins_records(world, party)
    assert _tables_naming(platform, party) >= {
        "billing.invoice_lines",
        "claims.claims",
        "eligibility.coverage_records",
        "enrollment.policies",
        "policy_admin.parties",
    }
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (list_bill,) = BillingRepository(uow).invoices([world.groups["G2"]])
        (erins_line,) = [line.id for line in BillingRepository(uow).lines(list_bill.id) if line.member_id == party]
        (erins_cover,) = EnrollmentRepository(uow).elements_of_party(party)
        (erins_copy,) = EligibilityRepository(uow).records_of(party)

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
    # Today is 15 January 2026. Kept, pseudonymised: the January claim six years from its date of
    # service; her cover six years from its last day (her group's plan year ends 31 December 2026);
    # her line on G2's list bill seven years from the invoice, still owed (dated today). Deleted: the
    # 2018 claim (its six years ended on 2 March 2024), eligibility's copy of her cover, her
    # particulars (name, birth date, address), her account and her communication choices.
    assert actions == {
        ("billing", "invoice_line", str(erins_line)): ("pseudonymised", "2033-01-15"),
        ("claims", "claim", str(recent_claim)): ("pseudonymised", "2032-01-10"),
        ("claims", "claim", str(old_claim)): ("deleted", "2024-03-02"),
        ("consent", "app_sharing_consent", "app_sharing_consent"): ("pseudonymised", "2032-01-15"),
        ("consent", "communication_consent", "communication_consent"): ("deleted", None),
        ("consent", "confidential_communication", "confidential_communication"): ("deleted", None),
        ("eligibility", "coverage_record", str(erins_copy.id)): ("deleted", None),
        ("enrollment", "policy", str(policy_id)): ("pseudonymised", "2032-12-31"),
        ("enrollment", "policy_member", str(erins_cover.id)): ("pseudonymised", "2032-12-31"),
        ("identity", "account", str(account_id)): ("deleted", None),
        ("identity", "break_glass_grant", str(grant_id)): ("pseudonymised", "2032-01-15"),
        ("policy_admin", "person", str(party)): ("deleted", None),
    }
    assert report["summary"] == {"found": 12, "deleted": 6, "pseudonymised": 6}
    assert report["domainsSearched"] == [
        "billing",
        "claims",
        "claims_authorization",
        "consent",
        "eligibility",
        "enrollment",
        "identity",
        "notifications",
        "policy_admin",
    ]
    why = {i["recordId"]: (i["reason"], i["legalBasis"]) for i in report["items"]}
    assert why[str(recent_claim)] == (
        "the law requires it to be kept for 6 years; identifying details removed",
        "ERISA §107 (29 U.S.C. 1027); state claim-record retention; minimum 6 years",
    )
    assert why[str(old_claim)][0] == "its 6-year retention period ended"
    assert why[str(account_id)] == ("no legal duty to keep this record", None)
    text = json.dumps(done.json())
    assert "Erin Ease" not in text and ADDRESS not in text and "erase.me" not in text

    # What the domains now hold: nothing names her outside the request, the audit trail and the
    # events already published; what the law keeps is under one pseudonym in every domain.
    assert _tables_naming(platform, party) == set()
    assert "consent.deletion_requests" in _tables_naming(platform, party, everywhere=True)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        grant = uow.session.get(BreakGlassGrant, grant_id)
        assert grant is not None
        pseudonym = grant.party_id
        assert pseudonym != party
        claims_repo = ClaimsRepository(uow)
        kept_claim = claims_repo.claim(recent_claim)
        assert kept_claim is not None and kept_claim.member_id == pseudonym
        assert claims_repo.claim(old_claim) is None
        policy = enrollment_public.policy(uow, policy_id)
        assert policy is not None and policy.subscriber_party_id == pseudonym
        lines = {line.id: line.member_id for line in BillingRepository(uow).lines(list_bill.id)}
        assert lines[erins_line] == pseudonym
        assert sorted(map(str, lines.values())) == sorted([str(world.parties["B"]), str(pseudonym)])
        assert policy_admin_public.person(uow, party) is None
        stand_in = policy_admin_public.person(uow, pseudonym)
        assert stand_in is not None and stand_in.birth_date is None
        assert EligibilityRepository(uow).records_of(party) == []
        consents = list(uow.session.scalars(select(ConsentRecord)))
        kept = [(c.kind, c.party_id, c.app_name) for c in consents if c.party_id in (party, pseudonym)]
        assert kept == [("app_sharing", pseudonym, "Pocket Health")]
        assert uow.session.get(Account, account_id) is None
        # Nobody else's records were touched: B, on the same list bill and group, keeps theirs.
        b_policy = enrollment_public.policy(uow, world.policies["B"])
        assert b_policy is not None and b_policy.subscriber_party_id == world.parties["B"]
    assert _tables_naming(platform, world.parties["B"]) >= {"billing.invoice_lines", "enrollment.policies"}

    # The person's sessions ended with the account; the report stays readable to compliance.
    assert client.get("/me").status_code == 401
    auditor = world.persona("compliance_auditor")
    auditor.token = world.token_for(auditor.subject)
    assert client.get(f"/deletion-requests/{request['id']}", headers=auditor.headers).json()["report"] == report
    assert client.post(f"/deletion-requests/{request['id']}/process", headers=admin.headers).status_code == 422
    completed = [e for e in outbox.events if e.topic == "consent.deletion_request.completed"]
    assert [(e.payload["partyId"], e.payload["deleted"], e.payload["pseudonymised"]) for e in completed] == [
        (str(party), 6, 6)
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


def test_only_staff_file_a_request_on_someone_s_behalf(client, world, platform) -> None:  # type: ignore[no-untyped-def]
    """A member's ``deletion_request.write`` is for their own request (``/me``, after re-authenticating):
    the staff route would let them file one, "verified" by documents, for anyone."""
    body = {"partyId": str(world.parties["B"]), "verificationMethod": "documents_checked"}
    for name in ("member_a", "member_b"):
        refused = client.post(
            "/deletion-requests", json=body, headers={**world.persona(name).headers, "X-Request-ID": f"del-{name}"}
        )
        assert refused.status_code == 404
        assert str(world.parties["B"]) not in refused.text
        [row] = audit_rows(platform, request_id=f"del-{name}", outcome="denied")
        assert (json.loads(row["detail"])["reason"], row["resource_id"]) == ("staff_only", str(world.parties["B"]))
    assert client.get("/me/deletion-requests", headers=world.persona("member_b").headers).json() == []
    assert client.get("/deletion-requests", headers=world.persona("administrator").headers).json() == []
