"""Buying an individual plan from the member portal on both engines: the quote, the narrow grant
(the member as subscriber, their own household, only people already covered with them), the
pending policy and its first invoice, then activation once the invoice is paid; each step leaves
its notification in the inbox."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.billing import service as billing_service
from olly.billing.rules import PaymentMethod
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market, TerminationReason
from olly.enrollment.schemas import DependentCreate, EnrollmentCreate, Termination
from olly.kernel.money import Money
from olly.notifications import service as notifications
from olly.plans import service as plans_service
from olly.platform.runtime import Platform
from olly.policy_admin import service as people
from olly.policy_admin.schemas import IndividualCreate
from tests.integration.claims.support import drain
from tests.integration.web.test_portal_claims import _cells, _csrf, _definitions, _member
from tests.support.identity import audit_rows, https_client

SILVER = "OLLY-ACA-SILVER"


class Household:
    def __init__(self, platform: Platform) -> None:
        tenant = platform.settings.default_tenant_id
        with platform.db.unit_of_work(tenant) as uow:
            plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
        with platform.db.unit_of_work(tenant) as uow:
            self.parent = people.register_individual(
                uow, IndividualCreate(given_name="Noor", family_name="Haddad", birth_date=date(1990, 5, 1))
            ).id
            self.child = people.register_individual(
                uow, IndividualCreate(given_name="Sami", family_name="Haddad", birth_date=date(2018, 3, 3))
            ).id
            self.stranger = people.register_individual(
                uow, IndividualCreate(given_name="Ola", family_name="Berg", birth_date=date(1985, 1, 9))
            ).id
            group = people.open_account(uow, kind="GROUP", name="Former Employer", currency="USD").id
            # Covered with the child through a former employer until the end of January.
            self.group_policy = enrollment.enroll(
                uow,
                EnrollmentCreate(
                    market=Market.GROUP,
                    account_id=group,
                    subscriber_party_id=self.parent,
                    plan_code="OLLY-PPO-1000",
                    effective_date=date(2026, 1, 1),
                    dependents=[DependentCreate(party_id=self.child, relationship="CHILD")],
                ),
                PlansCatalog(),
            ).id
            enrollment.terminate(
                uow,
                self.group_policy,
                Termination(reason=TerminationReason.EMPLOYMENT_ENDED, termination_date=date(2026, 1, 31)),
            )
        drain(platform)


@pytest.fixture
def household(platform: Platform) -> Household:
    return Household(platform)


@pytest.fixture
def client(platform: Platform, household: Household) -> Iterator[TestClient]:
    with https_client(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def _inbox(platform: Platform, party: uuid.UUID) -> list[tuple[str, str]]:
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        return [(n.kind, n.body) for n in notifications.inbox(uow, [party])]


def test_a_member_buys_an_individual_plan_for_themselves_and_their_child(
    client: TestClient, platform: Platform, household: Household
) -> None:
    tenant = platform.settings.default_tenant_id
    _member(client, platform, household.parent)
    plans = client.get("/plans")
    assert re.findall(r'href="/plans/buy\?plan_code=([^"]+)"', plans.text) == [SILVER, "OLLY-FLOATER-5L"]
    compared = {
        row[0]: row[3:5]
        for row in (
            [
                unescape(re.sub(r"<[^>]+>", " ", cell)).split("  ")[0].strip()
                for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)
            ]
            for tr in re.findall(r"<tr>(.*?)</tr>", plans.text.split("<tbody>", 1)[1], re.S)
        )
    }
    silver = next(cells for name, cells in compared.items() if "Silver" in name)
    assert silver == ["5,000.00 USD / 10,000.00 USD family", "9,800.00 USD / 19,600.00 USD family"]
    floater = next(cells for name, cells in compared.items() if "loater" in name)
    assert floater[1] == "sum insured 500,000.00 INR, family floater"
    assert client.get("/plans/buy", params={"plan_code": "OLLY-PPO-1000"}).status_code == 404  # a group plan

    form = client.get("/plans/buy", params={"plan_code": SILVER})
    assert form.status_code == 200
    summary = _definitions(form.text, "buy-summary")
    quoted = client.post(
        f"/api/v1/plans/{SILVER}/quote",
        json={"on": "2026-02-01", "members": [{"relationship": "subscriber", "age": 35}]},
        headers={"X-CSRF-Token": _csrf(form.text)},
    ).json()
    assert summary["Coverage starts"] == "01 February 2026"
    assert quoted["totalPremium"] == "471.04"
    assert summary["Your premium alone"] == "471.04 USD monthly"
    assert re.findall(r'name="dependents" value="([^"]+)"', form.text) == [str(household.child)]
    assert "Sami Haddad (child)" in unescape(form.text)

    stranger = client.post(
        "/plans/buy",
        data={"csrf_token": _csrf(form.text), "plan_code": SILVER, "dependents": [str(household.stranger)]},
    )
    assert stranger.status_code == 404  # not someone covered with the member: refused, audited
    with platform.db.unit_of_work(tenant, read_only=True) as uow:
        assert [p.market for p in enrollment_public.policies_of_subscriber(uow, household.parent)] == ["GROUP"]
    refusals = [r for r in audit_rows(platform) if r["action"] == "enrollment.purchase" and r["outcome"] == "denied"]
    assert [r["resource_id"] for r in refusals] == [str(household.stranger)]

    bought = client.post(
        "/plans/buy",
        data={"csrf_token": _csrf(form.text), "plan_code": SILVER, "dependents": [str(household.child)]},
        follow_redirects=False,
    )
    assert bought.status_code == 303
    policy_id = bought.headers["location"].removeprefix("/plans/purchases?bought=")
    with platform.db.unit_of_work(tenant, read_only=True) as uow:
        (policy,) = [p for p in enrollment_public.policies_of_subscriber(uow, household.parent) if p.market != "GROUP"]
        facts = enrollment_public.coverage_facts(uow, policy.policy_id)
    assert str(policy.policy_id) == policy_id
    assert (policy.status, policy.period_start, policy.covered_people) == ("SUBMITTED", date(2026, 2, 1), 2)
    assert sorted((f.party_id, f.relationship) for f in facts) == sorted(
        [(household.parent, "SELF"), (household.child, "CHILD")]
    )
    premium = Money(policy.total_premium_minor, policy.currency)
    # The silver plan's age-35 subscriber rate (471.04, as the quote API says) plus the child's rate.
    assert premium == Money(76592, "USD")

    pending = client.get(bought.headers["location"])
    assert "Waiting for your first payment" in pending.text
    assert f"{premium.to_decimal_string()} USD monthly" in pending.text.replace(",", "")
    assert 'data-testid="invoice-pending"' in pending.text  # billing has not consumed the event yet

    drain(platform)  # billing issues the first invoice; the inbox hears of it
    with_invoice = client.get("/plans/purchases")
    ((_number, period, _due, total, paid, balance, status),) = _cells(with_invoice.text)
    assert (period, total, paid, balance, status) == (
        "2026-02-01 – 2026-02-28",
        f"{premium.to_decimal_string()} USD",
        "0.00",
        premium.to_decimal_string(),
        "open",
    )
    assert _inbox(platform, household.parent)[0][0] == "INVOICE_GENERATED"

    with platform.db.unit_of_work(tenant) as uow:
        billing_service.record_payment(uow, policy.account_id, premium, PaymentMethod.CARD, "first-premium")
    drain(platform)  # payment received → enrollment activates the policy → the inbox hears of both
    active = client.get("/plans/purchases")
    assert re.findall(r'data-testid="purchase-status">([^<]+)<', active.text) == ["Active"]
    assert [kind for kind, _ in _inbox(platform, household.parent)] == [
        "COVERAGE_ACTIVATED",
        "PAYMENT_RECEIVED",
        "INVOICE_GENERATED",
    ]


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(client: TestClient, platform: Platform) -> None:
    page = client.get("/plans/buy", params={"plan_code": SILVER}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/signin")
