"""Browser journeys through the portals, with screenshots at phone and desktop width and an
axe-core accessibility check (no serious or critical violation) on the main pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Portal, fresh_totp

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
PDF = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"
pytestmark = pytest.mark.slow


class Visit:
    """One person's browser tab: signs in, checks accessibility, records CSP violations."""

    def __init__(self, browser: Any, portal: Portal, artifacts: Path, name: str) -> None:
        self.context = browser.new_context(viewport=PHONE)
        self.context.set_default_timeout(60_000)  # a busy CI machine, not a slow page, is what this absorbs
        self.page = self.context.new_page()
        self.portal = portal
        self.artifacts = artifacts
        self.name = name
        self.csp_violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.csp_violations.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )

    def sign_in(self, who: str, *, check_accessibility: bool = False) -> None:
        seed = self.portal.seed
        self.page.goto(self.portal.url("/"))
        assert self.page.url.endswith("/signin")
        if check_accessibility:
            assert self.axe() == []
        self.page.get_by_label("E-mail address").fill(seed["emails"][who])
        self.page.get_by_label("Password").fill(seed["password"])
        self.page.get_by_role("button", name="Sign in").click()
        if who in seed["totp"]:
            self.page.wait_for_url("**/signin/mfa")
            if check_accessibility:
                assert self.axe() == []
            code = fresh_totp(who, seed["totp"][who])
            self.page.get_by_label("6-digit code").fill(code)
            self.page.get_by_role("button", name="Continue").click()

    def axe(self) -> list[str]:
        """Serious and critical axe-core violations of the current page (WCAG 2.1 A and AA rules)."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') stays on.
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
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
            self.page.screenshot(path=str(self.artifacts / f"{self.name}-{label}-{width}.png"), full_page=True)
        self.page.set_viewport_size(PHONE)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Any, portal: Portal, artifacts: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    opened: list[Visit] = []

    def open_visit(name: str) -> Visit:
        opened.append(Visit(browser, portal, artifacts, name))
        return opened[-1]

    yield open_visit
    for v in opened:
        v.close()


def test_member_signs_in_with_mfa_and_sees_the_id_card_and_coverage(visit, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    tab = visit("member")
    tab.sign_in("member", check_accessibility=True)
    page = tab.page
    page.wait_for_url(portal.url("/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your plan"
    page.keyboard.press("Tab")  # the first stop is the skip link, and it moves focus to the content
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert tab.axe() == []
    tab.shoot("home")

    page.get_by_role("link", name="ID card").first.click()
    page.wait_for_url("**/card")
    assert page.get_by_test_id("card-name").inner_text() == portal.seed["member"]["name"]
    assert page.get_by_test_id("card-member-number").inner_text() == portal.seed["member"]["member_number"]
    assert tab.axe() == []
    tab.shoot("card")

    page.goto(portal.url("/coverage"))
    assert page.get_by_test_id("coverage-status").inner_text().startswith("Covered on ")
    assert portal.seed["member"]["child"] in page.locator("main").inner_text()  # a minor dependent
    assert page.locator("progress").count() >= 2  # deductible and out-of-pocket
    assert tab.axe() == []
    tab.shoot("coverage")
    page.get_by_role("link", name=f"ID card of {portal.seed['member']['child']}").click()
    assert page.get_by_test_id("card-name").inner_text() == portal.seed["member"]["child"]

    assert tab.csp_violations == []

    # Installed as an app: the service worker keeps the shell, so offline the member sees the offline
    # page — and never a cached copy of a page with their data.
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == portal.url("/")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    tab.context.set_offline(True)
    try:
        page.goto(portal.url("/coverage"))
        assert page.get_by_role("heading", level=1).inner_text() == "You are offline"
        assert portal.seed["member"]["child"] not in page.content()
    finally:
        tab.context.set_offline(False)


def test_employer_adds_a_dependent(visit, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    tab = visit("employer")
    tab.sign_in("employer")
    page = tab.page
    page.wait_for_url(portal.url("/employer"))
    assert tab.axe() == []
    tab.shoot("roster")

    page.get_by_role("link", name="Sam Lindqvist").click()
    page.wait_for_url(f"**/employer/policies/{portal.seed['employee_policy']}")
    born = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    page.get_by_label("Given name").fill("Ada")
    page.get_by_label("Family name").fill("Lindqvist")
    page.get_by_label("Date of birth").fill(born)
    page.get_by_label("Relationship").select_option("CHILD")
    page.get_by_label("Reason (qualifying event)").select_option("BIRTH")
    page.get_by_label("Date of the event").fill(born)
    page.get_by_role("button", name="Add dependent").click()
    page.wait_for_url("**?saved=dependent")
    assert page.get_by_role("status").inner_text() == "The dependent is added."
    rows = page.locator("table tbody tr").all_inner_texts()
    assert [r.split("\t")[:2] for r in rows] == [["Sam Lindqvist", "self"], ["Ada Lindqvist", "child"]]
    assert tab.axe() == []
    tab.shoot("dependent-added")
    assert tab.csp_violations == []


def test_provider_checks_eligibility(visit, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    tab = visit("provider")
    tab.sign_in("provider")
    page = tab.page
    page.wait_for_url(portal.url("/provider"))
    member = portal.seed["member"]
    page.get_by_label("Member number").fill(member["member_number"])
    page.get_by_label("Patient's family name").fill("Someone-Else")
    page.get_by_label("Patient's date of birth").fill(member["birth_date"])
    page.get_by_role("button", name="Check").click()
    refusal = page.locator("#answer").get_by_role("alert")
    refusal.wait_for()
    assert refusal.inner_text() == "Nothing matches what you entered. Check each detail and try again."

    page.get_by_label("Patient's family name").fill(member["family_name"])
    page.get_by_role("button", name="Check").click()
    answer = page.get_by_test_id("eligibility-answer")
    answer.wait_for()
    assert page.url == portal.url("/provider")  # htmx swapped the answer in place
    assert page.get_by_test_id("eligibility-status").inner_text() == "covered"
    assert answer.get_by_role("heading").inner_text() == "Covered"
    assert tab.axe() == []
    tab.shoot("eligibility")
    assert tab.csp_violations == []


def test_operations_redrives_a_dead_letter(visit, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    tab = visit("operations")
    tab.sign_in("admin")
    page = tab.page
    page.wait_for_url(portal.url("/ops"))
    page.goto(portal.url("/ops/dashboard"))
    assert int(page.get_by_test_id("dlq-total").inner_text()) >= 1
    assert page.locator("figure.chart svg").count() >= 4  # claims per day, ..., dead letters, consumer lag
    assert tab.axe() == []
    tab.shoot("dashboard")

    page.goto(portal.url("/ops/dlq"))
    letter = portal.seed["dead_letter"]
    redrive = page.locator(f'form[action="/ops/dlq/{letter}/redrive"] button')
    assert redrive.count() == 1
    assert tab.axe() == []
    tab.shoot("dead-letters")
    redrive.click()
    page.wait_for_url(f"**/ops/dlq?redriven={letter}")
    assert page.get_by_role("status").inner_text().startswith("Redriven")
    assert page.locator(f'form[action="/ops/dlq/{letter}/redrive"]').count() == 0
    assert tab.csp_violations == []


def test_member_views_a_claim_and_its_eob_and_uploads_a_reimbursement(visit, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    tab = visit("member-claims")
    tab.sign_in("member")
    page = tab.page
    page.wait_for_url(portal.url("/"))
    page.goto(portal.url("/claims"))
    claim = portal.seed["claims"]["visit"]
    assert page.locator(f'a[href="/claims/{claim}"]').count() == 1
    assert tab.axe() == []
    tab.shoot("claims")
    page.locator(f'a[href="/claims/{claim}"]').click()
    page.wait_for_url(f"**/claims/{claim}")
    totals = page.get_by_test_id("claim-totals").inner_text()
    assert "Billed\n150.00 USD" in totals
    assert page.get_by_test_id("claim-lines").locator("tbody tr").count() == 1
    assert tab.axe() == []
    tab.shoot("claim")
    eob = page.get_by_test_id("eob-link").get_attribute("href")
    assert eob == f"/api/v1/claims/{claim}/eob.pdf"
    pdf = page.request.get(portal.url(eob))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    page.goto(portal.url("/claims/reimbursement"))
    assert tab.axe() == []
    page.get_by_label("Where").select_option("11")
    page.get_by_label("Provider NPI").fill("1234567893")
    page.get_by_label("Date of service").fill(datetime.now(UTC).date().replace(day=1).isoformat())
    page.get_by_label("Procedure code").fill("99213")
    page.get_by_label("Diagnosis code").fill("J06.9")
    page.get_by_label("Amount paid, in dollars").fill("80.00")
    page.get_by_label("Bills and receipts").set_input_files(
        files=[{"name": "bill.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Send the claim").click()
    result = page.get_by_test_id("reimbursement-result")
    result.wait_for()
    assert result.inner_text().startswith("Your claim and 1 document were received.")
    assert tab.axe() == []
    tab.shoot("reimbursement-sent")
    assert tab.csp_violations == []


def test_operations_reviews_and_approves_a_pended_claim(visit, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    tab = visit("review")
    tab.sign_in("examiner")
    page = tab.page
    page.wait_for_url(portal.url("/ops"))
    claim = portal.seed["claims"]["pended"]
    page.goto(portal.url("/ops/claims"))
    link = page.locator(f'a[href="/ops/claims/{claim}"]')
    assert link.count() == 1
    assert tab.axe() == []
    tab.shoot("review-queue")
    link.click()
    page.wait_for_url(f"**/ops/claims/{claim}")
    assert page.get_by_test_id("trace-1").locator("tbody tr").count() >= 3
    assert tab.axe() == []
    tab.shoot("review-claim")
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Reason (CARC, e.g. 15, 50, 45)").fill("15")
    page.get_by_label("Note").fill("bill checked against the receipt")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**?decided=1")
    assert page.get_by_test_id("decision-saved").inner_text() == "Decision on line 1 recorded."
    assert page.get_by_test_id("claim-status").inner_text() in ("approved", "partially approved", "denied")
    assert tab.csp_violations == []


def test_provider_uploads_an_837(visit, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    from olly.edi.testing import professional_claims_text

    tab = visit("provider-837")
    tab.sign_in("provider")
    page = tab.page
    page.wait_for_url(portal.url("/provider"))
    page.goto(portal.url("/provider/claims/837"))
    assert tab.axe() == []
    # The generated claim names the seeded member (number, name, birth date), as claims intake matches
    # a patient by all three before it accepts a claim.
    member = portal.seed["member"]
    given = member["name"].split(" ")[0]
    text = (
        professional_claims_text(1)
        .replace(
            "NM1*IL*1*DOE*JANE****MI*M000000000",
            f"NM1*IL*1*{member['family_name'].upper()}*{given.upper()}****MI*{member['member_number']}",
        )
        .replace("DMG*D8*19800101*F", f"DMG*D8*{member['birth_date'].replace('-', '')}*F")
    )
    page.get_by_label("X12 837 file").set_input_files(
        files=[{"name": "claims.837", "mimeType": "text/plain", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Send").click()
    outcome = page.get_by_test_id("edi-outcome")
    outcome.wait_for()
    assert page.get_by_test_id("ack-999").inner_text().startswith("ISA*")
    assert page.get_by_test_id("ack-277CA").inner_text().startswith("ISA*")
    assert page.get_by_test_id("claims-accepted").inner_text() == "1"
    assert tab.axe() == []
    tab.shoot("837-outcome")
    page.goto(portal.url("/provider/claims"))
    assert tab.axe() == []
    tab.shoot("provider-claims")
    assert tab.csp_violations == []
