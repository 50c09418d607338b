"""The provider portal's entry forms and remittances over HTTP, on SQLite and PostgreSQL: a claim
entered by form (errors beside their fields, the claim adjudicated like an API one), a
prior-authorisation request with its status, and the 835 of the provider's own payment (another
provider's is not found).

Amounts: the demo PPO and the in-network clinic of ``tests/integration/claims/support.py`` (99213
allowed 100.00, a 25.00 office-visit copay: the plan pays 75.00)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient

from olly import edi_links
from olly.billing import service as billing
from olly.claims import public as claims_public
from olly.codesets import icd10
from olly.edi import service as edi_service
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from olly.web.rendering import CONTENT_SECURITY_POLICY
from tests.factories import person
from tests.integration.claims.support import NPI_IN, NPI_NEW, NPI_OUT, PPO, drain, join_registry, seed
from tests.support.identity import STRONG_PASSWORD, audit_rows, control_of, create_account, https_client


@pytest.fixture
def ana(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> dict[str, str]:
    """Ana Rivera (born 1985-05-20) on a group policy of the demo PPO from 2026-01-01, with the
    eligibility and claims read models filled by the bus; her member number and party id."""
    seed(platform, tenant_id)
    # Build the ICD-10-CM tables before requests run in threads (main builds them under a lock).
    assert icd10.is_billable_diagnosis("J06.9")
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))
    party = person(platform, tenant_id, "Ana", date(1985, 5, 20))
    with platform.db.unit_of_work(tenant_id) as uow:
        policy_id = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=uuid.uuid4(),
                subscriber_party_id=party,
                plan_code=PPO,
                effective_date=date(2026, 1, 1),
            ),
            PlansCatalog(),
        ).id
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (number,) = [f.member_number for f in enrollment_public.coverage_facts(uow, policy_id) if f.party_id == party]
    return {"number": number, "party": str(party)}


@pytest.fixture
def client(platform: Platform, ana: dict[str, str]) -> Iterator[TestClient]:
    from olly.app import create_app

    with https_client(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def _provider(client: TestClient, platform: Platform, npi: str = NPI_IN) -> str:
    email = f"desk.{npi}@clinic.example.org"
    new = NewAccount(AccountKind.PROVIDER, email, password=STRONG_PASSWORD, npi=npi)
    account = create_account(control_of(client.app), platform.settings.default_tenant_id, new)  # type: ignore[arg-type]
    signed_in = client.post("/signin", data={"email": email, "password": STRONG_PASSWORD}, follow_redirects=False)
    assert signed_in.headers["location"] == "/"
    return f"account:{account}"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None
    return found.group(1)


def _field_errors(html: str) -> dict[str, str]:
    return {
        k: unescape(v) for k, v in re.findall(r'<p class="field-error" id="([a-z0-9_A-Z]+)-error">([^<]+)</p>', html)
    }


def _cells(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _claim_form(page: str, ana: dict[str, str], **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": _csrf(page),
        "form_key": _hidden(page, "form_key"),
        "member_number": ana["number"],
        "family_name": "Rivera",
        "birth_date": "1985-05-20",
        "billingNpi": NPI_IN,
        "place_of_service": "11",
        "diagnoses": "j06.9",
        "line1_service_date": "2026-01-12",
        "line1_procedure_code": "99213",
        "line1_modifiers": "",
        "line1_units": "1",
        "line1_charge": "150.00",
        "line1_pointers": "1",
    }
    form.update(changes)
    return form


def test_a_provider_enters_a_claim_by_form_and_follows_it_to_payment(
    client: TestClient, platform: Platform, ana: dict[str, str]
) -> None:
    subject = _provider(client, platform)
    page = client.get("/provider/claims/new")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert '<label for="line1_procedure_code">Procedure code</label>' in page.text
    assert f'<option value="{NPI_IN}">{NPI_IN}</option>' in page.text

    # Wrong birth date, a six-letter code, a charge in words, a second line without a date: all at once.
    wrong = client.post(
        "/provider/claims/new",
        data=_claim_form(
            page.text,
            ana,
            birth_date="1985-05-21",
            line1_procedure_code="992130",
            line2_procedure_code="99214",
            line2_charge="ninety",
        ),
    )
    assert wrong.status_code == 422
    assert _field_errors(wrong.text) == {
        "member_number": "No member matches this member number, family name and date of birth.",
        "line1_procedure_code": "Five letters or digits (CPT or HCPCS), such as 99213.",
        "line2_service_date": "Enter the date of service (not in the future).",
        "line2_charge": "An amount in dollars, such as 125.00.",
    }
    assert 'aria-invalid="true"' in wrong.text
    assert 'value="992130"' in wrong.text  # the form comes back as it was sent
    # The fields are right: the claim's own rule speaks (a pointer past the one diagnosis).
    pointer = client.post(
        "/provider/claims/new",
        data=_claim_form(page.text, ana, line2_procedure_code="99214", line2_charge="90.00",
                         line2_service_date="2026-01-12", line2_pointers="1, 3"),
    )  # fmt: skip
    assert pointer.status_code == 422
    assert _field_errors(pointer.text) == {"line2_pointers": "Numbers of the diagnoses above, such as 1 or 1, 2."}
    # Claims intake itself (after the schema): a date of service in the future.
    future = client.post("/provider/claims/new", data=_claim_form(page.text, ana, line1_service_date="2026-02-01"))
    assert future.status_code == 422
    assert _field_errors(future.text) == {"line1_service_date": "The date of service is in the future."}
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        assert claims_public.claims_of_provider(uow, [NPI_IN]) == []  # nothing half-written

    sent = client.post("/provider/claims/new", data=_claim_form(page.text, ana))
    assert sent.status_code == 202
    claim_id = re.search(r'data-testid="claim-id">([0-9a-f-]{36})<', sent.text)
    assert claim_id is not None
    assert "accepted for adjudication" in sent.text
    again = client.post("/provider/claims/new", data=_claim_form(page.text, ana))  # a double submit
    assert again.status_code == 202
    assert f'data-testid="claim-id">{claim_id.group(1)}<' in again.text
    assert "already received" in again.text
    (record,) = [r for r in audit_rows(platform, action="claim.write") if r["outcome"] == "allowed"][:1]
    assert record["subject"] == subject

    drain(platform)
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        (status,) = claims_public.claims_of_provider(uow, [NPI_IN])
    assert (str(status.claim_id), status.member_id, status.status) == (
        claim_id.group(1),
        uuid.UUID(ana["party"]),
        "APPROVED",
    )
    assert (status.billed.amount, status.allowed and status.allowed.amount, status.paid and status.paid.amount) == (
        15000, 10000, 7500,
    )  # fmt: skip
    listing = _cells(client.get("/provider/claims").text)
    assert [row[2:] for row in listing] == [["approved", "150.00 USD", "100.00", "75.00"]]


def test_a_claim_under_another_providers_npi_is_refused(
    client: TestClient, platform: Platform, ana: dict[str, str]
) -> None:
    _provider(client, platform)
    page = client.get("/provider/claims/new")
    refused = client.post("/provider/claims/new", data=_claim_form(page.text, ana, billingNpi=NPI_OUT))
    assert refused.status_code in (403, 404)
    no_token = _claim_form(page.text, ana)
    del no_token["csrf_token"]
    assert client.post("/provider/claims/new", data=no_token).status_code == 403
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        assert claims_public.claims_of_provider(uow, [NPI_IN, NPI_OUT]) == []
    keyless = _claim_form(page.text, ana)
    del keyless["form_key"]  # no key of its own: accepted, but a resend would be a second claim
    assert client.post("/provider/claims/new", data=keyless).status_code == 202
    assert client.post("/provider/claims/new", data=keyless).status_code == 202
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        assert len(claims_public.claims_of_provider(uow, [NPI_IN])) == 2


def test_a_claim_by_form_is_for_the_member_the_decision_was_about(
    client: TestClient, platform: Platform, tenant_id: uuid.UUID, ana: dict[str, str]
) -> None:
    """A member may write their own claims, so a ``memberId`` field naming themselves passes the
    form's policy; the claim must then not go to the member the demographics name (Ana)."""
    mo = person(platform, tenant_id, "Mo", date(1990, 2, 2))
    email = "mo@example.org"
    new = NewAccount(AccountKind.MEMBER, email, password=STRONG_PASSWORD, party_id=mo)
    create_account(control_of(client.app), tenant_id, new)  # type: ignore[arg-type]
    client.post("/signin", data={"email": email, "password": STRONG_PASSWORD}, follow_redirects=False)
    page = client.get("/provider/claims/new")
    form = {**_claim_form(page.text, ana), "memberId": str(mo)}

    refused = client.post("/provider/claims/new", data=form, headers={"X-Request-ID": "member-claims-for-ana"})
    assert refused.status_code == 404
    assert ana["number"] not in refused.text
    [row] = audit_rows(platform, request_id="member-claims-for-ana", outcome="denied")
    assert row["resource_id"] is None  # the member matched is not named: the caller may not know them
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert claims_public.claims_of_provider(uow, [NPI_IN]) == []


def test_a_provider_requests_a_prior_authorisation_and_sees_it_pending(
    client: TestClient, platform: Platform, ana: dict[str, str]
) -> None:
    _provider(client, platform)
    page = client.get("/provider/prior-authorisations/new")
    assert page.status_code == 200
    form = {
        "csrf_token": _csrf(page.text),
        "member_number": ana["number"],
        "family_name": "Rivera",
        "birth_date": "1985-05-20",
        "billingNpi": NPI_IN,
        "service_from": "2026-02-02",
        "service_to": "2026-01-31",
        "diagnoses": "M23.41",
        "service1_procedure_code": "29881",
        "service1_units": "1",
        "clinical_notes": "Locked knee after a fall; MRI shows a meniscal tear.",
    }
    backwards = client.post("/provider/prior-authorisations/new", data=form)
    assert backwards.status_code == 422
    assert _field_errors(backwards.text) == {"service_to": "Enter the last date of service (on or after the first)."}
    unknown = client.post(
        "/provider/prior-authorisations/new", data={**form, "service_to": "2026-02-28", "family_name": "Rivero"}
    )
    assert unknown.status_code == 422
    assert list(_field_errors(unknown.text)) == ["member_number"]
    sent = client.post("/provider/prior-authorisations/new", data={**form, "service_to": "2026-02-28"})
    assert sent.status_code == 201
    assert 'data-testid="pa-sent"' in sent.text
    ((request_id, services, dates, status, due),) = _cells(sent.text)
    assert (services, dates, status) == ("29881 × 1", "2026-02-02 – 2026-02-28", "pending")
    assert due == "2026-01-22"  # a standard request: decided within seven days
    assert "meniscal" not in sent.text and "M23.41" not in sent.text
    assert _cells(client.get("/provider/prior-authorisations").text)[0][0] == request_id


def test_a_provider_downloads_its_own_835_and_never_anothers(
    client: TestClient, platform: Platform, ana: dict[str, str]
) -> None:
    tenant = platform.settings.default_tenant_id
    _provider(client, platform)
    empty = client.get("/provider/remittances")
    assert empty.status_code == 200
    assert _cells(empty.text) == [["No payments yet."]]
    page = client.get("/provider/claims/new")
    assert client.post("/provider/claims/new", data=_claim_form(page.text, ana)).status_code == 202
    drain(platform)
    links = edi_links.build_links(PlansCatalog(), PlanBenefitSource())
    with platform.db.unit_of_work(tenant) as uow:
        run_id = str(billing.run_claim_payments(uow).id)
    listing = client.get("/provider/remittances")
    ((paid_on, amount, claims, method, trace, file_cell),) = _cells(listing.text)
    assert (paid_on, amount, claims, method, file_cell) == ("2026-01-15", "75.00 USD", "1", "EFT", "not written yet")
    with platform.db.unit_of_work(tenant) as uow:
        (written,) = edi_service.remit(uow, run_id, links)
    listing = client.get("/provider/remittances")
    assert _cells(listing.text)[0][4:] == [trace, "Download"]
    assert f'aria-label="Download the 835 of {trace}"' in listing.text
    assert f'href="/provider/remittances/{written.id}/835"' in listing.text
    download = client.get(f"/provider/remittances/{written.id}/835")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/edi-x12"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="835-{written.interchange_control_number}-{written.id}.x12"'
    )
    text = download.text
    assert "BPR*I*75.00*C*CHK" in text  # no bank numbers configured for the payee: a cheque advice
    assert f"TRN*1*{trace}*" in text
    assert f"*XX*{NPI_IN}~" in text
    nothing = uuid.uuid4()
    assert client.get(f"/provider/remittances/{nothing}/835").status_code == 404

    # Another clinic signs in: the list is empty and the first clinic's 835 is "not found".
    client.post("/signout", data={"csrf_token": _csrf(listing.text)})
    _provider(client, platform, NPI_OUT)
    assert _cells(client.get("/provider/remittances").text) == [["No payments yet."]]
    other = client.get(f"/provider/remittances/{written.id}/835")
    assert other.status_code == 404
    assert "BPR" not in other.text
    refusals = [r for r in audit_rows(platform, action="remittance.read") if r["outcome"] == "denied"]
    assert sorted(r["resource_id"] for r in refusals) == sorted([str(nothing), str(written.id)])


def test_a_clinic_sees_the_payments_made_before_and_after_the_registry_knew_it(
    client: TestClient, platform: Platform, ana: dict[str, str]
) -> None:
    """A clinic's first claims came before the registry knew its NPI (paid under the id claims derived
    from it), its later ones after (paid under the registry's id): its remittances page lists both
    payments, each with its 835."""
    tenant = platform.settings.default_tenant_id
    links = edi_links.build_links(PlansCatalog(), PlanBenefitSource())
    _provider(client, platform, NPI_NEW)
    runs = []
    # Out of network (the demo PPO: a 2,000.00 deductible, then the plan pays 60 %): 29880 billed
    # 6,000.00 is allowed 3,000.00, paid 600.00; later 10060 billed 500.00 is allowed 250.00, paid 150.00.
    for code, charge, day in (("29880", "6000.00", "2026-01-12"), ("10060", "500.00", "2026-01-13")):
        if runs:
            join_registry(platform, tenant)
        page = client.get("/provider/claims/new")
        form = _claim_form(
            page.text,
            ana,
            billingNpi=NPI_NEW,
            diagnoses="m23.41",
            line1_procedure_code=code,
            line1_charge=charge,
            line1_service_date=day,
        )
        assert client.post("/provider/claims/new", data=form).status_code == 202
        drain(platform)
        with platform.db.unit_of_work(tenant) as uow:
            runs.append(str(billing.run_claim_payments(uow).id))
    listing = client.get("/provider/remittances")
    assert sorted(row[1:4] for row in _cells(listing.text)) == [["150.00 USD", "1", "EFT"], ["600.00 USD", "1", "EFT"]]
    written = []
    for run_id in runs:
        with platform.db.unit_of_work(tenant) as uow:
            (remitted,) = edi_service.remit(uow, run_id, links)
            written.append(remitted.id)
    listing = client.get("/provider/remittances")
    assert [row[5] for row in _cells(listing.text)] == ["Download", "Download"]
    for file_id in written:
        download = client.get(f"/provider/remittances/{file_id}/835")
        assert download.status_code == 200 and f"*XX*{NPI_NEW}~" in download.text
