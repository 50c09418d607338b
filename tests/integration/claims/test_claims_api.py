"""The claims API over HTTP: intake (202), idempotency (409), status and result, who sees what,
the review queue with an examiner's decision (audited), and the EOB PDF."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from olly.app import create_app
from olly.claims import handlers
from olly.claims import models as m
from olly.claims.repository import ClaimsRepository
from olly.platform.auth.roles import Role
from olly.platform.auth.service import AccountKind, NewAccount
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, NPI_OUT, ClaimsWorld, claim_body, drain, line, seed
from tests.support.identity import Caller, audit_rows, control_of, create_account, sign_in_as


@pytest.fixture
def world(platform: Platform, tenant_id: uuid.UUID) -> ClaimsWorld:
    return seed(platform, tenant_id)


@pytest.fixture
def client(platform: Platform, world: ClaimsWorld) -> Iterator[TestClient]:
    with TestClient(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def examiner_of_q1(client: TestClient, tenant_id: uuid.UUID) -> Caller:
    control = control_of(client.app)  # type: ignore[arg-type]
    new = NewAccount(
        AccountKind.STAFF, f"examiner.{uuid.uuid4().hex[:8]}@plan.example.org",
        roles=frozenset({Role.CLAIMS_EXAMINER}), queues=frozenset({"Q1"}),
    )  # fmt: skip
    return Caller(control, f"account:{create_account(control, tenant_id, new)}", tenant_id)


def test_intake_status_and_eob(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    other_provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_OUT)  # type: ignore[arg-type]
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    ben = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ben)  # type: ignore[arg-type]
    body = claim_body(world.ana, line("99213", "150.00"))
    headers = {**provider.headers, "Idempotency-Key": "visit-1"}
    first = client.post("/api/v1/claims", json=body, headers=headers)
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["status"] == "ACCEPTED" and set(answer) == {"status", "transactionId", "claimId"}
    again = client.post("/api/v1/claims", json=body, headers=headers)
    assert (again.status_code, again.json()) == (202, answer)
    changed = client.post("/api/v1/claims", json=claim_body(world.ana, line("99213", "160.00")), headers=headers)
    assert changed.status_code == 409
    assert changed.headers["content-type"].startswith("application/problem+json")
    assert changed.json()["code"] == "idempotency_key_reused"
    # a provider may not submit under another provider's NPI
    foreign = client.post(
        "/api/v1/claims", json=claim_body(world.ana, line("99213", "1.00")), headers=other_provider.headers
    )
    assert foreign.status_code in (403, 404)

    claim_id = answer["claimId"]
    assert client.get(f"/api/v1/claims/{claim_id}", headers=provider.headers).json()["status"] == "RECEIVED"
    drain(platform)
    seen = client.get(f"/api/v1/claims/{claim_id}", headers=ana.headers)
    assert seen.status_code == 200
    result = seen.json()["result"]
    assert (seen.json()["status"], result["billed"], result["allowed"], result["paid"]) == (
        "APPROVED", "150.00", "100.00", "75.00",
    )  # fmt: skip
    assert [a["code"] for a in result["lines"][0]["adjustments"]] == ["CO-45", "PR-3"]
    assert result["lines"][0]["trace"][0]["step"] == "eligibility"
    assert client.get(f"/api/v1/claims/{claim_id}", headers=ben.headers).status_code == 404
    assert client.get(f"/api/v1/claims/{claim_id}", headers=other_provider.headers).status_code == 404

    pdf = client.get(f"/api/v1/claims/{claim_id}/eob.pdf", headers=ana.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    assert b"Plan paid: USD 75.00" in pdf.content and b"You owe: USD 25.00" in pdf.content
    assert client.get(f"/api/v1/claims/{claim_id}/eob.pdf", headers=ben.headers).status_code == 404


def test_review_queue_and_decision(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    examiner = examiner_of_q1(client, tenant_id)
    # 29881 needs prior authorisation and the PPO pends when none is on file.
    posted = client.post(
        "/api/v1/claims", json=claim_body(world.ana, line("29881", "1800.00")), headers=provider.headers
    )
    claim_id = posted.json()["claimId"]
    drain(platform)
    queue = client.get("/api/v1/claims/review", params={"pendReason": "PRIOR_AUTH_REQUIRED"}, headers=examiner.headers)
    assert queue.status_code == 200
    assert [item["claimId"] for item in queue.json()["items"]] == [claim_id]
    detail = client.get(f"/api/v1/claims/{claim_id}", headers=examiner.headers).json()
    assert detail["status"] == "PENDED" and detail["result"]["lines"][0]["status"] == "PENDED"
    decided = client.post(
        f"/api/v1/claims/{claim_id}/lines/1/decision",
        json={"decision": "APPROVE", "reason": "15", "note": "authorisation confirmed by phone"},
        headers=examiner.headers,
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    # allowed min(1,800.00, 1,500.00) = 1,500.00; deductible 1,000.00; 20% of 500.00 = 100.00; paid 400.00
    assert (body["status"], body["result"]["allowed"], body["result"]["paid"]) == ("APPROVED", "1500.00", "400.00")
    assert [(a["code"], a["amount"]) for a in body["result"]["lines"][0]["adjustments"]] == [
        ("CO-45", "300.00"), ("PR-1", "1000.00"), ("PR-2", "100.00"),
    ]  # fmt: skip
    records = audit_rows(platform, action="claim.line_decision", resource_id=claim_id)
    assert len(records) == 1
    again = client.post(
        f"/api/v1/claims/{claim_id}/lines/1/decision",
        json={"decision": "DENY", "reason": "50", "note": "late change"},
        headers=examiner.headers,
    )
    assert again.status_code == 422


PDF = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def reimbursement(member: uuid.UUID, charge: str = "150.00", day: str = "2026-01-10", **extra: Any) -> dict[str, Any]:
    """A member's reimbursement claim of an office visit at the in-network clinic (the form's ``claim`` part)."""
    return {
        "memberId": str(member),
        "billingNpi": NPI_IN,
        "careSetting": "OPD",
        "diagnoses": ["J06.9"],
        "lines": [{"procedureCode": "99213", "charge": charge, "serviceDateFrom": day}],
        **extra,
    }


def test_member_reimbursement_pends_for_documents(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    ben = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ben)  # type: ignore[arg-type]
    claim = json.dumps(reimbursement(world.ana, placeOfService="11"))
    files = [("bills", ("bill.pdf", PDF, "application/pdf")), ("prescriptions", ("rx.jpg", PNG, "image/jpeg"))]
    posted = client.post("/api/v1/claims/reimbursements", data={"claim": claim}, files=files, headers=ana.headers)
    assert posted.status_code == 202, posted.text
    claim_id = posted.json()["claimId"]
    drain(platform)
    seen = client.get(f"/api/v1/claims/{claim_id}", headers=ana.headers).json()
    assert (seen["status"], seen["submitter"], seen["pendReasons"]) == (
        "PENDED", "MEMBER_REIMBURSEMENT", ["DOCUMENTS_TO_REVIEW"],
    )  # fmt: skip
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        stored = {(d.kind, d.content_type) for d in ClaimsRepository(uow).documents(uuid.UUID(claim_id))}
    # the PNG sent as "image/jpeg" is recorded as what its bytes are
    assert stored == {("RAW_PAYLOAD", "application/json"), ("BILL", "application/pdf"), ("PRESCRIPTION", "image/png")}
    # a text file named .pdf is refused, and nobody claims for another adult
    fake = [("bills", ("bill.pdf", b"just text", "application/pdf"))]
    refused = client.post("/api/v1/claims/reimbursements", data={"claim": claim}, files=fake, headers=ana.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "unsupported_type"
    other = client.post("/api/v1/claims/reimbursements", data={"claim": claim}, files=files, headers=ben.headers)
    assert other.status_code == 403


def test_bad_claims_are_refused_with_the_field_at_fault(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    pointer = claim_body(world.ana, line("99213", "150.00", diagnosisPointers=[2]))
    future = claim_body(world.ana, line("99213", "150.00", "2026-02-01"))
    money = claim_body(world.ana, line("99213", "150.001"))
    replace = claim_body(world.ana, line("99213", "150.00"), frequency="7", originalClaimId=str(uuid.uuid4()))
    answers = [
        client.post("/api/v1/claims", json=body, headers=provider.headers) for body in (pointer, future, money, replace)
    ]
    assert [a.status_code for a in answers] == [422, 422, 422, 422]
    assert all(a.headers["content-type"].startswith("application/problem+json") for a in answers)
    assert answers[1].json()["errors"][0]["field"] == "body.lines.0.serviceDateFrom"
    assert answers[3].json()["errors"][0]["field"] == "body.originalClaimId"
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.Claim)) == 0


def test_a_claim_in_another_currency_than_the_plans_is_refused_at_the_door(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The engine cannot adjudicate it (the message would be dead-lettered and the claim stay
    RECEIVED for ever), so intake refuses it with the field at fault, alone or in a batch."""
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    rupees = claim_body(world.ana, line("99213", "150.00"), currency="INR")
    alone = client.post("/api/v1/claims", json=rupees, headers={**provider.headers, "Idempotency-Key": "inr-1"})
    assert alone.status_code == 422, alone.text
    assert [(e["field"], e["code"]) for e in alone.json()["errors"]] == [("body.currency", "currency_mismatch")]
    batch = {"claims": [claim_body(world.ana, line("99213", "150.00")), rupees]}
    refused = client.post("/api/v1/claims/batch", json=batch, headers=provider.headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["body.claims.1.currency"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.Claim)) == 0
        assert uow.session.scalar(select(func.count()).select_from(m.IdempotencyKey)) == 0
    # the same key with the plan's currency is a first use
    dollars = claim_body(world.ana, line("99213", "150.00"))
    assert (
        client.post(
            "/api/v1/claims", json=dollars, headers={**provider.headers, "Idempotency-Key": "inr-1"}
        ).status_code
        == 202
    )


def test_a_reimbursements_errors_name_the_field_inside_its_claim_part(
    client: TestClient, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The claim is the multipart body's ``claim`` part: intake's errors, and JSON that does not
    parse, name fields under ``body.claim``."""
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    files = [("bills", ("bill.pdf", PDF, "application/pdf"))]
    form = reimbursement(world.ana, day="2026-02-01")
    future = client.post(
        "/api/v1/claims/reimbursements", data={"claim": json.dumps(form)}, files=files, headers=ana.headers
    )
    assert future.status_code == 422, future.text
    assert [e["field"] for e in future.json()["errors"]] == ["body.claim.lines.0.serviceDateFrom"]
    broken = client.post("/api/v1/claims/reimbursements", data={"claim": "{"}, files=files, headers=ana.headers)
    assert broken.status_code == 422
    assert [e["field"] for e in broken.json()["errors"]] == ["body.claim"]


def test_only_an_examiner_decides_a_pended_line(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The claim's member and its provider may write it (submit, file) but never decide its lines."""
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    posted = client.post(
        "/api/v1/claims", json=claim_body(world.ana, line("29881", "1800.00")), headers=provider.headers
    )
    claim_id = posted.json()["claimId"]
    drain(platform)
    approve = {"decision": "APPROVE", "reason": "15", "note": "looks fine to me"}
    for caller in (ana, provider):
        refused = client.post(f"/api/v1/claims/{claim_id}/lines/1/decision", json=approve, headers=caller.headers)
        assert refused.status_code == 403, refused.text
    assert client.get(f"/api/v1/claims/{claim_id}", headers=ana.headers).json()["status"] == "PENDED"
    assert audit_rows(platform, action="claim.line_decision", resource_id=claim_id) == []


def test_the_review_queue_pages_through_the_callers_claims_only(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """A page of the queue is a page of the claims the caller may see: another member's older pended
    claim does not take the place of the caller's own."""
    provider = sign_in_as(client.app, tenant_id, Role.PROVIDER, npi=NPI_IN)  # type: ignore[arg-type]
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    posted = [
        client.post("/api/v1/claims", json=claim_body(who, line("29881", "1800.00")), headers=provider.headers)
        for who in (world.ben, world.ana)
    ]
    drain(platform)
    page = client.get("/api/v1/claims/review", params={"limit": 1}, headers=ana.headers)
    assert page.status_code == 200
    assert [item["claimId"] for item in page.json()["items"]] == [posted[1].json()["claimId"]]
    assert client.get("/api/v1/claims/review", params={"offset": 1}, headers=ana.headers).json()["items"] == []


def test_a_reimbursement_states_no_currency_and_is_in_its_plans(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    """The portal's form never states a currency: a member on the rupee floater claims in INR (it
    used to be USD and refused as not the plan's), one on the PPO in USD."""
    asha = uuid.uuid4()
    with platform.db.unit_of_work(tenant_id) as uow:
        floater = uuid.uuid4()
        handlers.sync_schedule(uow, "OLLY-FLOATER-5L", floater, date(2026, 1, 1))
        uow.session.add(
            m.CoverageView(
                member_id=asha,
                policy_id=uuid.uuid4(),
                plan_id=floater,
                plan_code="OLLY-FLOATER-5L",
                plan_type="SUM_INSURED",
                periods=[["2026-01-01", "2026-12-31"]],
                synced_at=uow.clock.now(),
            )
        )
    files = [("bills", ("bill.pdf", PDF, "application/pdf"))]
    currencies = []
    for member in (asha, world.ana):
        caller = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=member)  # type: ignore[arg-type]
        claim = json.dumps(reimbursement(member, charge="1500.00"))
        posted = client.post(
            "/api/v1/claims/reimbursements", data={"claim": claim}, files=files, headers=caller.headers
        )
        assert posted.status_code == 202, posted.text
        seen = client.get(f"/api/v1/claims/{posted.json()['claimId']}", headers=caller.headers).json()
        currencies.append(seen["currency"])
    assert currencies == ["INR", "USD"]


def test_a_reimbursements_idempotency_key_covers_its_files(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, world: ClaimsWorld
) -> None:
    ana = sign_in_as(client.app, tenant_id, Role.MEMBER, party_id=world.ana)  # type: ignore[arg-type]
    claim = json.dumps(reimbursement(world.ana))
    headers = {**ana.headers, "Idempotency-Key": "bill-of-10-january"}

    def send(*files: tuple[str, tuple[str, bytes, str]]) -> Any:
        return client.post("/api/v1/claims/reimbursements", data={"claim": claim}, files=list(files), headers=headers)

    bill, scan = ("bills", ("bill.pdf", PDF, "application/pdf")), ("bills", ("bill.png", PNG, "image/png"))
    first = send(bill)
    assert first.status_code == 202, first.text
    again = send(bill)
    assert (again.status_code, again.json()["claimId"]) == (202, first.json()["claimId"])
    other = send(scan)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert send(bill, scan).status_code == 409
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.Claim)) == 1
