"""The operations console's billing history on both engines: past billing runs with the invoices
each issued, and past claim payment runs per payee, every amount to the cent; staff only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.enrollment import public as enrollment_public
from olly.kernel.money import Money
from olly.notifications import service as notifications
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, drain, seed
from tests.integration.web.test_portal_claims import _cells, _csrf, _examiner, _member, _submit
from tests.integration.web.test_portal_purchase import Household
from tests.support.identity import https_client


@pytest.fixture
def app_client(platform: Platform) -> Iterator[TestClient]:
    with https_client(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def _definitions(html: str, testid: str) -> dict[str, str]:
    block = html.split(f'data-testid="{testid}">', 1)[1].split("</dl>", 1)[0]
    return {
        re.sub(r"<[^>]+>", "", dt).strip(): re.sub(r"<[^>]+>", "", dd).strip()
        for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", block, re.S)
    }


def test_billing_staff_see_past_billing_runs_and_the_invoices_each_issued(
    app_client: TestClient, platform: Platform
) -> None:
    household = Household(platform)
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        (group_policy,) = enrollment_public.policies_of_subscriber(uow, household.parent)
    premium = Money(group_policy.total_premium_minor, group_policy.currency)
    _examiner(app_client, platform, Role.BILLING)
    empty = app_client.get("/ops/billing/runs")
    assert empty.status_code == 200
    assert _cells(empty.text) == [["No billing run yet."]]
    ran = app_client.post("/ops/billing/runs", data={"csrf_token": _csrf(empty.text), "period": "2026-01"})
    assert 'data-testid="billing-ran">Billing run done: 1 invoice issued.' in ran.text
    again = app_client.post("/ops/billing/runs", data={"csrf_token": _csrf(empty.text), "period": "2026-01"})
    assert "Billing run done: 0 invoices issued." in again.text  # a rerun bills nothing twice
    drain(platform)
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        assert notifications.inbox(uow, [household.parent]) == []  # a group's list bill is the employer's

    history = app_client.get("/ops/billing/runs")
    runs = re.findall(r'href="/ops/billing/runs/([0-9a-f-]{36})"', history.text)
    assert [row[1:] for row in _cells(history.text)] == [
        ["2026-01-01 – 2026-01-31", "0", "0", "0.00 USD"],
        ["2026-01-01 – 2026-01-31", "1", "1", "1,045.67 USD"],
    ]
    detail = app_client.get(f"/ops/billing/runs/{runs[1]}")
    assert detail.status_code == 200
    figures = _definitions(detail.text, "billing-run")
    assert (figures["Period"], figures["Invoices"], figures["Lines"], figures["Total"]) == (
        "2026-01-01 – 2026-01-31",
        "1",
        "1",
        "1,045.67 USD",
    )
    ((_number, period, _due, total, employer, employee, paid, balance, status),) = _cells(detail.text)
    assert (period, total, paid, balance, status) == (
        "2026-01-01 – 2026-01-31",
        "1,045.67 USD",
        "0.00",
        "1,045.67",
        "open",
    )
    assert Money.parse(employer.replace(",", ""), "USD") + Money.parse(employee.replace(",", ""), "USD") == premium
    assert premium == Money(104567, "USD")  # the PPO's employee-plus-child monthly rate
    assert app_client.get("/ops/billing/runs/00000000-0000-7000-8000-00000000dead").status_code == 404


def test_billing_staff_see_past_payment_runs_per_payee(app_client: TestClient, platform: Platform) -> None:
    world: ClaimsWorld = seed(platform, platform.settings.default_tenant_id)
    _submit(platform, world.ana, "99213", "150.00")  # approved: the plan pays the clinic 75.00
    _examiner(app_client, platform, Role.BILLING)
    page = app_client.get("/ops/billing/payment-runs")
    assert _cells(page.text) == [["No payment run yet."]]
    app_client.post("/ops/billing/payment-runs", data={"csrf_token": _csrf(page.text)})
    app_client.post("/ops/billing/payment-runs", data={"csrf_token": _csrf(page.text)})  # nothing left to pay
    history = app_client.get("/ops/billing/payment-runs")
    assert [[re.sub(r" run at .*", "", row[0]), *row[1:]] for row in _cells(history.text)] == [
        ["2026-01-15", "0", "0", "0.00"],
        ["2026-01-15", "1", "1", "75.00 USD"],
    ]
    first = re.findall(r'href="/ops/billing/payment-runs/([0-9a-f-]{36})"', history.text)[1]
    detail = app_client.get(f"/ops/billing/payment-runs/{first}")
    ((payee, amount, method, day),) = _cells(detail.text)
    assert (payee.split(" ")[0], amount, method, day) == ("provider", "75.00 USD", "ACH", "2026-01-15")


def test_a_member_is_not_shown_the_billing_history(app_client: TestClient, platform: Platform) -> None:
    world: ClaimsWorld = seed(platform, platform.settings.default_tenant_id)
    _member(app_client, platform, world.ana)
    assert app_client.get("/ops/billing/runs").status_code == 404  # invoice.read is theirs only for their own
    assert app_client.get("/ops/billing/payment-runs").status_code == 404
    assert app_client.get("/api/v1/billing/runs").status_code == 404
