"""Browser journeys through the portals, with screenshots at phone and desktop width and an
axe-core accessibility check (no serious or critical violation) on the main pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.e2e.conftest import Portal

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
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
            code = pyotp.TOTP(seed["totp"][who]).at(datetime.now(UTC))
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

    page.goto(portal.url("/claims"))
    assert "Not available yet." in page.locator("main").inner_text()
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
    assert page.locator("figure.chart svg").count() == 2
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
