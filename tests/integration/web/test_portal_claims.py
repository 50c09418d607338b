"""The claims pages over HTTP on both engines: a member's claim list and detail (every amount on the
line, the plain-language reasons, the EOB link), a reimbursement with its bill, and an examiner
approving a pended line from the review page (through the claims review service, audited)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.claims import public as claims_public
from olly.claims import service as claims_service
from olly.claims.rules import Submitter
from olly.platform.auth import totp
from olly.platform.auth.roles import AccountKind, Role
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, ClaimsWorld, claim_body, drain, line, seed
from tests.support.identity import STRONG_PASSWORD, audit_rows, control_of, create_account, https_client

PDF = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


@pytest.fixture
def world(platform: Platform) -> ClaimsWorld:
    return seed(platform, platform.settings.default_tenant_id)


@pytest.fixture
def client(platform: Platform, world: ClaimsWorld) -> Iterator[TestClient]:
    with https_client(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _cells(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _definitions(html: str, testid: str) -> dict[str, str]:
    block = html.split(f'data-testid="{testid}">', 1)[1].split("</dl>", 1)[0]
    return {
        unescape(re.sub(r"<[^>]+>", "", dt).strip()): unescape(re.sub(r"<[^>]+>", "", dd).strip())
        for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", block, re.S)
    }


def _submit(platform: Platform, member: uuid.UUID, code: str, charge: str) -> str:
    with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        data = claims_public.ClaimCreate.model_validate(claim_body(member, line(code, charge)))
        claim_id = str(claims_public.submit_claim(uow, data, source="API").claim_id)
    drain(platform)
    return claim_id


def _member(client: TestClient, platform: Platform, party: uuid.UUID) -> None:
    email = f"member.{uuid.uuid4().hex[:8]}@example.org"
    new = NewAccount(AccountKind.MEMBER, email, password=STRONG_PASSWORD, party_id=party)
    create_account(control_of(client.app), platform.settings.default_tenant_id, new)  # type: ignore[arg-type]
    signed_in = client.post("/signin", data={"email": email, "password": STRONG_PASSWORD}, follow_redirects=False)
    assert signed_in.headers["location"] == "/"


def _examiner(client: TestClient, platform: Platform, role: Role = Role.CLAIMS_EXAMINER) -> str:
    email = f"{role.value}@plan.example.org"
    new = NewAccount(
        AccountKind.STAFF, email, password=STRONG_PASSWORD, roles=frozenset({role}), queues=frozenset({"Q1"}),
    )  # fmt: skip
    account = create_account(control_of(client.app), platform.settings.default_tenant_id, new)  # type: ignore[arg-type]
    client.post("/signin", data={"email": email, "password": STRONG_PASSWORD})
    setup = client.get("/signin/mfa/setup")
    started = client.post("/signin/mfa/setup", data={"csrf_token": _csrf(setup.text)})
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', started.text)
    assert secret is not None
    code = totp.code_at(secret.group(1), platform.clock.now())
    confirmed = client.post("/signin/mfa/setup/confirm", data={"csrf_token": _csrf(started.text), "code": code})
    assert confirmed.status_code == 200
    return f"account:{account}"


def test_a_member_reads_a_claim_line_by_line_with_its_eob(
    client: TestClient, platform: Platform, world: ClaimsWorld
) -> None:
    claim_id = _submit(platform, world.ana, "99213", "150.00")
    _submit(platform, world.ben, "99213", "90.00")  # Ben is an adult: Ana does not see his claims
    _member(client, platform, world.ana)
    listing = client.get("/claims")
    assert listing.status_code == 200
    assert re.findall(r'href="/claims/([0-9a-f-]{36})"', listing.text) == [claim_id]
    detail = client.get(f"/claims/{claim_id}")
    assert detail.status_code == 200
    assert _definitions(detail.text, "claim-totals") == {
        "Billed": "150.00 USD", "Allowed": "100.00 USD", "Plan paid": "75.00 USD", "You owe": "25.00 USD",
    }  # fmt: skip
    # the contract allows 100.00 of 150.00 (CO-45 50.00); the office-visit copay is 25.00 (PR-3); the plan pays 75.00
    assert _cells(detail.text) == [["1", "approved", "150.00", "100.00", "75.00", "25.00", "CO-45 50.00, PR-3 25.00"]]
    reasons = _definitions(detail.text, "claim-reasons")
    assert reasons["PR-3"] == "Your copay for this visit."
    assert reasons["CO-45"].startswith("The provider charged more than the plan's agreed price")
    eob_link = f'href="/api/v1/claims/{claim_id}/eob.pdf"'
    assert eob_link in detail.text
    pdf = client.get(f"/api/v1/claims/{claim_id}/eob.pdf")
    assert pdf.status_code == 200 and b"You owe: USD 25.00" in pdf.content


def test_a_member_sends_a_reimbursement_with_a_bill(client: TestClient, platform: Platform, world: ClaimsWorld) -> None:
    _member(client, platform, world.ana)
    form = client.get("/claims/reimbursement")
    assert form.status_code == 200
    fields = {
        "csrf_token": _csrf(form.text),
        "member_id": str(world.ana),
        "care_setting": "OPD",
        "place_of_service": "11",
        "billing_npi": NPI_IN,
        "service_date": "2026-01-10",
        "procedure_code": "99213",
        "diagnosis": "j06.9",
        "charge": "150.00",
    }
    refused = client.post(
        "/claims/reimbursement", data=fields, files=[("bills", ("bill.pdf", b"just text", "application/pdf"))]
    )
    assert refused.status_code == 422
    assert "Bills: is not a PDF, JPEG or PNG file" in refused.text
    sent = client.post("/claims/reimbursement", data=fields, files=[("bills", ("bill.pdf", PDF, "application/pdf"))])
    assert sent.status_code == 202, sent.text
    claim_id = re.search(r'href="/claims/([0-9a-f-]{36})"', sent.text)
    assert claim_id is not None
    assert "Your claim and 1 document were received." in sent.text
    drain(platform)
    detail = client.get(f"/claims/{claim_id.group(1)}")
    assert "This claim is being reviewed by the plan." in detail.text
    no_csrf = client.post(
        "/claims/reimbursement", data={**fields, "csrf_token": ""}, files=[("bills", ("b.pdf", PDF, "application/pdf"))]
    )
    assert no_csrf.status_code == 403


def test_an_examiner_releases_a_reimbursement_pended_for_its_documents(
    client: TestClient, platform: Platform, world: ClaimsWorld
) -> None:
    with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        data = claims_public.ClaimCreate.model_validate(claim_body(world.ana, line("99213", "150.00")))
        claim_id = str(
            claims_service.submit(
                uow,
                data,
                source="PORTAL",
                submitter=Submitter.MEMBER_REIMBURSEMENT,
                documents=[("BILL", "application/pdf", PDF)],
            ).claim_id
        )
    drain(platform)
    _examiner(client, platform)
    review = client.get(f"/ops/claims/{claim_id}")
    assert _definitions(review.text, "review-claim")["Pend reasons"] == "documents to review"
    # The line itself priced cleanly; the claim-level pend is released by deciding every line.
    assert "Line 1: approved" in review.text
    assert f'action="/ops/claims/{claim_id}/lines/1/decision"' in review.text
    decided = client.post(
        f"/ops/claims/{claim_id}/lines/1/decision",
        data={"csrf_token": _csrf(review.text), "decision": "APPROVE", "reason": "15", "note": "bill checked"},
    )
    assert decided.status_code == 200
    assert _definitions(decided.text, "review-claim")["Status"] == "approved"
    assert "Record decision" not in decided.text


def test_an_examiner_approves_a_pended_line_from_the_review_page(
    client: TestClient, platform: Platform, world: ClaimsWorld
) -> None:
    claim_id = _submit(platform, world.ana, "29881", "1800.00")  # needs prior authorisation: pends
    subject = _examiner(client, platform)
    queue = client.get("/ops/claims")
    assert queue.status_code == 200
    assert _cells(queue.text) == [
        [f"{claim_id[:8]} (claim {claim_id})", "2026-01-15", NPI_IN, "1,800.00", "prior auth required", "Q1"]
    ]
    review = client.get(f"/ops/claims/{claim_id}")
    assert review.status_code == 200
    trace = _cells(review.text.split('data-testid="trace-1"', 1)[1])
    assert [step[:2] for step in trace[:6]] == [
        ["eligibility", "passed"], ["provider", "passed"], ["codes", "passed"], ["edits", "passed"],
        ["prior authorization", "pended"], ["pricing", "applied"],
    ]  # fmt: skip
    assert trace[5][2] == "Allowed amount is the lower of billed and the rate."
    bad = client.post(
        f"/ops/claims/{claim_id}/lines/1/decision",
        data={"csrf_token": _csrf(review.text), "decision": "ADJUST", "reason": "45", "note": "no amount"},
    )
    assert bad.status_code == 422
    assert "paidAmount goes with (and only with) ADJUST" in bad.text
    decided = client.post(
        f"/ops/claims/{claim_id}/lines/1/decision",
        data={
            "csrf_token": _csrf(review.text),
            "decision": "APPROVE",
            "reason": "15",
            "note": "authorisation confirmed",
        },
    )
    assert decided.status_code == 200  # followed the see-other back to the claim
    assert 'data-testid="decision-saved">Decision on line 1 recorded.' in decided.text
    # allowed min(1,800.00, 1,500.00) = 1,500.00; deductible 1,000.00; 20% of 500.00 = 100.00; paid 400.00
    assert _definitions(decided.text, "review-claim") == {
        "Status": "approved",
        "Type": "professional, from provider",
        "Provider NPI": NPI_IN,
        "Received": "2026-01-15 09:00",
        "Pend reasons": "—",
        "Billed": "1,800.00 USD",
        "Allowed": "1,500.00 USD",
        "Plan pays": "400.00 USD",
        "Member owes": "1,100.00 USD",
    }
    assert "CO-45 300.00, PR-1 1,000.00, PR-2 100.00" in decided.text
    (record,) = audit_rows(platform, action="claim.line_decision", resource_id=claim_id)
    assert record["subject"] == subject
    assert client.get("/ops/claims").text.count("No pended claims.") == 1


def test_an_examiner_decides_prior_authorisations_soonest_due_first(
    client: TestClient, platform: Platform, world: ClaimsWorld
) -> None:
    from datetime import date

    from olly.claims import prior_auth as prior_auth_service

    ids = []
    with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        for expedited, code in ((False, "70551"), (True, "29881")):
            data = prior_auth_service.PriorAuthRequestData(
                member_id=world.ana,
                requesting_provider_id=uuid.uuid4(),
                requesting_npi=NPI_IN,
                services=(prior_auth_service.RequestedService(code, 2),),
                service_from=date(2026, 3, 5),
                service_to=date(2026, 3, 31),
                expedited=expedited,
                diagnosis_codes=("G43.909",),
            )
            ids.append(str(prior_auth_service.submit_request(uow, data).request.id))
    _examiner(client, platform)
    queue = client.get("/ops/prior-authorisations")
    assert queue.status_code == 200
    assert re.findall(r'action="/ops/prior-authorisations/([0-9a-f-]{36})/decision"', queue.text) == ids[::-1]
    refused = client.post(
        f"/ops/prior-authorisations/{ids[0]}/decision", data={"csrf_token": _csrf(queue.text), "outcome": "DENIED"}
    )
    assert refused.status_code == 422
    assert "a denial states a specific reason" in refused.text
    approved = client.post(
        f"/ops/prior-authorisations/{ids[1]}/decision",
        data={"csrf_token": _csrf(queue.text), "outcome": "APPROVED", "note": "criteria met"},
    )
    assert approved.status_code == 200
    assert 'data-testid="pa-decided">Decision recorded.' in approved.text
    assert re.findall(r'action="/ops/prior-authorisations/([0-9a-f-]{36})/decision"', approved.text) == [ids[0]]
    _member(client, platform, world.ana)
    mine = client.get("/prior-authorisations")
    assert mine.text.count('<li class="card">') == 2
    assert "2 asked, 2 approved, 0 used" in mine.text
    assert "criteria met" not in mine.text and "G43.909" not in mine.text
    new = NewAccount(AccountKind.PROVIDER, "desk@clinic.example.org", password=STRONG_PASSWORD, npi=NPI_IN)
    create_account(control_of(client.app), platform.settings.default_tenant_id, new)  # type: ignore[arg-type]
    client.post("/signin", data={"email": "desk@clinic.example.org", "password": STRONG_PASSWORD})
    theirs = _cells(client.get("/provider/prior-authorisations").text)
    assert [row[:4] for row in theirs] == [
        [ids[1], "29881 × 2 (2 approved)", "2026-03-05 – 2026-03-31", "approved"],
        [ids[0], "70551 × 2", "2026-03-05 – 2026-03-31", "pending"],
    ]


def test_billing_staff_run_a_month_and_pay_approved_claims(
    client: TestClient, platform: Platform, world: ClaimsWorld
) -> None:
    _submit(platform, world.ana, "99213", "150.00")  # approved: the plan pays the clinic 75.00
    _examiner(client, platform, Role.BILLING)
    page = client.get("/ops/billing")
    assert page.status_code == 200
    assert "No invoices yet." in page.text  # the claims world has no billing accounts
    ran = client.post("/ops/billing/runs", data={"csrf_token": _csrf(page.text), "period": "2026-01"})
    assert ran.status_code == 200
    assert 'data-testid="billing-ran">Billing run done: 0 invoices issued.' in ran.text
    bad = client.post("/ops/billing/runs", data={"csrf_token": _csrf(page.text), "period": "January"})
    assert bad.status_code == 422 and "The month is YYYY-MM." in bad.text
    paid = client.post("/ops/billing/payment-runs", data={"csrf_token": _csrf(page.text)})
    assert paid.status_code == 201
    ((payee, amount, _method, day),) = _cells(paid.text)
    assert (payee.split(" ")[0], amount, day) == ("provider", "75.00 USD", "2026-01-15")
