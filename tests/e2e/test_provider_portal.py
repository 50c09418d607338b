"""The provider portal in the browser: a claim entered by form (its errors beside the fields first),
a prior-authorisation request followed to its status, and the remittances page with the 835
download. Screenshots at 375 px and 1280 px; axe-core finds no serious or critical violation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Portal

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
pytestmark = pytest.mark.slow


class ProviderTab:
    """The clinic's browser tab (its account has no second factor): CSP violations are recorded."""

    def __init__(self, browser: Any, portal: Portal, artifacts: Path) -> None:
        self.context = browser.new_context(viewport=PHONE, accept_downloads=True)
        self.context.set_default_timeout(60_000)
        self.page = self.context.new_page()
        self.portal = portal
        self.artifacts = artifacts
        self.csp_violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.csp_violations.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )

    def sign_in(self) -> None:
        seed = self.portal.seed
        self.page.goto(self.portal.url("/signin"))
        self.page.get_by_label("E-mail address").fill(seed["emails"]["provider"])
        self.page.get_by_label("Password").fill(seed["password"])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.portal.url("/provider"))

    def axe(self) -> list[str]:
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))  # through DevTools: the CSP stays on
        result = self.page.evaluate(
            "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
        )
        return list(result)

    def shoot(self, label: str) -> None:
        for width, viewport in (("375", PHONE), ("1280", DESKTOP)):
            self.page.set_viewport_size(viewport)
            # Nothing scrolls sideways on a phone: the page is as wide as the screen.
            assert self.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], label
            self.page.screenshot(path=str(self.artifacts / f"provider-{label}-{width}.png"), full_page=True)
        self.page.set_viewport_size(PHONE)


@pytest.fixture
def tab(browser: Any, portal: Portal, artifacts: Path):  # type: ignore[no-untyped-def]
    opened = ProviderTab(browser, portal, artifacts)
    yield opened
    opened.context.close()


def _in_server(portal: Portal, *args: str) -> str:
    """Run ``tests.e2e.provider_remit`` in the server's working directory (its database)."""
    assert portal.home is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLY_")}
    env["PYTHONPATH"] = str(REPO)
    ran = subprocess.run(
        [sys.executable, "-m", "tests.e2e.provider_remit", *args],
        cwd=portal.home,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr[-4000:]
    return ran.stdout


def _service_day() -> str:
    # The seeded coverage starts on 1 January; the seeded visit is on the 20th (a claim for the same
    # visit would pend as a suspected duplicate).
    today = date.today()
    return (min(today, date(today.year, 1, 20)) - timedelta(days=1)).isoformat()


def test_a_provider_enters_a_claim_requests_a_prior_auth_and_downloads_its_835(
    tab: ProviderTab, portal: Portal
) -> None:
    member = portal.seed["member"]
    page = tab.page
    _in_server(portal, "network")  # the clinic joins the network: its claims are priced, not pended
    tab.sign_in()

    # Claim entry: the form, then its errors beside the fields, then the claim received.
    page.get_by_role("link", name="Claims", exact=True).click()
    page.get_by_role("link", name="Enter a claim").click()
    page.wait_for_url("**/provider/claims/new")
    assert tab.axe() == []
    tab.shoot("claim-form")
    page.get_by_label("Member number").fill(member["member_number"])
    page.get_by_label("Family name").fill(member["family_name"])
    page.get_by_label("Date of birth").fill("1990-01-01")
    page.get_by_label("Diagnosis codes").fill("J06.9")
    line = page.get_by_test_id("claim-line-1")
    line.get_by_label("Date of service").fill(_service_day())
    line.get_by_label("Procedure code").fill("99213")
    line.get_by_label("Charge (USD)").fill("one hundred")
    page.get_by_role("button", name="Send the claim").click()
    page.wait_for_selector("[data-testid=form-errors]")
    assert page.locator("#member_number-error").inner_text() == (
        "No member matches this member number, family name and date of birth."
    )
    assert page.locator("#line1_charge-error").inner_text() == "An amount in dollars, such as 125.00."
    assert page.get_by_label("Charge (USD)").first.get_attribute("aria-invalid") == "true"
    assert tab.axe() == []
    tab.shoot("claim-errors")
    page.get_by_label("Date of birth").fill(member["birth_date"])
    line.get_by_label("Charge (USD)").fill("120.00")
    page.get_by_role("button", name="Send the claim").click()
    received = page.get_by_test_id("claim-id")
    claim_id = received.inner_text()
    assert re.fullmatch(r"[0-9a-f-]{36}", claim_id)
    assert tab.axe() == []
    tab.shoot("claim-received")
    page.get_by_role("link", name="Follow its status").click()
    page.wait_for_url("**/provider/claims")
    assert page.get_by_test_id("provider-claims").get_by_role("rowheader", name=claim_id).count() == 1

    # A prior-authorisation request, then its status among the clinic's requests.
    page.get_by_role("link", name="Prior auths").click()
    page.get_by_role("link", name="Request a prior authorisation").click()
    page.wait_for_url("**/provider/prior-authorisations/new")
    assert tab.axe() == []
    page.get_by_label("Member number").fill(member["member_number"])
    page.get_by_label("Family name").fill(member["family_name"])
    page.get_by_label("Date of birth").fill(member["birth_date"])
    page.get_by_label("First date of service").fill("2030-03-02")
    page.get_by_label("Last date of service").fill("2030-03-31")
    page.get_by_label("Diagnosis codes").fill("M23.41")
    page.get_by_label("Procedure code").first.fill("29881")
    page.get_by_label("Units").first.fill("1")
    page.get_by_label("Clinical notes").fill("Locked knee; MRI shows a meniscal tear.")
    tab.shoot("prior-auth-form")
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_selector("[data-testid=pa-sent]")
    rows = page.get_by_test_id("provider-prior-auths").locator("tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert [t for t in texts if "29881 × 1" in t and "2030-03-02 – 2030-03-31" in t and "pending" in t]
    assert "meniscal" not in page.content()
    assert tab.axe() == []
    tab.shoot("prior-auths")

    # Billing pays the approved claim and the gateway writes the 835, as the daily jobs would. In
    # network, 99213 is allowed 100.00 of the 120.00 billed; the member's copay is 25.00.
    payments = json.loads(_in_server(portal, "pay", claim_id).strip().splitlines()[-1])
    (ours,) = [p for p in payments if claim_id in p["claims"]]
    # The clinic's payment: this claim's 75.00, and, unless the server's daily run paid it already,
    # the seeded out-of-network visit, which the out-of-network deductible leaves at 0.00.
    assert (ours["amount"], len(ours["claims"]) in (1, 2)) == ("75.00", True), payments
    page.get_by_role("link", name="Remittances").click()
    page.wait_for_url("**/provider/remittances")
    table = page.get_by_test_id("provider-remittances")
    # (the runs may also pay other providers: their payments are not on this provider's page)
    cells = table.locator("tbody tr", has_text=ours["trace"]).locator("td")
    assert cells.nth(0).inner_text() == "75.00 USD"
    assert cells.nth(1).inner_text() == str(len(ours["claims"]))
    assert tab.axe() == []
    tab.shoot("remittances")
    row = table.locator("tbody tr", has_text=ours["trace"])
    with page.expect_download() as started:
        row.get_by_role("link", name=re.compile("^Download")).click()
    download = started.value
    assert download.suggested_filename.startswith("835-")
    text = Path(download.path()).read_text()
    assert f"TRN*1*{ours['trace']}*" in text
    assert re.search(r"~\s*BPR\*[A-Z]\*75\.00\*C\*", text)
    assert f"CLP*{claim_id}*" in text or f"*{claim_id}~" in text
    assert page.request.get(portal.url(f"/provider/remittances/{uuid.uuid4()}/835")).status == 404
    assert tab.csp_violations == []
