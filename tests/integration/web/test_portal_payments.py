"""The payment record beside the invoices, in the member and employer portals, on both engines:
when each premium payment arrived, how, its reference, its amount, the invoices it paid and the
credit it left; nobody else's payments (another household's, a group's) ever show.

FakePlans prices PPO-2026 at 600.00 a month for one person and 1,100.00 with a spouse.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.billing import public as billing_public
from olly.billing import service as billing_service
from olly.billing.rules import PaymentMethod
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from tests.factories import PPO, FakePlans, person
from tests.integration.web.test_portal_claims import _cells, _member
from tests.support.identity import STRONG_PASSWORD, control_of, create_account, https_client

FEBRUARY = DatePeriod(date(2026, 2, 1), date(2026, 2, 28))


@dataclass(frozen=True)
class Billed:
    ana: uuid.UUID
    ana_invoice: str
    ben: uuid.UUID
    ben_invoice: str
    group: uuid.UUID
    list_bill: str
    other_group: uuid.UUID


def _pay(platform: Platform, account: uuid.UUID, minor: int, method: PaymentMethod, reference: str) -> None:
    with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        billing_service.record_payment(uow, account, Money(minor, "USD"), method, reference)


def _enrol(platform: Platform, market: Market, account: uuid.UUID, name: str, spouse: bool = False) -> uuid.UUID:
    """The subscriber of a new PPO-2026 policy from 1 January on ``account``."""
    tenant = platform.settings.default_tenant_id
    subscriber = person(platform, tenant, name, date(1985, 5, 20))
    dependents = [{"party_id": person(platform, tenant, f"{name}-spouse", date(1986, 1, 2)), "relationship": "SPOUSE"}]
    with platform.db.unit_of_work(tenant) as uow:
        enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=market,
                account_id=account,
                subscriber_party_id=subscriber,
                plan_code=PPO,
                effective_date=date(2026, 1, 1),
                dependents=dependents if spouse else [],
            ),
            FakePlans(),
        )
    return subscriber


def _first_invoice(platform: Platform, account: uuid.UUID) -> str:
    with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        (policy_id,) = enrollment_public.policies_of_account(uow, account)
        invoice = billing_service.issue_initial_invoice(uow, policy_id, date(2026, 1, 1))
        assert invoice is not None
        return invoice.invoice_number


@pytest.fixture
def billed(platform: Platform, clock: FixedClock) -> Billed:
    tenant = platform.settings.default_tenant_id
    ana_home, ben_home, group, other_group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ana = _enrol(platform, Market.INDIVIDUAL, ana_home, "Ana")
    ben = _enrol(platform, Market.INDIVIDUAL, ben_home, "Ben", spouse=True)
    ana_invoice, ben_invoice = _first_invoice(platform, ana_home), _first_invoice(platform, ben_home)
    _enrol(platform, Market.GROUP, group, "Cy")
    _enrol(platform, Market.GROUP, other_group, "Di")
    with platform.db.unit_of_work(tenant) as uow:
        run = billing_service.run_billing(uow, FEBRUARY)
        (list_bill,) = billing_public.invoice_numbers(uow, group, run.invoice_ids).values()

    _pay(platform, ana_home, 25000, PaymentMethod.ACH, "ACH-0001")
    clock.advance(timedelta(days=3))
    _pay(platform, ana_home, 50000, PaymentMethod.CHECK, "CHK-1042")  # 350.00 settles the invoice, 150.00 credit
    _pay(platform, ben_home, 110000, PaymentMethod.CARD, "ch-BEN-77")
    clock.advance(timedelta(days=2))
    _pay(platform, group, 100000, PaymentMethod.WIRE, "WIRE-G1-2")  # the 600.00 list bill, 400.00 credit
    _pay(platform, other_group, 60000, PaymentMethod.ACH, "ACH-G2-9")
    return Billed(ana, ana_invoice, ben, ben_invoice, group, list_bill, other_group)


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return create_app(platform, run_bus=False)


@pytest.fixture
def member_client(app: FastAPI) -> Iterator[TestClient]:
    with https_client(app) as client:
        yield client


def _employer(client: TestClient, platform: Platform, group: uuid.UUID) -> None:
    email = f"hr.{uuid.uuid4().hex[:8]}@example.org"
    new = NewAccount(AccountKind.EMPLOYER_ADMIN, email, password=STRONG_PASSWORD, group_account_id=group)
    create_account(control_of(client.app), platform.settings.default_tenant_id, new)  # type: ignore[arg-type]
    client.post("/signin", data={"email": email, "password": STRONG_PASSWORD})


FRAGMENT = {"HX-Request": "true"}


def test_a_member_sees_the_household_payments_and_where_each_went(
    member_client: TestClient, platform: Platform, billed: Billed
) -> None:
    _member(member_client, platform, billed.ana)
    invoices = member_client.get("/invoices")
    assert invoices.status_code == 200
    assert 'hx-get="/payments" hx-trigger="load"' in invoices.text  # the table loads in place
    assert _cells(invoices.text) == [
        [billed.ana_invoice, "2026-01-01 – 2026-01-31", "2026-01-15", "600.00 USD", "600.00", "0.00", "paid"]
    ]

    fragment = member_client.get("/payments", headers=FRAGMENT)
    page = member_client.get("/payments")
    assert fragment.status_code == page.status_code == 200
    assert "<h1>" not in fragment.text and "<h1>Premium payments</h1>" in page.text
    expected = [
        ["2026-01-18", "Cheque", "CHK-1042", "500.00 USD", f"350.00 to {billed.ana_invoice}", "150.00"],
        ["2026-01-15", "ACH bank transfer", "ACH-0001", "250.00 USD", f"250.00 to {billed.ana_invoice}", "0.00"],
    ]
    assert _cells(fragment.text) == _cells(page.text) == expected
    assert "2 payments received, newest first" in page.text
    for other in ("ch-BEN-77", "1,100.00", billed.ben_invoice, "WIRE-G1-2", "ACH-G2-9", billed.list_bill):
        assert other not in page.text


def test_another_household_sees_only_its_own_card_payment(
    member_client: TestClient, platform: Platform, billed: Billed
) -> None:
    _member(member_client, platform, billed.ben)
    page = member_client.get("/payments")
    assert _cells(page.text) == [
        ["2026-01-18", "Card", "ch-BEN-77", "1,100.00 USD", f"1,100.00 to {billed.ben_invoice}", "0.00"]
    ]
    for other in ("CHK-1042", "ACH-0001", billed.ana_invoice, "WIRE-G1-2"):
        assert other not in page.text


def test_an_employer_sees_the_group_payments_on_its_invoices_page(
    app: FastAPI, platform: Platform, billed: Billed
) -> None:
    with https_client(app) as client:
        _employer(client, platform, billed.group)
        invoices = client.get("/employer/invoices")
        assert 'hx-get="/employer/payments" hx-trigger="load"' in invoices.text
        page = client.get("/employer/payments")
        assert page.status_code == 200
        assert _cells(page.text) == [
            ["2026-01-20", "Wire transfer", "WIRE-G1-2", "1,000.00 USD", f"600.00 to {billed.list_bill}", "400.00"]
        ]
        for other in ("ACH-G2-9", "CHK-1042", "ACH-0001", "ch-BEN-77", billed.ana_invoice):
            assert other not in page.text


def test_a_member_with_no_payments_is_told_so(member_client: TestClient, platform: Platform, billed: Billed) -> None:
    stranger = person(platform, platform.settings.default_tenant_id, "Eve", date(1950, 2, 2))
    _member(member_client, platform, stranger)
    page = member_client.get("/payments", headers=FRAGMENT)
    assert _cells(page.text) == [["No payments received yet."]]
    assert "0 payments received" in page.text
