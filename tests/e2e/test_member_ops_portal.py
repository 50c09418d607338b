"""Browser journeys of the member inbox, buying an individual plan, and the operations billing
history: screenshots at 375 px and 1280 px, axe-core on every page (no serious or critical
violation), and no Content Security Policy violation in the console."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import Portal
from tests.e2e.test_portals import Visit

pytestmark = pytest.mark.slow
#: The TOTP step each account last signed in with here: a code is accepted once, so a second sign-in
#: in the same 30 seconds uses the next step's code (the server accepts one step of drift).
LAST_STEP: dict[str, int] = {}


class Tab(Visit):
    def sign_in(self, who: str, *, check_accessibility: bool = False) -> None:
        seed = self.portal.seed
        self.page.goto(self.portal.url("/signin"))
        self.page.get_by_label("E-mail address").fill(seed["emails"][who])
        self.page.get_by_label("Password").fill(seed["password"])
        self.page.get_by_role("button", name="Sign in").click()
        if who not in seed["totp"]:
            return
        self.page.wait_for_url("**/signin/mfa")
        step = int(datetime.now(UTC).timestamp()) // 30
        if LAST_STEP.get(who, -1) >= step:
            step = LAST_STEP[who] + 1
        LAST_STEP[who] = step
        self.page.get_by_label("6-digit code").fill(pyotp.TOTP(seed["totp"][who]).at(step * 30))
        self.page.get_by_role("button", name="Continue").click()

    def check(self, label: str) -> None:
        assert self.axe() == []
        assert self.csp_violations == []
        self.shoot(label)


@pytest.fixture
def tab(browser: Any, portal: Portal, artifacts: Path):  # type: ignore[no-untyped-def]
    opened: list[Tab] = []

    def open_tab(name: str) -> Tab:
        opened.append(Tab(browser, portal, artifacts, name))
        return opened[-1]

    yield open_tab
    for t in opened:
        t.close()


def _reload_until(page: Any, test_id: str, seconds: float = 45) -> None:
    """The bus runs in the server: what an event makes appears a moment later."""
    deadline = time.monotonic() + seconds
    while page.get_by_test_id(test_id).count() == 0:
        assert time.monotonic() < deadline, f"{test_id} did not appear"
        time.sleep(0.5)
        page.reload()


def test_a_member_buys_an_individual_plan_and_reads_the_invoice_notice(tab, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    shopper = tab("shopper")
    shopper.sign_in("shopper")
    page = shopper.page
    page.wait_for_url(portal.url("/"))
    page.get_by_role("link", name="Compare, quote and buy a plan").click()
    page.wait_for_url("**/plans")
    shopper.check("plans")
    page.get_by_label("Plan", exact=True).select_option("OLLY-ACA-SILVER")
    page.get_by_label("Your age").fill("35")
    page.get_by_role("button", name="Get a quote").click()
    page.get_by_test_id("quote").wait_for()  # the plans quote API's answer, swapped in by htmx
    quoted = page.get_by_test_id("quote").inner_text()
    assert re.search(r"Premium\s+[\d,]+\.\d\d USD monthly", quoted), quoted

    page.get_by_role("link", name=re.compile(r"^Buy .*Silver")).click()
    page.wait_for_url("**/plans/buy?plan_code=OLLY-ACA-SILVER")
    alone = page.get_by_test_id("buy-quote").inner_text()
    assert alone.endswith(" USD monthly")
    shopper.check("buy")
    page.get_by_role("button", name="Buy this plan").click()
    page.wait_for_url("**/plans/purchases?bought=*")
    assert page.get_by_test_id("purchase-status").inner_text() == "Waiting for your first payment"
    # One person covered: the policy's premium is the quote for the member alone.
    assert page.get_by_test_id("purchase-premium").inner_text() == alone
    _reload_until(page, "invoices")  # billing issues the first invoice from the enrollment event
    (row,) = page.get_by_test_id("invoices").locator("tbody tr").all()
    assert alone.removesuffix(" monthly") in row.inner_text()
    shopper.check("purchases")

    unread = page.get_by_test_id("unread-count")
    # The inbox's consumer turns the invoice event into a notice a moment after billing's own consumer
    # issued the invoice; the navigation loads the count (htmx) once per page.
    deadline = time.monotonic() + 45
    while True:
        try:
            unread.wait_for(timeout=3_000)
            break
        except PlaywrightTimeout:
            assert time.monotonic() < deadline, "the inbox count never appeared"
            page.reload()
    assert unread.text_content() == "1 unread"
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    page.wait_for_url("**/notifications")
    inbox = page.get_by_test_id("inbox")
    assert " ".join(inbox.get_by_role("heading", level=2).text_content().split()) == (
        "New Your premium invoice is ready"
    )
    assert alone.removesuffix(" monthly") in inbox.inner_text()
    shopper.check("inbox")
    page.get_by_role("button", name=re.compile(r"^Mark as read")).click()
    page.wait_for_url("**/notifications?read=1")
    assert page.get_by_role("status").inner_text() == "Marked as read."
    assert page.get_by_test_id("unread-count").count() == 0
    assert inbox.get_by_role("heading", level=2).text_content().strip() == "Your premium invoice is ready"
    shopper.check("inbox-read")


def test_billing_staff_read_the_history_of_billing_and_payment_runs(tab, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    staff = tab("billing")
    staff.sign_in("billing")
    page = staff.page
    page.wait_for_url(portal.url("/ops"))
    page.goto(portal.url("/ops/billing"))
    month = page.get_by_label("Month to bill (YYYY-MM)").input_value()
    page.get_by_role("button", name="Run monthly billing").click()
    page.get_by_test_id("billing-ran").wait_for()
    page.get_by_role("button", name="Start a claim payment run").click()
    page.get_by_test_id("payment-run").wait_for()

    page.goto(portal.url("/ops/billing"))
    page.get_by_role("navigation", name="Billing").get_by_role("link", name="Billing runs").click()
    page.wait_for_url("**/ops/billing/runs")
    runs = page.get_by_test_id("billing-runs").locator("tbody tr")
    assert runs.count() >= 1
    assert runs.first.locator("td").nth(0).inner_text().startswith(f"{month}-01 – {month}-")  # ours, newest
    # Open the run that issued the most invoices (the scheduled run bills the seeded groups; a rerun
    # of the same month issues nothing twice).
    counts = [int(row.locator("td").nth(1).inner_text()) for row in runs.all()]
    row = runs.nth(counts.index(max(counts))).locator("td")
    issued, total = max(counts), row.nth(3).inner_text()
    assert re.fullmatch(r"[\d,]+\.\d\d USD", total), total
    staff.check("billing-runs")
    runs.nth(counts.index(max(counts))).get_by_role("link").click()
    page.wait_for_url("**/ops/billing/runs/*")
    figures = page.get_by_test_id("billing-run").inner_text()
    assert total in figures
    invoices = page.get_by_test_id("invoices").locator("tbody tr")
    if issued:
        assert invoices.count() == issued
    else:
        assert invoices.count() == 1 and invoices.first.inner_text() == "No invoices yet."
    staff.check("billing-run")

    page.goto(portal.url("/ops/billing/payment-runs"))
    payment_runs = page.get_by_test_id("payment-runs").locator("tbody tr")
    assert payment_runs.count() >= 1
    staff.check("payment-runs")
    payment_runs.first.get_by_role("link").click()
    page.wait_for_url("**/ops/billing/payment-runs/*")
    page.get_by_test_id("payment-run").wait_for()
    staff.check("payment-run")
